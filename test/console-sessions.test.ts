/**
 * The operator console's sessions (gateway/console/sessions.ts) and its sign-in route: the cookie's
 * attributes, `Secure` exactly when the browser is on HTTPS (TLS here, or a trusted proxy's
 * X-Forwarded-Proto), and sessions that stop being valid when tampered with, expired, or signed
 * with another admin secret.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it, test, vi } from 'vitest';
import { consoleRoutes } from '../gateway/console/routes.ts';
import { createConsoleSessions } from '../gateway/console/sessions.ts';
import { parseTrustedProxies } from '../gateway/http/client-ip.ts';
import { createLogger } from '../gateway/logger.ts';

const SECRET = 'console-sessions-admin-secret';

describe('console sessions', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('issues an HttpOnly, SameSite=Strict cookie for the lifetime, Secure only when asked', async () => {
    const sessions = createConsoleSessions(SECRET, 3600);
    const plain = await sessions.issue(false);
    expect(plain.cookie).toMatch(
      /^plugboard_console=[\w-]+\.[\w-]+\.[\w-]+; Max-Age=3600; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    expect((await sessions.issue(true)).cookie).toMatch(/; HttpOnly; Secure; SameSite=Strict$/);
    expect(await sessions.read(plain.cookie.split(';', 1)[0])).toEqual({
      csrfToken: plain.csrfToken,
      expiresAt: plain.expiresAt,
    });
    expect(sessions.clear(false)).toMatch(/^plugboard_console=; Max-Age=0;/);
  });

  test.each([
    ['a tampered token', (cookie: string) => `${cookie.slice(0, -2)}xx`, SECRET],
    ['another admin secret', (cookie: string) => cookie, 'another-admin-secret-0123'],
    ['no cookie of its name', () => 'other=1', SECRET],
  ])('reads nothing from %s', async (_case, alter, readWith) => {
    const cookie = (await createConsoleSessions(SECRET, 3600).issue(false)).cookie.split(';', 1)[0]!;
    expect(await createConsoleSessions(readWith, 3600).read(alter(cookie))).toBeNull();
  });

  it('reads nothing once the session has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-05T10:00:00Z'));
    const sessions = createConsoleSessions(SECRET, 60);
    const cookie = (await sessions.issue(false)).cookie.split(';', 1)[0]!;
    vi.setSystemTime(new Date('2026-12-05T10:00:59Z'));
    expect(await sessions.read(cookie)).not.toBeNull();
    vi.setSystemTime(new Date('2026-12-05T10:01:01Z'));
    expect(await sessions.read(cookie)).toBeNull();
  });
});

describe('POST /console/session behind a proxy', () => {
  const servers: Server[] = [];
  /** A server answering the console's routes, trusting `proxies` for X-Forwarded-*. */
  const serve = async (proxies: string) => {
    const [route] = consoleRoutes({
      sessions: createConsoleSessions(SECRET, 3600),
      adminSecret: SECRET,
      trustedProxies: parseTrustedProxies(proxies),
      log: createLogger('silent'),
    });
    const server = createServer((request, response) => void route!.handler(request, response, null));
    servers.push(server);
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const signIn = (url: string) =>
    fetch(`${url}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ secret: SECRET }),
    });

  afterAll(() => {
    for (const server of servers) server.close();
  });

  it("marks the cookie Secure on a trusted proxy's https, and not on anyone else's say-so", async () => {
    const trusted = await signIn(await serve('127.0.0.1'));
    expect(trusted.status).toBe(200);
    expect(trusted.headers.get('set-cookie')).toMatch(/; Secure;/);
    const untrusted = await signIn(await serve(''));
    expect(untrusted.status).toBe(200);
    expect(untrusted.headers.get('set-cookie')).not.toMatch(/Secure/);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../gateway/db.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { ECHO_API_KEY } from './support/gateway.ts';
import { type ServingGateway, serveGateway } from './support/processes.ts';
import { ADMIN_SECRET, JWT_SECRET, signToken } from './support/tokens.ts';
import { connectWs } from './support/ws-client.ts';

describe('graceful shutdown on SIGTERM', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('finishes in-flight requests, closes sockets with 1001, refuses new work, exits 0', async () => {
    const gateway = await serveGateway({
      DATABASE_URL: db.url,
      ECHO_API_KEY,
      PLUGBOARD_JWT_SECRET: JWT_SECRET,
      PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
    });
    const token = await signToken({ userId: 'u' });
    const ws = connectWs(`${gateway.url.replace('http', 'ws')}/graphql`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await ws.connected;

    const slow = fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ echoSlow(ms: 1500) }' }),
    });
    // Barrier: the resolver has started (it logs so), so the request is in flight at SIGTERM.
    await expect.poll(() => gateway.output(), { timeout: 5000 }).toContain('echoSlow started');
    const exited = gateway.stop('SIGTERM');

    expect(await ws.closed).toEqual({ code: 1001, reason: 'Going away' });
    const response = await slow;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { echoSlow: 'slept 1500' } });
    expect(await exited, gateway.output()).toBe(0);
    await expect(fetch(`${gateway.url}/healthz`)).rejects.toThrow();
    expect(gateway.output()).toMatch(/"msg":"shutdown complete"/);
  });

  it('drains first: /readyz 503 while requests and sockets are still served for PLUGBOARD_SHUTDOWN_DELAY_MS', async () => {
    const delayMs = 2000;
    const gateway = await serveGateway({
      DATABASE_URL: db.url,
      ECHO_API_KEY,
      PLUGBOARD_JWT_SECRET: JWT_SECRET,
      PLUGBOARD_SHUTDOWN_DELAY_MS: String(delayMs),
    });
    const ws = connectWs(`${gateway.url.replace('http', 'ws')}/graphql`, {
      headers: { authorization: `Bearer ${await signToken({ userId: 'u' })}` },
    });
    await ws.connected;
    let closedAt = 0;
    void ws.closed.then(() => (closedAt = Date.now()));
    const signalledAt = Date.now();
    const exited = gateway.stop('SIGTERM');

    await expect.poll(async () => (await fetch(`${gateway.url}/readyz`)).status, { timeout: 1500 }).toBe(503);
    // Still serving while it drains: a new request on a new connection, and the open socket.
    const during = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ query: '{ plugins { name } }' }),
    });
    expect(during.status).toBe(200);
    expect(closedAt).toBe(0);
    expect(await ws.subscribe('{ viewer { userId } }').next()).toEqual({ data: { viewer: { userId: 'u' } } });

    expect(await ws.closed).toEqual({ code: 1001, reason: 'Going away' });
    expect(closedAt - signalledAt).toBeGreaterThanOrEqual(delayMs - 50);
    expect(await exited, gateway.output()).toBe(0);
    expect(gateway.output()).toMatch(/"delayMs":2000[^\n]*"msg":"draining: \/readyz answers 503, still serving"/);
  });
});

describe('embedded Postgres (no DATABASE_URL)', () => {
  let dataDir: string;
  beforeAll(async () => {
    // The data dir lives one level below the temp dir, which mkdtemp makes 0700.
    const parent = await mkdtemp(join(tmpdir(), 'plugboard-embedded-'));
    await chmod(parent, 0o755);
    dataDir = join(parent, 'data');
  });
  /** Every gateway started here: one a failed assertion left running is killed after the test. */
  const started: ServingGateway[] = [];
  const serve = async (env: Record<string, string>) => {
    const gateway = await serveGateway(env);
    started.push(gateway);
    return gateway;
  };
  afterAll(async () => {
    for (const gateway of started) if (gateway.child.exitCode === null) await gateway.stop('SIGKILL');
    // A gateway killed that way leaves its embedded Postgres behind: stop it too.
    const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
    if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGQUIT');
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('initialises a real Postgres under the data dir, serves, and stops it on SIGTERM', async () => {
    const env = { PLUGBOARD_DATA_DIR: dataDir, ECHO_API_KEY, PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET };
    const first = await serve(env);
    expect(first.output()).toMatch(/"initialised":true[^\n]*"msg":"embedded Postgres started"/);
    const ready = await (await fetch(`${first.url}/readyz`)).json();
    expect(ready).toMatchObject({
      status: 'ok',
      checks: { postgres: { ok: true }, migrations: { ok: true, applied: 10 } },
    });
    const write = await fetch(`${first.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET },
      body: JSON.stringify({ query: 'mutation { echo(body: "kept") { id } }' }),
    });
    expect(write.status).toBe(200);
    const postgresPid = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(isAlive(postgresPid)).toBe(true);
    expect(await first.stop('SIGTERM'), first.output()).toBe(0);
    expect(isAlive(postgresPid)).toBe(false);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);

    // A later start reuses the data dir: no initdb, and the data is still there.
    const second = await serve(env);
    expect(second.output()).toMatch(/"initialised":false[^\n]*"msg":"embedded Postgres started"/);
    const count = await fetch(`${second.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET },
      body: JSON.stringify({ query: '{ echoCount }' }),
    });
    expect(await count.json()).toEqual({ data: { echoCount: 1 } });

    // Killed without shutdown: the next start adopts the Postgres left running, then stops it.
    const orphanPid = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    await second.stop('SIGKILL');
    const third = await serve(env);
    expect(third.output()).toMatch(/adopting an embedded Postgres left running by an earlier process/);
    expect(await third.stop('SIGTERM'), third.output()).toBe(0);
    expect(isAlive(orphanPid)).toBe(false);
  }, 120_000);
});

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientAddress, parseTrustedProxies } from '../gateway/http/client-ip.ts';
import { loadGatewaySettings } from '../gateway/config/settings.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import { connectWs, type TestSubscription } from './support/ws-client.ts';

let db: TestDatabase;
let gateway: TestGateway;

beforeAll(async () => {
  db = await createTestDatabase();
  gateway = await startTestGateway({ databaseUrl: db.url });
});
afterAll(async () => {
  await gateway?.close();
  await db?.drop();
});

describe('graphql-ws on /graphql', () => {
  it('authenticates connection_init (Hasura headers form) and delivers subscription events', async () => {
    const token = await signToken({ userId: 'watcher' });
    const ws = connectWs(gateway.wsUrl, { headers: { Authorization: `Bearer ${token}` } });
    await ws.connected;
    const subscription = ws.subscribe<{ echoed: { body: string; author: string | null } }>(
      'subscription { echoed { body author } }',
    );
    const first = subscription.next();
    let delivered = false;
    void first.then(() => (delivered = true));
    const writer = await signToken({ userId: 'writer' });
    // The subscribe round trip is not acknowledged: write until the subscription has an event.
    await vi.waitFor(
      async () => {
        await gateway.gql('mutation { echo(body: "over the wire") { id } }', {
          headers: { authorization: `Bearer ${writer}` },
        });
        expect(delivered).toBe(true);
      },
      { timeout: 5000, interval: 100 },
    );
    expect(await first).toEqual({ data: { echoed: { body: 'over the wire', author: 'writer' } } });
    subscription.dispose();
    await ws.client.dispose();
  });

  it('accepts flat connection params and runs queries too', async () => {
    const ws = connectWs(gateway.wsUrl, { 'x-hasura-admin-secret': ADMIN_SECRET });
    const result = ws.subscribe<{ viewer: { role: string } }>('{ viewer { role } }');
    expect(await result.next()).toEqual({ data: { viewer: { role: 'admin' } } });
    await ws.client.dispose();
  });

  it('closes the socket with 4403 and the reason for an invalid token', async () => {
    const forged = await signToken(
      { userId: 'x' },
      new TextEncoder().encode('not-the-gateway-secret-0123456789abcdef'),
    );
    const ws = connectWs(gateway.wsUrl, { headers: { authorization: `Bearer ${forged}` } });
    expect(await ws.closed).toEqual({ code: 4403, reason: 'Token signature is invalid' });
  });

  it('closes with 4403 for a wrong admin secret', async () => {
    const ws = connectWs(gateway.wsUrl, { headers: { 'x-hasura-admin-secret': 'nope' } });
    expect(await ws.closed).toEqual({ code: 4403, reason: 'Invalid x-hasura-admin-secret' });
  });

  it('denies a subscription field by scope with FORBIDDEN', async () => {
    const ws = connectWs(gateway.wsUrl, {});
    const subscription = ws.subscribe('subscription { echoed { body } }');
    const result = await subscription.next();
    expect(result.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    await ws.client.dispose();
  });

  it('answers parse, validation and limit errors with codes', async () => {
    const ws = connectWs(gateway.wsUrl, {});
    expect((await ws.subscribe('{ viewer { role ').next()).errors?.[0]?.extensions?.['code']).toBe(
      'GRAPHQL_PARSE_FAILED',
    );
    expect((await ws.subscribe('{ viewr }').next()).errors?.[0]?.extensions?.['code']).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    );
    const deep = `{ ${'viewer { '.repeat(20)}role${' }'.repeat(20)} }`;
    const errors = (await ws.subscribe(deep).next()).errors ?? [];
    expect(errors.map((e) => e.extensions?.['code'])).toContain('QUERY_TOO_COMPLEX');
    await ws.client.dispose();
  });
});

/** The next value, or a failure after `ms` (the operation was never answered). */
async function within<T>(subscription: TestSubscription<T>, ms = 3000): Promise<T> {
  return Promise.race([
    subscription.next(),
    sleep(ms).then(() => Promise.reject(new Error(`no answer within ${ms} ms`))),
  ]);
}

describe('a socket ends with its token', () => {
  it('closes the socket with 4403 "Token expired" when the token\'s exp passes, though it queried and mutated before', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await signToken({ userId: 'short-lived', expiresIn: exp });
    const ws = connectWs(gateway.wsUrl, { Authorization: `Bearer ${token}` });
    let closed: { code: number; reason: string; at: number } | undefined;
    void ws.closed.then((event) => (closed = { ...event, at: Date.now() }));
    await ws.connected;
    expect(await within(ws.subscribe('{ viewer { userId } }'))).toEqual({
      data: { viewer: { userId: 'short-lived' } },
    });
    expect(
      (await within(ws.subscribe<{ echo: { id: string } }>('mutation { echo(body: "before exp") { id } }'))).data?.echo
        .id,
    ).toBeDefined();
    const feed = ws.subscribe('subscription { echoed { body } }');

    await vi.waitFor(() => expect(closed).toMatchObject({ code: 4403, reason: 'Token expired' }), {
      timeout: 6000,
      interval: 50,
    });
    expect(closed!.at).toBeGreaterThanOrEqual(exp * 1000);
    // HTTP agrees, and the subscription that was running ended with the socket.
    expect((await gateway.gql('{ viewer { userId } }', { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      401,
    );
    expect((await within(feed)).errors).toBeDefined();
  });

  it("refuses a subscribe after the token's exp with UNAUTHENTICATED and closes the socket with 4403", async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const token = await signToken({ userId: 'late', expiresIn: exp });
    const ws = connectWs(gateway.wsUrl, { Authorization: `Bearer ${token}` });
    await ws.connected;
    expect(await within(ws.subscribe('{ viewer { userId } }'))).toEqual({ data: { viewer: { userId: 'late' } } });
    // The clock moves past exp before the socket's close timer has run (as under load): the
    // subscribe itself is checked. Only Date is faked; the sockets and timers are real.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(exp * 1000 + 1000);
      const refused = await within(ws.subscribe('mutation { echo(body: "after exp") { id } }'));
      expect(refused.errors).toEqual([
        expect.objectContaining({ message: 'Token expired', extensions: { code: 'UNAUTHENTICATED' } }),
      ]);
      expect(await ws.closed).toEqual({ code: 4403, reason: 'Token expired' });
    } finally {
      vi.useRealTimers();
    }
    const { body } = await gateway.gql('{ echoMessages(first: 50) { edges { node { body } } } }');
    expect(JSON.stringify(body)).not.toContain('after exp');
  });
});

describe('operations in flight per socket', () => {
  it('refuses the operation over PLUGBOARD_MAX_OPERATIONS_PER_SOCKET (100) with TOO_MANY_OPERATIONS, and frees a slot when one ends', async () => {
    const token = await signToken({ userId: 'hoarder' });
    const ws = connectWs(gateway.wsUrl, { Authorization: `Bearer ${token}` });
    await ws.connected;
    // Refused and finished operations hold no slot.
    for (let i = 0; i < 20; i++) {
      expect((await within(ws.subscribe('{ viewer { role '))).errors?.[0]?.extensions?.['code']).toBe(
        'GRAPHQL_PARSE_FAILED',
      );
      expect(
        (await within(ws.subscribe('subscription Named { echoed { body } }', {}, 'Missing'))).errors,
      ).toBeDefined();
      expect(await within(ws.subscribe('{ viewer { userId } }'))).toEqual({ data: { viewer: { userId: 'hoarder' } } });
    }
    const held = Array.from({ length: 100 }, () =>
      ws.subscribe<{ echoed: { body: string } }>('subscription { echoed { body } }'),
    );
    const refused = await within(ws.subscribe('subscription { echoed { body } }'));
    expect(refused.errors).toEqual([expect.objectContaining({ extensions: { code: 'TOO_MANY_OPERATIONS' } })]);
    expect(refused.errors?.[0]?.message).toContain('PLUGBOARD_MAX_OPERATIONS_PER_SOCKET=100');
    expect((await within(ws.subscribe('{ viewer { userId } }'))).errors?.[0]?.extensions?.['code']).toBe(
      'TOO_MANY_OPERATIONS',
    );

    // The socket stays open and the 100 still deliver.
    await gateway.gql('mutation { echo(body: "to the hoard") { id } }', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await within(held[99]!)).toEqual({ data: { echoed: { body: 'to the hoard' } } });
    // Completing one frees its slot.
    held[0]!.dispose();
    await vi.waitFor(
      async () =>
        expect(await within(ws.subscribe('{ viewer { userId } }'))).toEqual({
          data: { viewer: { userId: 'hoarder' } },
        }),
      { timeout: 3000, interval: 20 },
    );
    await ws.client.dispose();
  });
});

describe('client address', () => {
  const trusted = parseTrustedProxies('10.0.0.0/8, 192.0.2.1, fd00::/8');
  it.each([
    [
      'no trusted proxies: the peer, X-Forwarded-For ignored',
      '198.51.100.7',
      '203.0.113.9',
      parseTrustedProxies(''),
      '198.51.100.7',
    ],
    ['an untrusted peer: X-Forwarded-For ignored', '198.51.100.7', '203.0.113.9', trusted, '198.51.100.7'],
    ['a trusted proxy: the address it saw', '10.1.2.3', '203.0.113.9', trusted, '203.0.113.9'],
    ['a trusted proxy without X-Forwarded-For: the proxy', '10.1.2.3', undefined, trusted, '10.1.2.3'],
    [
      'a chain: the rightmost address not a trusted proxy',
      '10.1.2.3',
      '1.1.1.1, 203.0.113.9, 192.0.2.1',
      trusted,
      '203.0.113.9',
    ],
    ['every hop trusted: the leftmost', '10.1.2.3', '10.9.9.9, 192.0.2.1', trusted, '10.9.9.9'],
    ['a malformed hop: the last trusted hop that named it', '10.1.2.3', '203.0.113.9, not-an-ip', trusted, '10.1.2.3'],
    ['IPv4-mapped IPv6 peers are IPv4', '::ffff:10.1.2.3', '::ffff:203.0.113.9', trusted, '203.0.113.9'],
    ['IPv6 proxies', 'fd12::1', '2001:db8::5', trusted, '2001:db8::5'],
  ])('%s', (_name, peer, forwardedFor, proxies, expected) => {
    expect(clientAddress(peer, forwardedFor, proxies)).toBe(expected);
  });

  it.each(['10.0.0.0/33', 'example.com', '10.0.0.1/', '::1/129'])(
    'refuses PLUGBOARD_TRUSTED_PROXIES=%s naming the variable',
    (value) => {
      expect(() => loadGatewaySettings({ PLUGBOARD_TRUSTED_PROXIES: value })).toThrow(
        /PLUGBOARD_TRUSTED_PROXIES \(gateway\)/,
      );
    },
  );
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import { connectWs } from './support/ws-client.ts';

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
    const subscription = ws.subscribe<{ echoed: { body: string; author: string | null } }>('subscription { echoed { body author } }');
    // The in-process pubsub registers synchronously; give the subscribe round trip a moment.
    await new Promise((r) => setTimeout(r, 100));
    const writer = await signToken({ userId: 'writer' });
    await gateway.gql('mutation { echo(body: "over the wire") { id } }', { headers: { authorization: `Bearer ${writer}` } });
    expect(await subscription.next()).toEqual({ data: { echoed: { body: 'over the wire', author: 'writer' } } });
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
    const forged = await signToken({ userId: 'x' }, new TextEncoder().encode('not-the-gateway-secret-0123456789abcdef'));
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
    expect((await ws.subscribe('{ viewer { role ').next()).errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_PARSE_FAILED');
    expect((await ws.subscribe('{ viewr }').next()).errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    const deep = '{ ' + 'viewer { '.repeat(20) + 'role' + ' }'.repeat(20) + ' }';
    const errors = (await ws.subscribe(deep).next()).errors ?? [];
    expect(errors.map((e) => e.extensions?.['code'])).toContain('QUERY_TOO_COMPLEX');
    await ws.client.dispose();
  });
});

/**
 * Two `plugboard serve` processes sharing Postgres and Redis behave as one: a user connected to
 * A and an observer on B see the same presence and typing, and when A is SIGKILLed its users turn
 * OFFLINE for observers on B once A's heartbeat is missed and the grace period is over.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { serveGateway, type ServingGateway } from './support/processes.ts';
import { JWT_SECRET, signToken } from './support/tokens.ts';
import { connectWs, nextMatching, type TestWsClient } from './support/ws-client.ts';

const GRACE_MS = 500;
const REAPER_MS = 300;
const TYPING_TTL_MS = 1500;
/** The Redis the instances share (global setup found it answering), or empty: then these tests are skipped. */
const REDIS_URL = inject('redisUrl');

let db: TestDatabase;
let a: ServingGateway;
let b: ServingGateway;
const clients: TestWsClient[] = [];

const bearer = async (userId: string) => `Bearer ${await signToken({ userId })}`;
const wsUrl = (gateway: ServingGateway) => `${gateway.url.replace(/^http/, 'ws')}/graphql`;

async function gql<T>(
  gateway: ServingGateway,
  userId: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: await bearer(userId) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data!;
}
async function connect(gateway: ServingGateway, userId: string): Promise<TestWsClient> {
  const ws = connectWs(wsUrl(gateway), { Authorization: await bearer(userId) });
  await ws.connected;
  clients.push(ws);
  return ws;
}
beforeAll(async () => {
  if (!REDIS_URL) return;
  db = await createTestDatabase();
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    PLUGBOARD_JWT_SECRET: JWT_SECRET,
    PLUGBOARD_PLUGINS: 'core,realtime',
    REALTIME_PRESENCE_GRACE_MS: String(GRACE_MS),
    REALTIME_REAPER_INTERVAL_MS: String(REAPER_MS),
    REALTIME_TYPING_TTL_MS: String(TYPING_TTL_MS),
  };
  [a, b] = await Promise.all([serveGateway(env), serveGateway(env)]);
}, 120_000);

afterAll(async () => {
  for (const ws of clients) await ws.client.dispose();
  await Promise.all([a?.stop('SIGKILL'), b?.stop()]);
  await db?.drop();
});

describe.skipIf(!REDIS_URL)('two gateway instances sharing Redis and Postgres', () => {
  it('forget a membership ended on the other instance: a member who left is refused at once, not after the cache lapses', async () => {
    const { createRoom } = await gql<{ createRoom: { id: string } }>(
      a,
      'alice',
      'mutation { createRoom(name: "left") { id } }',
    );
    const room = createRoom.id;
    await gql(a, 'carol:1', 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room });
    const typeOnB = async () => {
      const response = await fetch(`${b.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: await bearer('carol:1') },
        // The room id as a client may spell it: upper case.
        body: JSON.stringify({
          query: 'mutation($r: ID!) { startTyping(roomId: $r) }',
          variables: { r: room.toUpperCase() },
        }),
      });
      const body = (await response.json()) as { data?: unknown; errors?: { extensions: { code: string } }[] };
      return body.errors?.[0]?.extensions.code ?? 'OK';
    };
    // B checks the membership in Postgres once and keeps it (a minute).
    expect(await typeOnB()).toBe('OK');
    await gql(a, 'carol:1', 'mutation($r: ID!) { leaveRoom(roomId: $r) }', { r: room });
    await expect.poll(typeOnB, { timeout: 3000 }).toBe('FORBIDDEN');
  });

  it('show one presence and typing state, and reap the users of an instance that was SIGKILLed', async () => {
    const { createRoom } = await gql<{ createRoom: { id: string } }>(
      a,
      'alice',
      'mutation { createRoom(name: "shared") { id } }',
    );
    const room = createRoom.id;
    await gql(b, 'bob', 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room });

    const observer = await connect(b, 'alice');
    const presence = observer.subscribe<{ presence: { userId: string; status: string } }>(
      'subscription($r: ID!) { presence(roomId: $r) { userId status } }',
      { r: room },
    );

    // Bob connects to A; the observer on B sees him come online (live, or in the current state the
    // subscription starts with, should it be set up only after he connected).
    const bob = await connect(a, 'bob');
    await nextMatching(presence, (e) => e.data?.presence.userId === 'bob' && e.data.presence.status === 'ONLINE', 5000);

    // Bob types on A before anyone on B follows typing: B learns it from Redis.
    await gql(a, 'bob', 'mutation($r: ID!) { startTyping(roomId: $r) }', { r: room });
    const typing = observer.subscribe<{ typing: { userId: string; isTyping: boolean } }>(
      'subscription($r: ID!) { typing(roomId: $r) { userId isTyping } }',
      { r: room },
    );
    expect(await nextMatching(typing, () => true, 3000)).toEqual({
      data: { typing: { userId: 'bob', isTyping: true } },
    });
    // Typed again on A, over bob's socket there: B relays it, then B's own timer lapses it.
    expect(await bob.subscribe('mutation($r: ID!) { startTyping(roomId: $r) }', { r: room }).next()).toEqual({
      data: { startTyping: true },
    });
    expect(await nextMatching(typing, () => true, 3000)).toEqual({
      data: { typing: { userId: 'bob', isTyping: true } },
    });
    expect(await nextMatching(typing, () => true, TYPING_TTL_MS + 2000)).toEqual({
      data: { typing: { userId: 'bob', isTyping: false } },
    });

    // A dies without a word: B reaps its connections after two missed heartbeats, then the grace runs out.
    const killedAt = Date.now();
    await a.stop('SIGKILL');
    await nextMatching(
      presence,
      (e) => e.data?.presence.userId === 'bob' && e.data.presence.status === 'OFFLINE',
      GRACE_MS + 3 * REAPER_MS + 3000,
    );
    const took = Date.now() - killedAt;
    expect(took).toBeLessThanOrEqual(GRACE_MS + 3 * REAPER_MS + 3000);
    const { rows } = await db.pool.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM realtime.connections WHERE user_id = 'bob'",
    );
    expect(rows[0]!.count).toBe(0);
    presence.dispose();
    typing.dispose();
  });
});

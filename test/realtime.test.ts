/**
 * The realtime plugin through real graphql-ws clients over real sockets: rooms and membership,
 * presence on connect / disconnect / grace / reconnect, typing start / refresh / expiry / stop,
 * who may follow a room, rate limits, the connection cap, dead sockets reaped by ping/pong, and
 * the CLI. Multi-instance behaviour (Redis, SIGKILL) is in realtime-instances.test.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readConfig, type ConfigurationSpec } from '../gateway/config/variables.ts';
import type { PluginRuntime } from '../gateway/plugin/contract.ts';
import { readRealtimeConfig, type RealtimeConfig } from '../plugins/realtime/config.ts';
import type { EventLog } from '../plugins/realtime/events-log.ts';
import { PresenceTracker } from '../plugins/realtime/presence.ts';
import realtimeManifest from '../plugins/realtime/plugin.json' with { type: 'json' };
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { runCli } from './support/processes.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import { connectWs, nextMatching, nextWithin, type TestWsClient } from './support/ws-client.ts';

const GRACE_MS = 400;
const TYPING_TTL_MS = 500;

let db: TestDatabase;
let gateway: TestGateway;
const clients: TestWsClient[] = [];

const bearer = async (userId: string) => `Bearer ${await signToken({ userId })}`;

async function as<T = Record<string, unknown>>(userId: string, query: string, variables: Record<string, unknown> = {}) {
  const { body } = await gateway.gql(query, { variables, headers: { authorization: await bearer(userId) } });
  return body as { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}
async function ok<T = Record<string, unknown>>(
  userId: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const body = await as<T>(userId, query, variables);
  expect(body.errors).toBeUndefined();
  return body.data!;
}
async function connect(userId: string, url = gateway.wsUrl): Promise<TestWsClient> {
  const ws = connectWs(url, { Authorization: await bearer(userId) });
  await ws.connected;
  clients.push(ws);
  return ws;
}
const online = async (roomId: string, as_ = 'alice') =>
  (
    await ok<{ onlineMembers: { userId: string; status: string }[] }>(
      as_,
      'query($r: ID!) { onlineMembers(roomId: $r) { userId status } }',
      { r: roomId },
    )
  ).onlineMembers.map((p) => p.userId);

type Presence = { presence: { userId: string; status: string; customStatus: string | null } };
type Typing = { typing: { userId: string; isTyping: boolean; expiresAt: string } };

let room: string;

beforeAll(async () => {
  db = await createTestDatabase();
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: {
      REALTIME_PRESENCE_GRACE_MS: String(GRACE_MS),
      REALTIME_TYPING_TTL_MS: String(TYPING_TTL_MS),
      REALTIME_REAPER_INTERVAL_MS: '200',
      REALTIME_PING_INTERVAL: '100',
      REALTIME_PING_TIMEOUT: '200',
      REALTIME_RATE_LIMIT: '5',
    },
  });
  room = (await ok<{ createRoom: { id: string } }>('alice', 'mutation { createRoom(name: "general") { id } }'))
    .createRoom.id;
  for (const user of ['bob', 'carol']) await ok(user, 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room });
});

afterAll(async () => {
  for (const ws of clients) await ws.client.dispose();
  await gateway?.close();
  await db?.drop();
});

describe('rooms', () => {
  it('lets anyone join a public room, and only invitees a private one', async () => {
    const { createRoom } = await ok<{ createRoom: { id: string; isPrivate: boolean; myRole: string } }>(
      'carol',
      'mutation { createRoom(name: "secret", isPrivate: true) { id isPrivate myRole } }',
    );
    expect(createRoom).toMatchObject({ isPrivate: true, myRole: 'owner' });
    const join = 'mutation($r: ID!) { joinRoom(roomId: $r) { id myRole } }';
    const refused = await as('dave', join, { r: createRoom.id });
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(
      (await as('dave', 'query($r: ID!) { room(id: $r) { id } }', { r: createRoom.id })).errors?.[0]?.extensions?.[
        'code'
      ],
    ).toBe('FORBIDDEN');

    // A plain member of a private room may not invite; the owner may.
    expect(
      (
        await ok<{ inviteToRoom: boolean }>('carol', 'mutation($r: ID!) { inviteToRoom(roomId: $r, userId: "dave") }', {
          r: createRoom.id,
        })
      ).inviteToRoom,
    ).toBe(true);
    expect(
      (
        await ok<{ room: { id: string; myRole: null } }>('dave', 'query($r: ID!) { room(id: $r) { id myRole } }', {
          r: createRoom.id,
        })
      ).room.myRole,
    ).toBeNull();
    expect((await ok<{ joinRoom: { myRole: string } }>('dave', join, { r: createRoom.id })).joinRoom.myRole).toBe(
      'member',
    );
    expect(
      (await as('dave', 'mutation($r: ID!) { inviteToRoom(roomId: $r, userId: "erin") }', { r: createRoom.id }))
        .errors?.[0]?.extensions?.['code'],
    ).toBe('FORBIDDEN');

    const mine = await ok<{ myRooms: { edges: { node: { id: string; name: string } }[] } }>(
      'dave',
      '{ myRooms(first: 10) { edges { node { id name } } } }',
    );
    expect(mine.myRooms.edges.map((e) => e.node.name)).toEqual(['secret']);
    expect(
      (await ok<{ leaveRoom: boolean }>('dave', 'mutation($r: ID!) { leaveRoom(roomId: $r) }', { r: createRoom.id }))
        .leaveRoom,
    ).toBe(true);
    expect(
      (await ok<{ leaveRoom: boolean }>('dave', 'mutation($r: ID!) { leaveRoom(roomId: $r) }', { r: createRoom.id }))
        .leaveRoom,
    ).toBe(false);
    // The invitation was used up.
    expect((await as('dave', join, { r: createRoom.id })).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('answers bad room ids and anonymous callers with clear errors', async () => {
    expect((await as('alice', '{ room(id: "not-a-uuid") { id } }')).errors?.[0]?.extensions?.['code']).toBe(
      'BAD_USER_INPUT',
    );
    const { body } = await gateway.gql('mutation { createRoom(name: "x") { id } }');
    expect(body.errors?.[0]?.extensions?.['code']).toMatch(/FORBIDDEN|UNAUTHENTICATED/);
    expect((await as('alice', 'mutation { createRoom(name: "   ") { id } }')).errors?.[0]?.extensions?.['code']).toBe(
      'BAD_USER_INPUT',
    );
  });
});

describe('presence', () => {
  it('turns a user ONLINE on their first connection, OFFLINE after the grace period, and keeps quiet over a quick reconnect', async () => {
    const alice = await connect('alice');
    await expect.poll(() => online(room), { timeout: 5000 }).toContain('alice');
    const feed = alice.subscribe<Presence>(
      'subscription($r: ID!) { presence(roomId: $r) { userId status customStatus } }',
      { r: room },
    );
    // The current state first: alice herself is online.
    expect(await nextMatching(feed, (e) => e.data?.presence.userId === 'alice')).toEqual({
      data: { presence: { userId: 'alice', status: 'ONLINE', customStatus: null } },
    });

    const bob = await connect('bob');
    expect((await nextMatching(feed, (e) => e.data?.presence.userId === 'bob')).data?.presence.status).toBe('ONLINE');

    // A second connection of bob changes nothing; closing one of two changes nothing either.
    const bobAgain = await connect('bob');
    await bobAgain.client.dispose();

    // Reconnect inside the grace period: nothing is published for bob.
    await bob.client.dispose();
    const bobBack = await connect('bob');
    // Kept: the grace period must run out before the marker below, or an OFFLINE for bob could
    // still follow it. Carol's change then is the barrier: the next event, nothing for bob before it.
    await sleep(GRACE_MS * 2);
    await ok('carol', 'mutation { setPresence(status: AWAY, customStatus: "lunch") { status } }');
    expect(await nextWithin(feed)).toEqual({
      data: { presence: { userId: 'carol', status: 'AWAY', customStatus: 'lunch' } },
    });

    // Gone for good: OFFLINE once the grace period is over.
    const closedAt = Date.now();
    await bobBack.client.dispose();
    expect(
      (await nextMatching(feed, (e) => e.data?.presence.userId === 'bob', GRACE_MS + 3000)).data?.presence.status,
    ).toBe('OFFLINE');
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(GRACE_MS - 50);
    expect(await online(room)).not.toContain('bob');

    const { presenceOf } = await ok<{ presenceOf: { userId: string; status: string; lastSeen: string | null }[] }>(
      'alice',
      '{ presenceOf(userIds: ["bob", "carol"]) { userId status lastSeen } }',
    );
    expect(presenceOf.map((p) => [p.userId, p.status])).toEqual([
      ['bob', 'OFFLINE'],
      ['carol', 'AWAY'],
    ]);
    expect(presenceOf[0]!.lastSeen).not.toBeNull();
    feed.dispose();
  });

  it('reaps a socket that stops answering pings, and the user turns OFFLINE', async () => {
    const observer = await connect('alice');
    const feed = observer.subscribe<Presence>('subscription($r: ID!) { presence(roomId: $r) { userId status } }', {
      r: room,
    });
    // A client that never answers pings (autoPong off), speaking graphql-ws by hand.
    const mute = new WebSocket(gateway.wsUrl, 'graphql-transport-ws', { autoPong: false });
    await new Promise((resolve) => mute.once('open', resolve));
    mute.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: await bearer('carol') } }));
    const closed = new Promise<number>((resolve) => mute.once('close', resolve));
    await nextMatching(feed, (e) => e.data?.presence.userId === 'carol' && e.data.presence.status !== 'OFFLINE');
    expect(await Promise.race([closed, sleep(3000).then(() => 'still open')])).toBe(1006); // terminated
    expect(
      (
        await nextMatching(
          feed,
          (e) => e.data?.presence.userId === 'carol' && e.data.presence.status === 'OFFLINE',
          GRACE_MS + 3000,
        )
      ).data?.presence.status,
    ).toBe('OFFLINE');
    feed.dispose();
  });
});

describe('a presence event shared by its subscribers', () => {
  it('gives each subscriber its own selection, role and room', async () => {
    const other = (await ok<{ createRoom: { id: string } }>('bob', 'mutation { createRoom(name: "elsewhere") { id } }'))
      .createRoom.id;
    const [alice, bob] = [await connect('alice'), await connect('bob')];
    const admin = connectWs(gateway.wsUrl, { 'x-hasura-admin-secret': ADMIN_SECRET });
    await admin.connected;
    clients.push(admin);
    const full = 'subscription($r: ID!) { presence(roomId: $r) { userId status customStatus } }';
    const idsOnly = 'subscription($r: ID!) { presence(roomId: $r) { userId } }';
    const feeds = {
      alice: alice.subscribe<Presence>(full, { r: room }),
      bob: bob.subscribe<{ presence: { userId: string } }>(idsOnly, { r: room }),
      admin: admin.subscribe<Presence>(full, { r: room }),
      elsewhere: bob.subscribe<Presence>(full, { r: other }),
    };
    await ok('carol', 'mutation { setPresence(status: BUSY, customStatus: "shared") { status } }');
    const carols = (e: { data?: { presence: { userId: string } } }) => e.data?.presence.userId === 'carol';
    const expected = { userId: 'carol', status: 'BUSY', customStatus: 'shared' };
    expect((await nextMatching(feeds.alice, carols)).data?.presence).toEqual(expected);
    expect((await nextMatching(feeds.admin, carols)).data?.presence).toEqual(expected);
    expect((await nextMatching(feeds.bob, carols)).data?.presence).toEqual({ userId: 'carol' });
    // Carol is not in the other room: all it sees up to bob's own change there is bob's.
    await ok('bob', 'mutation { setPresence(status: AWAY) { status } }');
    for (let event = await nextWithin(feeds.elsewhere); ; event = await nextWithin(feeds.elsewhere)) {
      expect(event.data?.presence.userId).toBe('bob');
      if (event.data?.presence.status === 'AWAY') break;
    }
    for (const feed of Object.values(feeds)) feed.dispose();
    await ok('carol', 'mutation { setPresence(status: ONLINE) { status } }');
    await ok('bob', 'mutation { setPresence(status: ONLINE) { status } }');
  });
});

describe('typing', () => {
  it('publishes start, refresh, expiry and stop, and a late follower starts with who is typing', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const feed = alice.subscribe<Typing>('subscription($r: ID!) { typing(roomId: $r) { userId isTyping expiresAt } }', {
      r: room,
    });
    const start = 'mutation($r: ID!) { startTyping(roomId: $r) }';
    const typed = bob.subscribe(start, { r: room });
    expect(await typed.next()).toEqual({ data: { startTyping: true } });
    const first = (await nextMatching(feed, (e) => e.data?.typing.userId === 'bob')).data!.typing;
    expect(first.isTyping).toBe(true);
    expect(Date.parse(first.expiresAt) - Date.now()).toBeGreaterThan(TYPING_TTL_MS / 2);

    // A late follower sees bob typing at once.
    const carol = await connect('carol');
    const late = carol.subscribe<Typing>('subscription($r: ID!) { typing(roomId: $r) { userId isTyping } }', {
      r: room,
    });
    expect(await nextWithin(late)).toEqual({ data: { typing: { userId: 'bob', isTyping: true } } });

    // A refresh inside the TTL moves the expiry and keeps the indicator on past the first expiry.
    // Kept: half the TTL passes on purpose, so the refresh lands inside it.
    await sleep(TYPING_TTL_MS / 2);
    await ok('bob', start, { r: room });
    // Skips a second copy of the first start (the feed may have begun with the current state just as it was published).
    const refreshed = (
      await nextMatching(feed, (e) => Date.parse(e.data!.typing.expiresAt) > Date.parse(first.expiresAt))
    ).data!.typing;
    expect(refreshed.isTyping).toBe(true);
    expect(Date.parse(refreshed.expiresAt)).toBeGreaterThan(Date.parse(first.expiresAt));
    // No refresh: it lapses after the TTL and the expiry is published.
    const lapsed = (await nextWithin(feed, TYPING_TTL_MS + 2000)).data!.typing;
    expect(lapsed).toMatchObject({ userId: 'bob', isTyping: false });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(refreshed.expiresAt) - 20);

    await ok('bob', start, { r: room });
    expect((await nextWithin(feed)).data!.typing.isTyping).toBe(true);
    await ok('bob', 'mutation($r: ID!) { stopTyping(roomId: $r) }', { r: room });
    expect((await nextWithin(feed)).data!.typing).toMatchObject({ userId: 'bob', isTyping: false });
    feed.dispose();
    late.dispose();
  });

  it('limits typing and presence changes per connection', async () => {
    const bob = await connect('bob');
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        bob.subscribe<{ startTyping: boolean }>('mutation($r: ID!) { startTyping(roomId: $r) }', { r: room }).next(),
      ),
    );
    const limited = results.filter((r) => r.errors?.[0]?.extensions?.['code'] === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThanOrEqual(12 - 5);
    expect(results.filter((r) => r.data?.startTyping === true).length).toBeLessThanOrEqual(5);
  });

  it('sheds startTyping, never setPresence, while the event loop lags past PLUGBOARD_SHED_LAG_MS', async () => {
    const carol = await connect('carol');
    const startTyping = () =>
      carol.subscribe<{ startTyping: boolean }>('mutation($r: ID!) { startTyping(roomId: $r) }', { r: room }).next();
    // The gateway runs in this process: busy 120 ms at a time, it runs that late (default limit 50 ms).
    let blocking = true;
    const blocker = (async () => {
      while (blocking) {
        const end = performance.now() + 120;
        while (performance.now() < end);
        await sleep(5);
      }
    })();
    try {
      // Once the smoothed lag is past twice the limit, every startTyping is refused. The lag is
      // sampled once per blocked turn (every ~125 ms), and takes about 14 samples to get there.
      await expect
        .poll(async () => (await startTyping()).errors?.[0], { interval: 250, timeout: 5000 })
        .toMatchObject({
          message: expect.stringMatching(/busy.*PLUGBOARD_SHED_LAG_MS/),
          extensions: { code: 'RATE_LIMITED' },
        });
      const presence = await carol
        .subscribe<{ setPresence: { status: string } }>('mutation { setPresence(status: BUSY) { status } }')
        .next();
      expect(presence).toEqual({ data: { setPresence: { status: 'BUSY' } } });
    } finally {
      blocking = false;
      await blocker;
    }
    await expect.poll(async () => (await startTyping()).data?.startTyping, { interval: 300 }).toBe(true);
    const metrics = await (
      await fetch(`${gateway.url}/metrics`, { headers: { 'x-hasura-admin-secret': ADMIN_SECRET } })
    ).text();
    expect(metrics).toMatch(/graphql_websocket_operations_shed_total\{[^}]*reason="lag"[^}]*\} [1-9]/);
  });
});

describe("a room's presence as read for new followers", () => {
  it('is the same object for a presence that did not change, and a new one for one that did', async () => {
    const { rows } = await db.pool.query<{ id: string }>(
      "INSERT INTO realtime.rooms (name, created_by) VALUES ('reads', 'dave') RETURNING id",
    );
    const reads = rows[0]!.id;
    await db.pool.query(
      "INSERT INTO realtime.room_members (room_id, user_id) SELECT $1, u FROM unnest(ARRAY['dave', 'erin']) AS u",
      [reads],
    );
    await db.pool.query(
      "INSERT INTO realtime.presence (user_id, status, last_seen) SELECT u, 'ONLINE', now() FROM unnest(ARRAY['dave', 'erin']) AS u",
    );
    // onlineIn reads the database only: the runtime needs its pool, the tracker no event log.
    const tracker = new PresenceTracker(
      { db: db.pool } as unknown as PluginRuntime<RealtimeConfig>,
      undefined as unknown as EventLog,
    );
    const [dave, erin] = await tracker.onlineIn(reads);
    const again = await tracker.onlineIn(reads);
    expect(again[0]).toBe(dave);
    expect(again[1]).toBe(erin);
    await db.pool.query("UPDATE realtime.presence SET status = 'BUSY' WHERE user_id = 'erin'");
    const changed = await tracker.onlineIn(reads);
    expect(changed[0]).toBe(dave);
    expect(changed[1]).not.toBe(erin);
    expect(changed[1]).toMatchObject({ userId: 'erin', status: 'BUSY' });
  });
});

describe('who may follow a room', () => {
  it('refuses non-members: subscriptions, typing and presence reads are FORBIDDEN', async () => {
    const eve = await connect('eve');
    for (const query of [
      'subscription($r: ID!) { typing(roomId: $r) { userId } }',
      'subscription($r: ID!) { presence(roomId: $r) { userId } }',
      'subscription($r: ID!) { roomEvents(roomId: $r) { type } }',
    ]) {
      const result = await nextWithin(eve.subscribe(query, { r: room }));
      expect(result.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    }
    expect(
      (await as('eve', 'mutation($r: ID!) { startTyping(roomId: $r) }', { r: room })).errors?.[0]?.extensions?.['code'],
    ).toBe('FORBIDDEN');
    expect(
      (await as('eve', 'query($r: ID!) { onlineMembers(roomId: $r) { userId } }', { r: room })).errors?.[0]
        ?.extensions?.['code'],
    ).toBe('FORBIDDEN');
    expect((await as('eve', '{ presenceOf(userIds: ["alice"]) { status } }')).errors?.[0]?.extensions?.['code']).toBe(
      'FORBIDDEN',
    );
  });

  it("streams room events from the room's current state", async () => {
    const alice = await connect('alice');
    const events = alice.subscribe<{
      roomEvents: { type: string; userId: string | null; room: { name: string } | null };
    }>('subscription($r: ID!) { roomEvents(roomId: $r) { type userId room { name } } }', { r: room });
    expect(await nextWithin(events)).toEqual({
      data: { roomEvents: { type: 'ROOM_STATE', userId: null, room: { name: 'general' } } },
    });
    await ok('frank', 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room });
    expect(await nextWithin(events)).toEqual({
      data: { roomEvents: { type: 'MEMBER_JOINED', userId: 'frank', room: null } },
    });
    await ok('frank', 'mutation($r: ID!) { leaveRoom(roomId: $r) }', { r: room });
    expect(await nextWithin(events)).toEqual({
      data: { roomEvents: { type: 'MEMBER_LEFT', userId: 'frank', room: null } },
    });
    expect(
      (await as('bob', 'mutation($r: ID!) { updateRoom(roomId: $r, name: "renamed") { id } }', { r: room })).errors?.[0]
        ?.extensions?.['code'],
    ).toBe('FORBIDDEN');
    expect(
      (
        await ok<{ updateRoom: { name: string } }>(
          'alice',
          'mutation($r: ID!) { updateRoom(roomId: $r, name: "general!") { name } }',
          { r: room },
        )
      ).updateRoom.name,
    ).toBe('general!');
    expect(await nextWithin(events)).toEqual({
      data: { roomEvents: { type: 'ROOM_UPDATED', userId: 'alice', room: null } },
    });
    await ok('alice', 'mutation($r: ID!) { updateRoom(roomId: $r, name: "general") { name } }', { r: room });
    events.dispose();
  });
});

describe('limits and operations', () => {
  it('refuses a connection over REALTIME_MAX_CONNECTIONS with close code 1013 and a reason', async () => {
    const small = await startTestGateway({ databaseUrl: db.url, env: { REALTIME_MAX_CONNECTIONS: '2' } });
    try {
      const first = await connect('alice', small.wsUrl);
      const second = await connect('bob', small.wsUrl);
      const third = connectWs(small.wsUrl, { Authorization: await bearer('carol') });
      expect(await third.closed).toEqual({ code: 1013, reason: expect.stringContaining('REALTIME_MAX_CONNECTIONS=2') });
      await first.client.dispose();
      await second.client.dispose();
    } finally {
      await small.close();
    }
  });

  it.each([
    [
      {},
      { maxConnections: 10_000, maxAnonymousConnections: 1000, maxConnectionsPerIp: 100, maxConnectionsPerUser: 20 },
    ],
    [{ REALTIME_MAX_CONNECTIONS: '2' }, { maxConnections: 2, maxAnonymousConnections: 0 }],
    [{ REALTIME_MAX_ANONYMOUS_CONNECTIONS: '0' }, { maxAnonymousConnections: 0 }],
    [{ REALTIME_MAX_CONNECTIONS: '50', REALTIME_MAX_ANONYMOUS_CONNECTIONS: '49' }, { maxAnonymousConnections: 49 }],
  ])('reads the connection caps from %o', (env, expected) => {
    expect(
      readRealtimeConfig(
        readConfig(realtimeManifest.configuration as ConfigurationSpec, env, 'plugin realtime').values,
      ),
    ).toMatchObject(expected);
  });

  it('refuses REALTIME_MAX_ANONYMOUS_CONNECTIONS that would let anonymous sockets take every place', () => {
    const values = readConfig(
      realtimeManifest.configuration as ConfigurationSpec,
      { REALTIME_MAX_CONNECTIONS: '50', REALTIME_MAX_ANONYMOUS_CONNECTIONS: '50' },
      'plugin realtime',
    ).values;
    expect(() => readRealtimeConfig(values)).toThrow(
      /REALTIME_MAX_ANONYMOUS_CONNECTIONS \(realtime\): must be below REALTIME_MAX_CONNECTIONS \(50\)/,
    );
  });

  it('keeps room for signed-in users: anonymous sockets stop at REALTIME_MAX_ANONYMOUS_CONNECTIONS', async () => {
    const small = await startTestGateway({
      databaseUrl: db.url,
      env: { REALTIME_MAX_CONNECTIONS: '5', REALTIME_MAX_ANONYMOUS_CONNECTIONS: '3' },
    });
    const opened: TestWsClient[] = [];
    try {
      // Five anonymous sockets, each from its own address: the per-address cap is not what stops them.
      const anonymous = Array.from({ length: 5 }, (_, i) =>
        connectWs(small.wsUrl, {}, { localAddress: `127.0.0.${10 + i}` }),
      );
      opened.push(...anonymous);
      const outcomes = await Promise.all(
        anonymous.map((ws) => Promise.race([ws.connected.then(() => 'acknowledged' as const), ws.closed])),
      );
      expect(outcomes.filter((o) => o === 'acknowledged')).toHaveLength(3);
      expect(outcomes.filter((o) => o !== 'acknowledged')).toEqual([
        { code: 1013, reason: expect.stringContaining('REALTIME_MAX_ANONYMOUS_CONNECTIONS=3') },
        { code: 1013, reason: expect.stringContaining('REALTIME_MAX_ANONYMOUS_CONNECTIONS=3') },
      ]);
      // A signed-in user still gets in.
      const alice = connectWs(small.wsUrl, { Authorization: await bearer('alice') }, { localAddress: '127.0.0.20' });
      opened.push(alice);
      await alice.connected;
      expect(await nextWithin(alice.subscribe('{ viewer { userId } }'))).toEqual({
        data: { viewer: { userId: 'alice' } },
      });
    } finally {
      for (const ws of opened) await ws.client.dispose();
      await small.close();
    }
  });

  it('caps connections per address and per user; X-Forwarded-For counts only from PLUGBOARD_TRUSTED_PROXIES', async () => {
    const small = await startTestGateway({
      databaseUrl: db.url,
      env: {
        REALTIME_MAX_CONNECTIONS_PER_IP: '2',
        REALTIME_MAX_CONNECTIONS_PER_USER: '2',
        PLUGBOARD_TRUSTED_PROXIES: '127.0.0.9',
      },
    });
    const opened: TestWsClient[] = [];
    const open = async (user: string | null, from: string, forwardedFor?: string) => {
      const ws = connectWs(small.wsUrl, user ? { Authorization: await bearer(user) } : {}, {
        localAddress: from,
        ...(forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {}),
      });
      opened.push(ws);
      return Promise.race([ws.connected.then(() => 'acknowledged' as const), ws.closed]);
    };
    const perIp = { code: 1013, reason: expect.stringContaining('REALTIME_MAX_CONNECTIONS_PER_IP=2') };
    try {
      // One address, each socket claiming another X-Forwarded-For: the peer is not a trusted proxy, so the header is ignored.
      expect(await open(null, '127.0.0.2', '203.0.113.1')).toBe('acknowledged');
      expect(await open('ip-user-1', '127.0.0.2', '203.0.113.2')).toBe('acknowledged');
      expect(await open('ip-user-2', '127.0.0.2', '203.0.113.3')).toEqual(perIp);
      expect(await open(null, '127.0.0.3')).toBe('acknowledged');

      // Through the trusted proxy each client address counts on its own.
      for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.3'])
        expect(await open(null, '127.0.0.9', client)).toBe('acknowledged');
      expect(await open(null, '127.0.0.9', '198.51.100.1')).toBe('acknowledged');
      // The rightmost untrusted hop is the client; what it claims before is not believed.
      expect(await open(null, '127.0.0.9', '192.0.2.77, 198.51.100.1')).toEqual(perIp);

      // One user on many addresses.
      expect(await open('dan', '127.0.0.4')).toBe('acknowledged');
      expect(await open('dan', '127.0.0.5')).toBe('acknowledged');
      expect(await open('dan', '127.0.0.6')).toEqual({
        code: 1013,
        reason: expect.stringContaining('REALTIME_MAX_CONNECTIONS_PER_USER=2'),
      });
      expect(await open('erin', '127.0.0.6')).toBe('acknowledged');

      // A closed socket gives its place back.
      await opened[0]!.client.dispose();
      await vi.waitFor(async () => expect(await open(null, '127.0.0.2')).toBe('acknowledged'), {
        timeout: 3000,
        interval: 50,
      });
    } finally {
      for (const ws of opened) await ws.client.dispose();
      await small.close();
    }
  });

  // Four CLI processes, one after another: each loads the gateway, which takes seconds in a full test run.
  it('shows status and rooms in the CLI, and disconnects one connection wherever it is', async () => {
    const carol = await connect('carol');
    const env = { DATABASE_URL: db.url };
    await expect
      .poll(
        async () =>
          (await db.pool.query<{ id: string }>("SELECT id FROM realtime.connections WHERE user_id = 'carol'")).rowCount,
        { timeout: 5000 },
      )
      .toBeGreaterThan(0);
    const status = await runCli(['realtime', 'status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/online users \d+\s+rooms \d+/);
    const rooms = await runCli(['realtime', 'rooms'], env);
    expect(rooms.stdout).toContain('general');

    const { rows } = await db.pool.query<{ id: string }>("SELECT id FROM realtime.connections WHERE user_id = 'carol'");
    const ids = rows.map((r) => r.id);
    const results = await Promise.all([carol.closed, ...ids.map((id) => runCli(['realtime', 'disconnect', id], env))]);
    expect(results[0]).toEqual({ code: 4000, reason: 'Disconnected by an operator' });
    expect(results.slice(1).map((r) => (r as { code: number }).code)).toContain(0);
    const missing = await runCli(['realtime', 'disconnect', '00000000-0000-4000-8000-000000000000'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No open connection');
  }, 60_000);
});

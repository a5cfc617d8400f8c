/**
 * A rolling restart under load. Three gateways and two workers behind HAProxy; a load generator
 * sends GraphQL queries, mutations (typing, job enqueues) and signed Stripe webhooks through the
 * balancer while 1,000 graphql-ws subscribers (the typed client, client/subscriptions.ts) follow
 * their room's presence; each gateway in turn gets SIGTERM and is started again. Nothing may fail:
 * every HTTP request answered 2xx, every webhook acknowledged once and applied, every subscriber
 * back and subscribed, nobody shown OFFLINE, every job run once.
 */
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { RoomPresenceDocument } from '../../client/generated/graphql.ts';
import { createSubscriptionClient, subscribeTo } from '../../client/subscriptions.ts';
import {
  adminHeaders,
  bearer,
  type Cluster,
  type ClusterServices,
  graphqlAt,
  startCluster,
  startClusterServices,
} from '../support/cluster.ts';
import type { GraphQLBody } from '../support/gateway.ts';
import { signToken } from '../support/tokens.ts';

const REDIS_URL = inject('redisUrl');
const ROOMS = 100;
const MEMBERS = 10;
/** Requests the load generator keeps in flight. */
const CONCURRENCY = 6;

let services: ClusterServices;
let cluster: Cluster;

interface Subscriber {
  userId: string;
  roomId: string;
  client: Client;
  connected: boolean;
  reconnections: number;
  closedAt: number;
  /** Longest time from a lost connection to the next connect. */
  longestGapMs: number;
  /** Who is ONLINE in the room as this subscriber was told, and every OFFLINE it was told of. */
  online: Set<string>;
  /** Who was shown OFFLINE, when (ms since the epoch). */
  offline: { userId: string; at: number }[];
  /** Connection attempts after a lost connection, failed ones included. */
  attempts: number;
  away: Set<string>;
  errors: unknown[];
}
const subscribers: Subscriber[] = [];
/** A subscriber in a failure message: who, and what went wrong. */
const described = (s: Subscriber) =>
  `${s.userId}: ${s.errors.map((e) => (e instanceof Error ? e.message : JSON.stringify(e))).join('; ')}`;

beforeAll(async () => {
  if (!REDIS_URL) return;
  services = await startClusterServices(REDIS_URL, {
    // 1,000 sockets from one address (the test's, named by HAProxy's X-Forwarded-For).
    REALTIME_MAX_CONNECTIONS_PER_IP: '5000',
  });
  const starting = Date.now();
  cluster = await startCluster({ gateways: 3, workers: 2, env: services.env });
  console.log(`[rolling restart] cluster started in ${((Date.now() - starting) / 1000).toFixed(1)} s`);
}, 120_000);

afterAll(async () => {
  await Promise.all(subscribers.map((subscriber) => subscriber.client.dispose()));
  await cluster?.close();
  await services?.stop();
});

/** Runs `task` over `items`, `limit` at a time. */
async function inParallel<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/**
 * The fixture: 100 rooms of 10 members, written in two statements (creating and joining rooms
 * through the API is test/realtime.test.ts's subject; here it would only lengthen the set-up).
 */
async function createRooms(): Promise<{ roomId: string; members: string[] }[]> {
  const members = Array.from({ length: ROOMS }, (_, room) =>
    Array.from({ length: MEMBERS }, (_, member) => `u${room}-${member}`),
  );
  const { rows } = await services.db.pool.query<{ id: string; name: string }>(
    'INSERT INTO realtime.rooms (name, created_by) SELECT owner, owner FROM unnest($1::text[]) AS owner RETURNING id, name',
    [members.map((room) => room[0])],
  );
  const ids = new Map(rows.map((row) => [row.name, row.id]));
  const rooms = members.map((room) => ({ roomId: ids.get(room[0]!)!, members: room }));
  await services.db.pool.query(
    `INSERT INTO realtime.room_members (room_id, user_id, role)
     SELECT room_id, user_id, CASE WHEN user_id LIKE '%-0' THEN 'owner' ELSE 'member' END
     FROM unnest($1::uuid[], $2::text[]) AS member (room_id, user_id)`,
    [rooms.flatMap((room) => room.members.map(() => room.roomId)), rooms.flatMap((room) => room.members)],
  );
  return rooms;
}

function subscribe(userId: string, roomId: string): Subscriber {
  const client = createSubscriptionClient({
    url: `${cluster.url.replace(/^http/, 'ws')}/graphql`,
    token: () => signToken({ userId }),
    webSocketImpl: WebSocket,
  });
  const subscriber: Subscriber = {
    userId,
    roomId,
    client,
    connected: false,
    reconnections: 0,
    closedAt: 0,
    longestGapMs: 0,
    online: new Set(),
    offline: [],
    attempts: 0,
    away: new Set(),
    errors: [],
  };
  client.on('connected', (_socket, _payload, wasRetry) => {
    subscriber.connected = true;
    if (!wasRetry) return;
    subscriber.reconnections++;
    subscriber.longestGapMs = Math.max(subscriber.longestGapMs, Date.now() - subscriber.closedAt);
  });
  client.on('connecting', (isRetry) => {
    if (isRetry) subscriber.attempts++;
  });
  client.on('closed', () => {
    if (subscriber.connected) subscriber.closedAt = Date.now();
    subscriber.connected = false;
  });
  subscribeTo(
    client,
    RoomPresenceDocument,
    { roomId },
    {
      next: ({ data, errors }) => {
        if (errors) subscriber.errors.push(errors);
        const presence = data?.presence;
        if (!presence) return;
        if (presence.status === 'OFFLINE') subscriber.offline.push({ userId: presence.userId, at: Date.now() });
        else subscriber.online.add(presence.userId);
        if (presence.status === 'AWAY') subscriber.away.add(presence.userId);
      },
      error: (error) => subscriber.errors.push(error),
      complete: () => {},
    },
  );
  return subscriber;
}

interface LoadFigures {
  sent: Record<'query' | 'typing' | 'enqueue' | 'webhook', number>;
  failed: { kind: string; detail: string }[];
  webhooks: Map<string, number>;
  jobs: Map<string, string>;
}

/** Sends queries, mutations and webhooks through the balancer until `stop` resolves. */
async function generateLoad(rooms: { roomId: string; members: string[] }[], stop: Promise<void>): Promise<LoadFigures> {
  const figures: LoadFigures = {
    sent: { query: 0, typing: 0, enqueue: 0, webhook: 0 },
    failed: [],
    webhooks: new Map(),
    jobs: new Map(),
  };
  let stopped = false;
  void stop.then(() => (stopped = true));
  const started = Date.now();
  const tokens = new Map<string, Record<string, string>>();
  const headersOf = async (userId: string) => {
    if (!tokens.has(userId)) tokens.set(userId, await bearer(userId));
    return tokens.get(userId)!;
  };
  let turn = 0;
  const one = async () => {
    const n = turn++;
    const kind = (['query', 'query', 'typing', 'enqueue', 'webhook'] as const)[n % 5]!;
    const room = rooms[n % rooms.length]!;
    const userId = room.members[Math.floor(n / rooms.length) % MEMBERS]!;
    figures.sent[kind]++;
    try {
      if (kind === 'webhook') {
        const { event } = services.stripe.create('customer');
        const response = await services.deliver(cluster.url, event);
        const text = await response.text();
        const body = (response.status === 200 ? JSON.parse(text) : { text: text.slice(0, 100) }) as {
          duplicate?: boolean;
        };
        if (response.status !== 200 || body.duplicate !== false)
          throw new Error(`${response.status} at ${Date.now() - started} ms: ${JSON.stringify(body)}`);
        figures.webhooks.set(event.id, (figures.webhooks.get(event.id) ?? 0) + 1);
        return;
      }
      const [query, variables, headers] =
        kind === 'query'
          ? ['query($r: ID!) { viewer { userId } room(id: $r) { name } }', { r: room.roomId }, await headersOf(userId)]
          : kind === 'typing'
            ? ['mutation($r: ID!) { startTyping(roomId: $r) }', { r: room.roomId }, await headersOf(userId)]
            : [
                'mutation($p: JSON!) { enqueueJob(type: "http-request", payload: $p) { id } }',
                { p: { url: `${services.target.url}/ok`, body: `job-${n}` } },
                adminHeaders,
              ];
      const response = await fetch(`${cluster.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      if (response.status !== 200)
        throw new Error(`${response.status} at ${Date.now() - started} ms: ${text.slice(0, 100)}`);
      const body = JSON.parse(text) as GraphQLBody;
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      if (kind === 'enqueue') figures.jobs.set(`job-${n}`, (body.data!['enqueueJob'] as { id: string }).id);
    } catch (error) {
      figures.failed.push({ kind, detail: (error as Error).message });
    }
  };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (!stopped) await one();
    }),
  );
  return figures;
}

const count = async (sql: string, values: unknown[] = []) =>
  (await services.db.pool.query<{ n: number }>(sql, values)).rows[0]!.n;

describe.skipIf(!REDIS_URL)('a rolling restart of three gateways behind HAProxy', () => {
  it('loses nothing under load: no failed request, every webhook and job once, every subscriber back', async () => {
    const began = Date.now();
    const phase = (what: string) =>
      console.log(`[rolling restart] ${((Date.now() - began) / 1000).toFixed(1)} s: ${what}`);
    const rooms = await createRooms();
    phase('rooms created');
    // 1,000 subscribers, a hundred at a time, each following its own room's presence.
    for (let batch = 0; batch < ROOMS; batch += 10) {
      for (const room of rooms.slice(batch, batch + 10))
        for (const userId of room.members) subscribers.push(subscribe(userId, room.roomId));
      await vi.waitFor(() => expect(subscribers.filter((s) => !s.connected).map(described)).toEqual([]), {
        timeout: 20_000,
        interval: 50,
      });
    }
    phase('subscribers connected');
    // Everyone sees their whole room online before the restarts.
    await vi.waitFor(
      () => expect(subscribers.filter((s) => s.online.size < MEMBERS).map((s) => s.userId)).toEqual([]),
      { timeout: 20_000, interval: 100 },
    );
    expect(await count("SELECT count(*)::int AS n FROM realtime.presence WHERE status = 'ONLINE'")).toBe(
      ROOMS * MEMBERS,
    );

    let stopLoad!: () => void;
    const started = Date.now();
    const load = generateLoad(rooms, new Promise<void>((resolve) => (stopLoad = resolve)));
    const restarts: { gateway: string; drainedMs: number; downAfterMs: number; upAfterMs: number }[] = [];
    for (const gateway of cluster.gateways) {
      const signalled = Date.now();
      phase(`${gateway.name} SIGTERM at ${signalled - started} ms of load`);
      const takenOut = new RegExp(`Server gateways/${gateway.name} is DOWN.*`, 'g');
      const loggedBefore = cluster.balancerLog().match(takenOut)?.length ?? 0;
      let downAfterMs = 0;
      let downLine: string | undefined;
      const [code] = await Promise.all([
        gateway.stop('SIGTERM'),
        vi.waitFor(
          async () => {
            expect((await cluster.backendStates())[gateway.name]).toBe('DOWN');
            downLine = cluster.balancerLog().match(takenOut)?.[loggedBefore];
            expect(downLine).toBeDefined();
            downAfterMs = Date.now() - signalled;
          },
          { timeout: 10_000, interval: 50 },
        ),
      ]);
      const drainedMs = Date.now() - signalled;
      expect(code).toBe(0);
      // HAProxy took it out while it still served (its drain answers /readyz 503), never after it
      // stopped (a refused connection): the reason it logged says which, however slowly this busy
      // machine polled its stats.
      expect(downLine, cluster.balancerLog()).toMatch(/reason: Layer7 wrong status, code: 503/);
      await gateway.start();
      await vi.waitFor(async () => expect((await cluster.backendStates())[gateway.name]).toBe('UP'), {
        timeout: 10_000,
        interval: 50,
      });
      restarts.push({ gateway: gateway.name, drainedMs, downAfterMs, upAfterMs: Date.now() - signalled });
      phase(`${gateway.name} restarted`);
    }
    // Every subscriber is back on a gateway that is still running.
    await vi.waitFor(() => expect(subscribers.filter((s) => !s.connected).map(described)).toEqual([]), {
      timeout: 30_000,
      interval: 100,
    });
    const restartMs = Date.now() - started;
    phase('every subscriber back');
    stopLoad();
    const figures = await load;

    expect(figures.failed, cluster.balancerLog()).toEqual([]);
    // Each gateway's sockets were closed once (1001) and came back through the balancer.
    expect(subscribers.filter((s) => s.reconnections === 0).map((s) => s.userId)).toEqual([]);
    expect(subscribers.filter((s) => s.errors.length > 0).map(described)).toEqual([]);
    // Reconnected within the grace period, so nobody was ever shown OFFLINE.
    const shownOffline = new Map(subscribers.flatMap((s) => s.offline).map((o) => [o.userId, o.at - started]));
    const offlineUsers = subscribers
      .filter((s) => shownOffline.has(s.userId))
      .map((s) => ({
        userId: s.userId,
        shownOfflineAtMs: shownOffline.get(s.userId),
        closedAtMs: s.closedAt - started,
        longestGapMs: s.longestGapMs,
        attempts: s.attempts,
      }));
    const warnings = cluster.gateways
      .flatMap((g) => g.output().split('\n'))
      .filter((line) => /"level":(40|50|60)/.test(line))
      .slice(0, 30);
    expect(offlineUsers, `restarts: ${JSON.stringify(restarts)}\n${warnings.join('\n')}`).toEqual([]);
    expect(await count("SELECT count(*)::int AS n FROM realtime.presence WHERE status = 'ONLINE'")).toBe(
      ROOMS * MEMBERS,
    );
    // One connection a subscriber, all on live instances: the stopped ones left none behind.
    await expect
      .poll(() => count('SELECT count(*)::int AS n FROM realtime.connections'), { timeout: 10_000 })
      .toBe(ROOMS * MEMBERS);

    phase('load stopped, presence checked');
    // Every subscription is live again: a presence change now reaches every member's subscriber.
    await inParallel(rooms, 8, async (room) => {
      const away = await graphqlAt(
        cluster.url,
        'mutation { setPresence(status: AWAY) { status } }',
        {},
        await bearer(room.members[0]!),
      );
      expect(away.body.errors).toBeUndefined();
    });
    await vi.waitFor(
      () =>
        expect(subscribers.filter((s) => !s.away.has(s.userId.replace(/-\d+$/, '-0'))).map((s) => s.userId)).toEqual(
          [],
        ),
      { timeout: 15_000, interval: 100 },
    );

    // Every webhook acknowledged once (each posted once, answered 200 `duplicate: false`) and applied.
    const webhookIds = [...figures.webhooks.keys()];
    expect([...figures.webhooks.values()].every((acks) => acks === 1)).toBe(true);
    await expect
      .poll(
        () =>
          count("SELECT count(*)::int AS n FROM stripe.events WHERE id = ANY($1) AND status = 'processed'", [
            webhookIds,
          ]),
        { timeout: 20_000, interval: 200 },
      )
      .toBe(webhookIds.length);
    expect(
      await count('SELECT count(*)::int AS n FROM stripe.customers WHERE last_event_id = ANY($1)', [webhookIds]),
    ).toBe(webhookIds.length);

    // Every job enqueued ran exactly once on a worker: its call reached the target once (a marker
    // job enqueued after them all has run too, so a second run of any would have shown).
    const runs = () => {
      const counted = new Map<string, number>();
      for (const call of services.target.callsTo('/ok')) counted.set(call.body, (counted.get(call.body) ?? 0) + 1);
      return counted;
    };
    const jobStates = async (keys: string[]) =>
      (
        await services.db.pool.query<{ id: string; state: string }>(
          'SELECT id, state FROM jobs.jobs WHERE id = ANY($1)',
          [keys.map((key) => figures.jobs.get(key))],
        )
      ).rows;
    await vi.waitFor(
      async () => {
        const missing = [...figures.jobs.keys()].filter((key) => !runs().has(key));
        expect(missing, JSON.stringify(await jobStates(missing.slice(0, 20)))).toEqual([]);
      },
      { timeout: 60_000, interval: 200 },
    );
    const marker = await graphqlAt(
      cluster.url,
      'mutation($p: JSON!) { enqueueJob(type: "http-request", payload: $p) { id } }',
      { p: { url: `${services.target.url}/ok`, body: 'marker' } },
      adminHeaders,
    );
    expect(marker.body.errors).toBeUndefined();
    await vi.waitFor(() => expect(runs().get('marker')).toBe(1), { timeout: 20_000, interval: 100 });
    expect([...figures.jobs.keys()].filter((key) => runs().get(key) !== 1)).toEqual([]);
    // And the job history (written by the gateway that enqueued and the worker that ran each) says so.
    const jobIds = [...figures.jobs.values()];
    await vi.waitFor(
      async () => {
        const { rows } = await services.db.pool.query<{ state: string; n: number }>(
          `SELECT coalesce(j.state, 'no row') AS state, count(*)::int AS n
           FROM unnest($1::text[]) AS enqueued (id) LEFT JOIN jobs.jobs j ON j.id = enqueued.id AND j.queue = 'default'
           GROUP BY 1`,
          [jobIds],
        );
        expect(rows).toEqual([{ state: 'completed', n: jobIds.length }]);
      },
      { timeout: 20_000, interval: 200 },
    );

    const sent = Object.values(figures.sent).reduce((sum, n) => sum + n, 0);
    const reconnections = subscribers.reduce((sum, s) => sum + s.reconnections, 0);
    const longestGapMs = Math.max(...subscribers.map((s) => s.longestGapMs));
    const summary = {
      requests: sent,
      ...figures.sent,
      failed: figures.failed.length,
      webhooksAcknowledged: webhookIds.length,
      webhooksApplied: webhookIds.length,
      jobsRun: jobIds.length,
      subscribers: subscribers.length,
      reconnections,
      longestReconnectMs: longestGapMs,
      restartSeconds: Math.round(restartMs / 100) / 10,
      restarts,
    };
    console.log(`[rolling restart] ${JSON.stringify(summary)}`);
  }, 240_000);
});

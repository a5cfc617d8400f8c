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
  offline: string[];
  away: Set<string>;
  errors: unknown[];
}
const subscribers: Subscriber[] = [];

beforeAll(async () => {
  if (!REDIS_URL) return;
  services = await startClusterServices(REDIS_URL, {
    // 1,000 sockets from one address (the test's, named by HAProxy's X-Forwarded-For).
    REALTIME_MAX_CONNECTIONS_PER_IP: '5000',
  });
  cluster = await startCluster({ gateways: 3, workers: 2, env: services.env });
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

async function createRooms(): Promise<{ roomId: string; members: string[] }[]> {
  const rooms = Array.from({ length: ROOMS }, (_, room) => ({
    roomId: '',
    members: Array.from({ length: MEMBERS }, (_, member) => `u${room}-${member}`),
  }));
  await inParallel(rooms, 8, async (room) => {
    const created = await graphqlAt(
      cluster.url,
      'mutation($n: String!) { createRoom(name: $n) { id } }',
      { n: room.members[0] },
      await bearer(room.members[0]!),
    );
    room.roomId = (created.body.data!['createRoom'] as { id: string }).id;
    for (const userId of room.members.slice(1)) {
      const joined = await graphqlAt(
        cluster.url,
        'mutation($r: ID!) { joinRoom(roomId: $r) { id } }',
        { r: room.roomId },
        await bearer(userId),
      );
      expect(joined.body.errors).toBeUndefined();
    }
  });
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
    away: new Set(),
    errors: [],
  };
  client.on('connected', (_socket, _payload, wasRetry) => {
    subscriber.connected = true;
    if (!wasRetry) return;
    subscriber.reconnections++;
    subscriber.longestGapMs = Math.max(subscriber.longestGapMs, Date.now() - subscriber.closedAt);
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
        if (presence.status === 'OFFLINE') subscriber.offline.push(presence.userId);
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
        const body = (await response.json()) as { received?: boolean; duplicate?: boolean };
        if (response.status !== 200 || body.duplicate !== false)
          throw new Error(`${response.status} ${JSON.stringify(body)}`);
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
      const { status, body } = await graphqlAt(cluster.url, query, variables, headers);
      if (status !== 200 || body.errors) throw new Error(`${status} ${JSON.stringify(body.errors)}`);
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
    const rooms = await createRooms();
    // 1,000 subscribers, a hundred at a time, each following its own room's presence.
    for (let batch = 0; batch < ROOMS; batch += 10) {
      for (const room of rooms.slice(batch, batch + 10))
        for (const userId of room.members) subscribers.push(subscribe(userId, room.roomId));
      await vi.waitFor(() => expect(subscribers.filter((s) => !s.connected)).toEqual([]), {
        timeout: 20_000,
        interval: 50,
      });
    }
    // Everyone sees their whole room online before the restarts.
    await vi.waitFor(
      () => expect(subscribers.filter((s) => s.online.size < MEMBERS).map((s) => s.userId)).toEqual([]),
      { timeout: 20_000, interval: 100 },
    );
    expect(await count("SELECT count(*)::int AS n FROM realtime.presence WHERE status = 'ONLINE'")).toBe(
      ROOMS * MEMBERS,
    );

    let stopLoad!: () => void;
    const load = generateLoad(rooms, new Promise<void>((resolve) => (stopLoad = resolve)));
    const started = Date.now();
    const restarts: { gateway: string; drainedMs: number; downAfterMs: number; upAfterMs: number }[] = [];
    for (const gateway of cluster.gateways) {
      const signalled = Date.now();
      let downAfterMs = 0;
      const [code] = await Promise.all([
        gateway.stop('SIGTERM'),
        // HAProxy takes it out while it still serves (its drain), never after it stopped.
        vi.waitFor(
          async () => {
            expect((await cluster.backendStates())[gateway.name]).toBe('DOWN');
            downAfterMs = Date.now() - signalled;
          },
          { timeout: 10_000, interval: 50 },
        ),
      ]);
      const drainedMs = Date.now() - signalled;
      expect(code).toBe(0);
      expect(downAfterMs).toBeLessThan(Number(services.env['PLUGBOARD_SHUTDOWN_DELAY_MS']));
      await gateway.start();
      await vi.waitFor(async () => expect((await cluster.backendStates())[gateway.name]).toBe('UP'), {
        timeout: 10_000,
        interval: 50,
      });
      restarts.push({ gateway: gateway.name, drainedMs, downAfterMs, upAfterMs: Date.now() - signalled });
    }
    // Every subscriber is back on a gateway that is still running.
    await vi.waitFor(() => expect(subscribers.filter((s) => !s.connected).length).toBe(0), {
      timeout: 30_000,
      interval: 100,
    });
    const restartMs = Date.now() - started;
    stopLoad();
    const figures = await load;

    expect(figures.failed).toEqual([]);
    // Each gateway's sockets were closed once (1001) and came back through the balancer.
    expect(subscribers.filter((s) => s.reconnections === 0).map((s) => s.userId)).toEqual([]);
    expect(subscribers.flatMap((s) => s.errors)).toEqual([]);
    // Reconnected within the grace period, so nobody was ever shown OFFLINE.
    expect(subscribers.flatMap((s) => s.offline)).toEqual([]);
    expect(await count("SELECT count(*)::int AS n FROM realtime.presence WHERE status = 'ONLINE'")).toBe(
      ROOMS * MEMBERS,
    );
    // One connection a subscriber, all on live instances: the stopped ones left none behind.
    await expect
      .poll(() => count('SELECT count(*)::int AS n FROM realtime.connections'), { timeout: 10_000 })
      .toBe(ROOMS * MEMBERS);

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

    // Every job enqueued ran exactly once on a worker (a marker job run last shows none runs again).
    const jobIds = [...figures.jobs.values()];
    await expect
      .poll(
        () => count("SELECT count(*)::int AS n FROM jobs.jobs WHERE id = ANY($1) AND state = 'completed'", [jobIds]),
        {
          timeout: 30_000,
          interval: 200,
        },
      )
      .toBe(jobIds.length);
    const marker = await graphqlAt(
      cluster.url,
      'mutation($p: JSON!) { enqueueJob(type: "http-request", payload: $p) { id } }',
      { p: { url: `${services.target.url}/ok`, body: 'marker' } },
      adminHeaders,
    );
    const markerId = (marker.body.data!['enqueueJob'] as { id: string }).id;
    await expect
      .poll(() => count("SELECT count(*)::int AS n FROM jobs.jobs WHERE id = $1 AND state = 'completed'", [markerId]), {
        timeout: 20_000,
        interval: 100,
      })
      .toBe(1);
    const runs = new Map<string, number>();
    for (const call of services.target.callsTo('/ok')) runs.set(call.body, (runs.get(call.body) ?? 0) + 1);
    expect([...figures.jobs.keys()].filter((key) => runs.get(key) !== 1)).toEqual([]);

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
  }, 120_000);
});

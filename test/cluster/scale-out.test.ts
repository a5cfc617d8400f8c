/**
 * Three gateways (no workers inside) and two `plugboard jobs worker` processes behind HAProxy,
 * sharing the machine's Postgres and Redis, behave as one: a Stripe webhook posted to any instance
 * reaches `stripeEvents` subscribers on every instance; presence and typing are one view; a job
 * enqueued through any instance runs exactly once on a worker; `syncStripe` asked of two instances
 * at once starts one run.
 */
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  adminHeaders,
  bearer,
  type Cluster,
  type ClusterServices,
  graphqlAt,
  startCluster,
  startClusterServices,
} from '../support/cluster.ts';
import { ADMIN_SECRET } from '../support/tokens.ts';
import { connectWs, nextMatching, type TestWsClient } from '../support/ws-client.ts';

const REDIS_URL = inject('redisUrl');

let services: ClusterServices;
let cluster: Cluster;
const sockets: TestWsClient[] = [];

const wsUrl = (url: string) => `${url.replace(/^http/, 'ws')}/graphql`;
const connect = async (url: string, params: Record<string, unknown>) => {
  const ws = connectWs(wsUrl(url), params);
  sockets.push(ws);
  await ws.connected;
  return ws;
};

beforeAll(async () => {
  if (!REDIS_URL) return;
  services = await startClusterServices(REDIS_URL, {
    REALTIME_PRESENCE_GRACE_MS: '500',
    REALTIME_REAPER_INTERVAL_MS: '300',
    REALTIME_TYPING_TTL_MS: '3000',
  });
  cluster = await startCluster({ gateways: 3, workers: 2, env: services.env });
}, 120_000);

afterAll(async () => {
  for (const ws of sockets) await ws.client.dispose();
  await cluster?.close();
  await services?.stop();
});

describe.skipIf(!REDIS_URL)('three gateways and two workers behind HAProxy', () => {
  it('balances over every gateway, each ready', async () => {
    expect(await cluster.backendStates()).toEqual({ g1: 'UP', g2: 'UP', g3: 'UP' });
    for (const gateway of cluster.gateways) {
      expect(gateway.output()).toMatch(/"pubsub":"redis","queue":"bullmq"/);
      expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
    }
  });

  it('fans a Stripe webhook posted to any instance out to stripeEvents subscribers on every instance', async () => {
    const subscribers = await Promise.all(
      cluster.gateways.map(async (gateway) =>
        (await connect(gateway.url, { headers: { 'x-hasura-admin-secret': ADMIN_SECRET } })).subscribe<{
          stripeEvents: { id: string; type: string };
        }>('subscription { stripeEvents(types: ["customer.*"]) { id type } }'),
      ),
    );
    // Redis SUBSCRIBE completes asynchronously on each instance: deliver through the balancer
    // until every subscriber has had an event, then every later event must reach all of them.
    const seen = subscribers.map(() => new Set<string>());
    const follow = subscribers.map(async (subscription, index) => {
      for (;;) seen[index]!.add((await subscription.next()).data!.stripeEvents.id);
    });
    void Promise.allSettled(follow);
    await vi.waitFor(
      async () => {
        const { event } = services.stripe.create('customer');
        expect((await services.deliver(cluster.url, event)).status).toBe(200);
        for (const ids of seen) expect(ids.size).toBeGreaterThan(0);
      },
      { timeout: 10_000, interval: 200 },
    );

    // One event posted straight to each instance.
    const events = cluster.gateways.map(() => services.stripe.create('customer').event);
    const answers = await Promise.all(
      cluster.gateways.map(async (gateway, index) => {
        const response = await services.deliver(gateway.url, events[index]);
        return { status: response.status, body: await response.json() };
      }),
    );
    expect(answers).toEqual(events.map(() => ({ status: 200, body: { received: true, duplicate: false } })));
    await vi.waitFor(
      () => {
        for (const ids of seen) for (const event of events) expect(ids.has(event.id)).toBe(true);
      },
      { timeout: 10_000, interval: 50 },
    );
    const { rows } = await services.db.pool.query<{ id: string }>(
      'SELECT id FROM stripe.customers WHERE last_event_id = ANY($1)',
      [events.map((event) => event.id)],
    );
    expect(rows).toHaveLength(events.length);
    for (const subscription of subscribers) subscription.dispose();
  });

  it('shows one presence and typing state whichever instance a user is connected to', async () => {
    const [g1, g2, g3] = cluster.gateways;
    const created = await graphqlAt(
      cluster.url,
      'mutation { createRoom(name: "across") { id } }',
      {},
      await bearer('alice'),
    );
    const roomId = (created.body.data!['createRoom'] as { id: string }).id;
    for (const userId of ['bob', 'carol']) {
      const joined = await graphqlAt(
        cluster.url,
        'mutation($r: ID!) { joinRoom(roomId: $r) { id } }',
        { r: roomId },
        await bearer(userId),
      );
      expect(joined.body.errors).toBeUndefined();
    }

    // Bob watches from g2; alice connects to g1; carol types through g3.
    const bob = await connect(g2!.url, await bearer('bob'));
    const presence = bob.subscribe<{ presence: { userId: string; status: string } }>(
      'subscription($r: ID!) { presence(roomId: $r) { userId status } }',
      { r: roomId },
    );
    await connect(g1!.url, await bearer('alice'));
    await nextMatching(
      presence,
      (e) => e.data?.presence.userId === 'alice' && e.data.presence.status === 'ONLINE',
      5000,
    );

    const typing = bob.subscribe<{ typing: { userId: string; isTyping: boolean } }>(
      'subscription($r: ID!) { typing(roomId: $r) { userId isTyping } }',
      { r: roomId },
    );
    await vi.waitFor(
      async () => {
        const typed = await graphqlAt(
          g3!.url,
          'mutation($r: ID!) { startTyping(roomId: $r) }',
          { r: roomId },
          await bearer('carol'),
        );
        expect(typed.body).toEqual({ data: { startTyping: true } });
        await nextMatching(typing, (e) => e.data?.typing.userId === 'carol' && e.data.typing.isTyping, 500);
      },
      { timeout: 10_000, interval: 100 },
    );

    // Asked of each instance, the room's online members are the same two.
    for (const gateway of cluster.gateways) {
      const online = await graphqlAt(
        gateway.url,
        'query($r: ID!) { onlineMembers(roomId: $r) { userId status } }',
        { r: roomId },
        await bearer('carol'),
      );
      const members = (online.body.data!['onlineMembers'] as { userId: string }[]).map((m) => m.userId).sort();
      expect(members, gateway.name).toEqual(['alice', 'bob']);
    }
    presence.dispose();
    typing.dispose();
  });

  it('runs a job enqueued through any instance exactly once, on a worker', async () => {
    const enqueue = (url: string, key: string) =>
      graphqlAt(
        url,
        'mutation($p: JSON!) { enqueueJob(type: "http-request", payload: $p) { id } }',
        { p: { url: `${services.target.url}/ok?job=${key}`, body: key } },
        adminHeaders,
      );
    // Through the balancer (round robin: every instance in turn) and straight to each instance.
    const keys = [...Array.from({ length: 6 }, (_, i) => `balanced-${i}`), ...cluster.gateways.map((g) => g.name)];
    const answers = await Promise.all(
      keys.map((key, index) => enqueue(index < 6 ? cluster.url : cluster.gateways[index - 6]!.url, key)),
    );
    for (const answer of answers) expect(answer.body.errors).toBeUndefined();
    const ids = answers.map((answer) => (answer.body.data!['enqueueJob'] as { id: string }).id);
    expect(new Set(ids).size).toBe(keys.length);

    const completed = async (jobIds: string[]) => {
      const { rows } = await services.db.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM jobs.jobs WHERE id = ANY($1) AND state = 'completed'",
        [jobIds],
      );
      return rows[0]!.n;
    };
    await expect.poll(() => completed(ids), { timeout: 20_000, interval: 100 }).toBe(keys.length);
    // A later job through the same queue: once it has run, a second run of any earlier one would have too.
    const marker = await enqueue(cluster.url, 'marker');
    const markerId = (marker.body.data!['enqueueJob'] as { id: string }).id;
    await expect.poll(() => completed([markerId]), { timeout: 20_000, interval: 100 }).toBe(1);

    const runs = new Map<string, number>();
    for (const call of services.target.callsTo('/ok')) runs.set(call.body, (runs.get(call.body) ?? 0) + 1);
    expect(Object.fromEntries(runs)).toEqual(Object.fromEntries([...keys, 'marker'].map((key) => [key, 1])));
  });

  it('starts one syncStripe run when two instances are asked at once (a lock, not luck)', async () => {
    services.stripe.seed('customer', 250);
    services.stripe.seed('product', 5);
    // Each API call slow enough that the run is still going when both asks arrive.
    services.stripe.setLatency(150);
    services.stripe.resetRequests();
    const [g1, g2, g3] = cluster.gateways;
    const ask = (url: string) =>
      graphqlAt(url, 'mutation { syncStripe { id kind status } }', {}, adminHeaders).then(({ body }) => {
        expect(body.errors).toBeUndefined();
        return body.data!['syncStripe'] as { id: string; kind: string; status: string };
      });
    const [first, second] = await Promise.all([ask(g1!.url), ask(g2!.url)]);
    expect(first.status).toBe('running');
    expect(second).toEqual(first);

    const run = async (id: string) =>
      (await services.db.pool.query<{ status: string }>('SELECT status FROM stripe.sync_runs WHERE id = $1', [id]))
        .rows[0]?.status;
    await expect.poll(() => run(first.id), { timeout: 30_000, interval: 100 }).toBe('completed');
    const { rows } = await services.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM stripe.sync_runs');
    expect(rows[0]!.n).toBe(1);
    // Each list was walked once: one first page of customers (250 → 3 pages), none twice.
    const customerPages = services.stripe.requests.filter((r) => r.method === 'GET' && r.path === '/v1/customers');
    expect(customerPages.filter((r) => !r.query.includes('starting_after'))).toHaveLength(1);
    expect(customerPages).toHaveLength(3);

    // Once it has ended, the lock is free: asked again, a new run starts.
    services.stripe.setLatency(0);
    const again = await ask(g3!.url);
    expect(again.id).not.toBe(first.id);
    await expect.poll(() => run(again.id), { timeout: 30_000, interval: 100 }).toBe('completed');
  });
});

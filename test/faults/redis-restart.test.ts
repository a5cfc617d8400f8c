/**
 * Fault: the Redis behind two gateways (pubsub and the BullMQ queue; a server this test owns)
 * is killed and started again, and, separately, unreachable for 10 s. Meanwhile jobs keep being
 * enqueued and queries that need only Postgres keep being asked. Afterwards the subscriptions
 * opened before the fault get what is published, presence is the same everywhere, every job
 * acknowledged ran exactly once, and neither gateway process restarted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type Answer, firstAfter, keepSending, printFigures, watchStatus } from '../support/fault-load.ts';
import { ECHO_API_KEY } from '../support/gateway.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { type ServingGateway, serveGateway } from '../support/processes.ts';
import { type OwnRedis, startOwnRedis } from '../support/redis-server.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { ADMIN_SECRET, JWT_SECRET, signToken } from '../support/tokens.ts';
import { connectWs, nextMatching, type TestSubscription, type TestWsClient } from '../support/ws-client.ts';

const UNREACHABLE_MS = 10_000;
const ENQUEUERS = 2;

let db: TestDatabase;
let redis: OwnRedis;
/** The gateways reach Redis through it, so the test can take Redis away without stopping it. */
let proxy: TcpProxy;
let target: HttpTarget;
let gateways: ServingGateway[];
let alice: TestWsClient;
let room: string;
type Echoed = { echoed: { body: string } };
type Presence = { presence: { userId: string; status: string } };
let echoed: TestSubscription<{ data?: Echoed }>;
let presence: TestSubscription<{ data?: Presence }>;

const bearer = async (userId: string) => `Bearer ${await signToken({ userId })}`;

/** POSTs to a gateway; a failed request (reset, timeout) is status 0. */
async function post(
  gateway: ServingGateway,
  query: string,
  variables: Record<string, unknown>,
  authorization: string | null,
): Promise<{
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
}> {
  try {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(authorization ? { authorization } : { 'x-hasura-admin-secret': ADMIN_SECRET }),
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: response.status, body: (await response.json()) as never };
  } catch {
    return { status: 0, body: {} };
  }
}

async function ok<T>(gateway: ServingGateway, query: string, variables: Record<string, unknown> = {}, user?: string) {
  const answer = await post(gateway, query, variables, user ? await bearer(user) : null);
  expect(answer.body.errors).toBeUndefined();
  expect(answer.status).toBe(200);
  return answer.body.data as T;
}

beforeAll(async () => {
  [db, redis, target] = await Promise.all([createTestDatabase(), startOwnRedis(), startHttpTarget()]);
  proxy = await startTcpProxy('127.0.0.1', redis.port);
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
    PLUGBOARD_PLUGINS: 'jobs,realtime,echo',
    PLUGBOARD_JWT_SECRET: JWT_SECRET,
    PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
    ECHO_API_KEY,
    JOBS_HTTP_ALLOWED_HOSTS: target.host,
    REALTIME_RATE_LIMIT: '50',
    PLUGBOARD_SHUTDOWN_TIMEOUT_MS: '2000',
  };
  // One at a time: both would run the migrations at once (the advisory lock holds one back).
  gateways = [await serveGateway(env), await serveGateway(env)];
  const [a, b] = gateways as [ServingGateway, ServingGateway];
  room = (await ok<{ createRoom: { id: string } }>(a, 'mutation { createRoom(name: "faults") { id } }', {}, 'alice'))
    .createRoom.id;
  await ok(b, 'mutation ($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room }, 'bob');
  alice = connectWs(`${a.url.replace(/^http/, 'ws')}/graphql`, { Authorization: await bearer('alice') });
  await alice.connected;
  echoed = alice.subscribe<Echoed>('subscription { echoed { body } }');
  presence = alice.subscribe<Presence>('subscription ($r: ID!) { presence(roomId: $r) { userId status } }', {
    r: room,
  });
});

afterAll(async () => {
  await alice?.client.dispose();
  await Promise.all((gateways ?? []).map((gateway) => gateway.stop()));
  await proxy?.cut();
  await Promise.all([redis?.stop(), target?.close(), db?.drop()]);
});

/**
 * Publishes from gateway B until alice, subscribed on gateway A, gets one of them: the Redis
 * channel between them works. Resolves with when the first one arrived.
 */
async function untilEchoesArrive(label: string): Promise<number> {
  const [, b] = gateways as [ServingGateway, ServingGateway];
  let sent = 0;
  const sending = keepSending(1, async () => {
    await post(b, 'mutation ($body: String!) { echo(body: $body) { id } }', { body: `${label}-${sent++}` }, null);
    await sleep(100);
  });
  try {
    await nextMatching(echoed, (value) => value.data?.echoed.body.startsWith(`${label}-`) === true, 30_000);
    return Date.now();
  } finally {
    await sending.stop();
  }
}

async function setPresence(status: string): Promise<number> {
  const [, b] = gateways as [ServingGateway, ServingGateway];
  const answer = await post(
    b,
    'mutation ($s: PresenceStatus!) { setPresence(status: $s) { status } }',
    { s: status },
    await bearer('bob'),
  );
  return answer.status;
}

/**
 * Runs one fault under load: jobs enqueued on both gateways with idempotency keys (retried
 * with the same key until acknowledged, as a client should), Postgres-only queries on both,
 * /readyz watched; `fault` breaks Redis and resolves once it is back, after `noticed`: /readyz
 * has said 503 and a Postgres-only query has been answered since Redis went away.
 */
async function underLoad(name: string, fault: (noticed: () => Promise<void>) => Promise<void>) {
  await untilEchoesArrive(`${name}-before`);
  const acknowledged = new Set<string>();
  const enqueueAnswers: Answer[] = [];
  const queryAnswers: Answer[] = [];
  let next = 0;
  const enqueuers = keepSending(ENQUEUERS, async () => {
    const key = `${name}-${next++}`;
    for (let attempt = 0; !acknowledged.has(key); attempt++) {
      const answer = await post(
        gateways[(next + attempt) % 2]!,
        'mutation ($p: JSON!, $k: String!) { enqueueJob(type: "http-request", payload: $p, options: { jobId: $k }) { id } }',
        { p: { url: `${target.url}/ok?key=${key}` }, k: key },
        null,
      );
      enqueueAnswers.push({ at: Date.now(), status: answer.status, code: answer.body.errors?.[0]?.extensions?.code });
      if (answer.status === 200 && !answer.body.errors) acknowledged.add(key);
      else await sleep(200);
    }
  });
  const queries = keepSending(2, async () => {
    const answer = await post(gateways[next % 2]!, '{ echoCount }', {}, null);
    queryAnswers.push({ at: Date.now(), status: answer.status, code: answer.body.errors?.[0]?.extensions?.code });
    await sleep(20);
  });
  const readiness = watchStatus(`${gateways[0]!.url}/readyz`);

  await expect.poll(() => acknowledged.size, { timeout: 20_000 }).toBeGreaterThanOrEqual(10);
  const broken = Date.now();
  const inFlight = enqueuers.inFlight();
  const acknowledgedBefore = acknowledged.size;
  await fault(() =>
    expect
      .poll(
        () =>
          readiness.answers.some((answer) => answer.at > broken && answer.status === 503) &&
          queryAnswers.some((answer) => answer.at > broken),
        { timeout: 10_000 },
      )
      .toBe(true),
  );
  const back = Date.now();

  // A subscription opened before the fault gets what is published after it, on the same socket.
  const resumedAt = await untilEchoesArrive(`${name}-after`);
  // Presence: bob's change while Redis was away reached Postgres; the next one reaches alice too.
  await expect.poll(() => setPresence('AWAY')).toBe(200);
  await nextMatching(presence, (value) => value.data?.presence.status === 'AWAY', 10_000);
  const [a] = gateways as [ServingGateway];
  expect(
    await ok<{ presenceOf: { status: string }[] }>(a, 'query { presenceOf(userIds: ["bob"]) { status } }', {}, 'alice'),
  ).toEqual({ presenceOf: [{ status: 'AWAY' }] });

  await expect.poll(() => acknowledged.size, { timeout: 30_000 }).toBeGreaterThanOrEqual(acknowledgedBefore + 10);
  await Promise.all([enqueuers.stop(), queries.stop(), readiness.stop()]);

  // Queries that need no Redis were answered 200 all along, outage or not.
  expect(queryAnswers.filter((answer) => answer.status !== 200)).toEqual([]);
  // Enqueues could not be answered while Redis was away; none was answered with a 500 or a reset.
  expect(enqueueAnswers.filter((answer) => answer.status !== 200 && answer.code !== 'SERVICE_UNAVAILABLE')).toEqual([]);
  expect(firstAfter(readiness.answers, back, (answer) => answer.status === 200)).toBeDefined();

  // Every acknowledged job ran; the queue is then empty, so none is left to run a second time.
  const calls = () => {
    const counts = new Map<string, number>();
    for (const call of target.callsTo('/ok')) {
      const key = new URL(call.url, 'http://target').searchParams.get('key')!;
      if (key.startsWith(`${name}-`)) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  };
  await expect.poll(() => [...acknowledged].filter((key) => !calls().has(key)), { timeout: 60_000 }).toEqual([]);
  await expect
    .poll(
      async () => {
        const { queueStats } = await ok<{
          queueStats: { queue: string; waiting: number; active: number; delayed: number }[];
        }>(a, '{ queueStats { queue waiting active delayed } }');
        const queue = queueStats.find((q) => q.queue === 'default');
        return queue ? queue.waiting + queue.active + queue.delayed : 0;
      },
      { timeout: 60_000 },
    )
    .toBe(0);
  const counts = calls();
  const duplicated = [...counts].filter(([, n]) => n > 1);
  expect(duplicated).toEqual([]);
  // Neither gateway exited or started again.
  for (const gateway of gateways) {
    expect(gateway.child.exitCode).toBeNull();
    expect(gateway.output().match(/"msg":"gateway listening"/g)).toHaveLength(1);
  }

  const applied = [...acknowledged].filter((key) => counts.has(key)).length;
  const runsAfter = target.callsTo('/ok').filter((call) => call.at >= back && call.url.includes(`key=${name}-`));
  const jobsResumedAt = Math.min(...runsAfter.map((call) => call.at));
  // A job taken from the queue just as the connection was cut runs once its lock (30 s) lapses.
  const lastJobAt = Math.max(...runsAfter.map((call) => call.at));
  printFigures({
    fault:
      name === 'restart' ? 'Redis killed (SIGKILL) and restarted' : `Redis unreachable for ${UNREACHABLE_MS / 1000} s`,
    load: `${ENQUEUERS} job enqueuers + 2 Postgres-only query senders over 2 gateways; ${queryAnswers.length} queries (all 200), ${enqueueAnswers.length} enqueue requests`,
    inFlight,
    acknowledged: acknowledged.size,
    applied,
    lost: acknowledged.size - applied,
    duplicated: [...counts.values()].reduce((sum, n) => sum + n, 0) - counts.size,
    recovery: `${resumedAt - back} ms to the first event through Redis on an old subscription; jobs ran again ${jobsResumedAt - back} ms after, the last ${lastJobAt - back} ms after`,
  });
}

describe('Redis faults', () => {
  it('Redis killed and restarted: subscriptions resume, presence converges, jobs run exactly once', async () => {
    await underLoad('restart', async (noticed) => {
      await redis.kill();
      // Bob's presence changes while the gateways cannot publish it; Postgres keeps it.
      expect(await setPresence('BUSY')).toBe(200);
      await noticed();
      await redis.start();
    });
  });

  it(`Redis unreachable for ${UNREACHABLE_MS / 1000} s: the same, and Postgres-only queries answered throughout`, async () => {
    await underLoad('unreachable', async (noticed) => {
      const cut = Date.now();
      await proxy.cut();
      expect(await setPresence('BUSY')).toBe(200);
      await noticed();
      // The rest of the outage: how long Redis stays away (nothing is asserted by waiting).
      await sleep(cut + UNREACHABLE_MS - Date.now());
      await proxy.reopen();
    });
  });
});

/**
 * Two gateways on a real Redis Cluster (three masters, three replicas, started here): pubsub,
 * typing state, the notifications rate limit, cache-clear and BullMQ jobs all work through
 * ioredis' Cluster client. Then the master holding the queue's hash slot (`{plugboard}`), which
 * also holds both gateways' subscriber connections, is SIGKILLed: its replica is promoted, the
 * open subscriptions keep delivering, and every job enqueued before, during and after the
 * failover runs exactly once.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisClient, parseRedisUrl, type RedisClient } from '../../gateway/redis.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startHttpTarget, type HttpTarget } from '../support/http-target.ts';
import { startMailSink, type MailSink } from '../support/mail-sink.ts';
import { redisClusterToolsPresent, startRedisCluster, type TestRedisCluster } from '../support/redis-cluster.ts';
import { ADMIN_SECRET, signToken } from '../support/tokens.ts';
import { connectWs, nextMatching, type TestSubscription, type TestWsClient } from '../support/ws-client.ts';

const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
const EMAIL_RATE_LIMIT = 2;
/** The name of each gateway's pubsub subscriber connection, as ioredis' Cluster names it. */
const SUBSCRIBER_NAME = 'name=ioredis-cluster(subscriber):plugboard-subscribe ';

const present = redisClusterToolsPresent();
if (!present && process.env['CI']) throw new Error('CI is set but redis-server/redis-cli are not installed');

let cluster: TestRedisCluster;
let db: TestDatabase;
let target: HttpTarget;
let mail: MailSink;
let a: TestGateway;
let b: TestGateway;
let redis: RedisClient;
const sockets: TestWsClient[] = [];

const asUser = async (userId: string) => ({ authorization: `Bearer ${await signToken({ userId })}` });

async function ok<T>(
  gateway: TestGateway,
  headers: Record<string, string>,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const { body } = await gateway.gql(query, { variables, headers });
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

async function connect(gateway: TestGateway, userId: string): Promise<TestWsClient> {
  const ws = connectWs(gateway.wsUrl, { Authorization: `Bearer ${await signToken({ userId })}` });
  sockets.push(ws);
  await ws.connected;
  return ws;
}

type RoomEvent = { data?: { roomEvents: { type: string; userId: string | null } } };

/** A new member joins the room through the gateway; followers of roomEvents see MEMBER_JOINED. */
async function join(gateway: TestGateway, room: string, userId: string): Promise<(event: RoomEvent) => boolean> {
  await ok(gateway, await asUser(userId), 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room });
  return (event) => event.data?.roomEvents.type === 'MEMBER_JOINED' && event.data.roomEvents.userId === userId;
}

async function enqueueCall(gateway: TestGateway, key: string): Promise<string> {
  const data = await ok<{ enqueueJob: { id: string } }>(
    gateway,
    admin,
    'mutation($payload: JSON) { enqueueJob(type: "http-request", payload: $payload) { id } }',
    { payload: { url: `${target.url}/ok?job=${key}` } },
  );
  return data.enqueueJob.id;
}

/**
 * Waits until every job completed, then checks each ran once: one attempt, one call to the
 * target. With `inFlight`, jobs that may have been running when a master died: delivery is at
 * least once, so such a job may have been tried again (its call made again), but none is lost.
 */
async function ranOnce(jobs: { id: string; key: string }[], { inFlight = false } = {}): Promise<void> {
  await vi.waitFor(
    async () => {
      for (const { id } of jobs) {
        const { job } = await ok<{ job: { state: string; attemptsMade: number } }>(
          a,
          admin,
          'query($id: ID!) { job(id: $id) { state attemptsMade } }',
          { id },
        );
        expect(job.state, `job ${id}`).toBe('COMPLETED');
        if (inFlight) expect(job.attemptsMade, `job ${id}`).toBeGreaterThanOrEqual(1);
        else expect(job.attemptsMade, `job ${id}`).toBe(1);
      }
    },
    { timeout: 30_000, interval: 200 },
  );
  for (const { key } of jobs) {
    const calls = target.callsTo('/ok').filter((c) => c.url === `/ok?job=${key}`).length;
    if (inFlight) expect(calls, key).toBeGreaterThanOrEqual(1);
    else expect(calls, key).toBe(1);
  }
}

beforeAll(async () => {
  if (!present) return;
  [cluster, db, target, mail] = await Promise.all([
    startRedisCluster(),
    createTestDatabase(),
    startHttpTarget(),
    startMailSink(),
  ]);
  const env = {
    REDIS_URL: cluster.url,
    PLUGBOARD_PLUGINS: 'core,realtime,notifications,jobs',
    JOBS_HTTP_ALLOWED_HOSTS: target.host,
    NOTIFICATIONS_SMTP_URL: mail.url,
    NOTIFICATIONS_EMAIL_FROM: 'Plugboard <no-reply@plugboard.test>',
    NOTIFICATIONS_EMAIL_RATE_LIMIT: String(EMAIL_RATE_LIMIT),
  };
  // Both at once on a fresh database, as a deployment starts its instances.
  [a, b] = await Promise.all([
    startTestGateway({ databaseUrl: db.url, env }),
    startTestGateway({ databaseUrl: db.url, env }),
  ]);
  redis = createRedisClient(parseRedisUrl(cluster.url));
}, 90_000);

afterAll(async () => {
  for (const socket of sockets) await socket.client.dispose();
  redis?.disconnect();
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all([cluster?.stop(), db?.drop(), target?.close(), mail?.close()]);
});

describe.skipIf(!present)('two gateways on a Redis Cluster', () => {
  let room: string;
  let onA: TestSubscription<RoomEvent>;
  let onB: TestSubscription<RoomEvent>;

  it('deliver a published event to subscribers on both instances', async () => {
    const { createRoom } = await ok<{ createRoom: { id: string } }>(
      a,
      await asUser('alice'),
      'mutation { createRoom(name: "cluster") { id } }',
    );
    room = createRoom.id;
    await ok(b, await asUser('bob'), 'mutation($r: ID!) { joinRoom(roomId: $r) { id } }', { r: room });
    const query = 'subscription($r: ID!) { roomEvents(roomId: $r) { type userId } }';
    onA = (await connect(a, 'alice')).subscribe(query, { r: room });
    onB = (await connect(b, 'bob')).subscribe(query, { r: room });
    // The first event is the room as it is: each subscription is set up by then.
    for (const subscription of [onA, onB])
      await nextMatching(subscription, (e) => e.data?.roomEvents.type === 'ROOM_STATE', 5000);
    const joined = await join(b, room, 'dave');
    for (const subscription of [onA, onB]) await nextMatching(subscription, joined, 5000);
  });

  it('share typing state between instances', async () => {
    await ok(a, await asUser('bob'), 'mutation($r: ID!) { startTyping(roomId: $r) }', { r: room });
    // Alice follows on B, which has seen no event of it: B reads who types from the cluster.
    const typing = (await connect(b, 'alice')).subscribe<{ typing: { userId: string; isTyping: boolean } }>(
      'subscription($r: ID!) { typing(roomId: $r) { userId isTyping } }',
      { r: room },
    );
    expect(await nextMatching(typing, () => true, 5000)).toEqual({
      data: { typing: { userId: 'bob', isTyping: true } },
    });
    typing.dispose();
  });

  it('hold email to its rate limit across both instances', async () => {
    await ok(
      a,
      admin,
      'mutation { createNotificationTemplate(input: { name: "ping", subject: "Ping {{ n }}", body: "ping {{ n }}" }) { version } }',
    );
    await ok(
      a,
      admin,
      'mutation { setNotificationRecipient(userId: "carol", email: "carol@example.test") { userId } }',
    );
    const count = 4 * EMAIL_RATE_LIMIT;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: count }, (_, n) =>
        ok(
          n % 2 ? a : b,
          admin,
          'mutation($data: JSON) { sendNotification(userId: "carol", template: "ping", data: $data, channels: [EMAIL]) { notificationIds } }',
          { data: { n } },
        ),
      ),
    );
    // The limiter's window lives in the cluster while the mails go out.
    await expect.poll(() => redis.exists('plugboard:notifications:rate:smtp'), { timeout: 5000, interval: 20 }).toBe(1);
    await mail.waitFor(count, 20_000);
    // Two a second in one-second windows shared by both gateways: four windows, three waits.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
  });

  it('clear cache keys on every master', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `clustercache:${i}`);
    for (const key of keys) await redis.set(key, '1');
    await redis.set('keep:me', '1');
    // Thirty keys hash to slots on every master.
    expect(new Set(await Promise.all(keys.map((key) => cluster.masterOf(key)))).size).toBe(3);
    const { enqueueJob } = await ok<{ enqueueJob: { id: string } }>(
      a,
      admin,
      'mutation { enqueueJob(type: "cache-clear", payload: { pattern: "clustercache:*" }) { id } }',
    );
    await vi.waitFor(
      async () => {
        const { job } = await ok<{ job: { state: string; result: unknown } }>(
          a,
          admin,
          'query($id: ID!) { job(id: $id) { state result } }',
          { id: enqueueJob.id },
        );
        expect(job).toEqual({ state: 'COMPLETED', result: { pattern: 'clustercache:*', deleted: 30 } });
      },
      { timeout: 10_000, interval: 100 },
    );
    for (const key of keys) expect(await redis.exists(key)).toBe(0);
    expect(await redis.get('keep:me')).toBe('1');
  });

  it('run each BullMQ job once, with the queue under one hash tag', async () => {
    const jobs = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => ({
        key: `before-${i}`,
        id: await enqueueCall(i % 2 ? a : b, `before-${i}`),
      })),
    );
    await ranOnce(jobs);
    const queueMaster = await cluster.masterOf('{plugboard}');
    const [, keys] = await cluster.node(queueMaster).scan('0', 'MATCH', '{plugboard}:default:*', 'COUNT', 1000);
    expect(keys.length).toBeGreaterThan(0);
  });

  it('keep subscriptions delivering and jobs running when a master dies and its replica takes over', async () => {
    const victim = await cluster.masterOf('{plugboard}');
    // Move both gateways' subscriber connections onto the victim: each connection closed makes
    // ioredis pick another node at random for it and subscribe it again to its channels.
    await vi.waitFor(
      async () => {
        let onVictim = 0;
        for (const { port } of cluster.nodes) {
          const list = (await cluster.node(port).client('LIST')) as string;
          for (const line of list.split('\n').filter((l) => l.includes(SUBSCRIBER_NAME))) {
            if (port === victim) onVictim++;
            else await cluster.node(port).client('KILL', 'ID', /\bid=(\d+)/.exec(line)![1]!);
          }
        }
        expect(onVictim).toBe(2);
      },
      { timeout: 30_000, interval: 50 },
    );
    // Subscribed again on the victim: an event still reaches both.
    const joined = await join(a, room, 'erin');
    for (const subscription of [onA, onB]) await nextMatching(subscription, joined, 5000);

    const killing = cluster.killMaster(victim);
    // Enqueued while the master is down: the enqueue waits for the promotion instead of failing.
    const during = Promise.all(
      Array.from({ length: 6 }, async (_, i) => ({
        key: `during-${i}`,
        id: await enqueueCall(i % 2 ? a : b, `during-${i}`),
      })),
    );
    const { promoted, tookMs } = await killing;
    expect(promoted).not.toBe(victim);
    console.info(`[redis-cluster] master :${victim} SIGKILLed; replica :${promoted} took over in ${tookMs} ms`);

    // The same subscriptions deliver events published after the failover, on both instances
    // (one published while a subscriber connection was moving to a live node could be missed).
    let attempt = 0;
    await vi.waitFor(
      async () => {
        const joined = await join(a, room, `after-${++attempt}`);
        for (const subscription of [onA, onB]) await nextMatching(subscription, joined, 1000);
      },
      { timeout: 20_000, interval: 100 },
    );
    const after = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => ({
        key: `after-${i}`,
        id: await enqueueCall(i % 2 ? a : b, `after-${i}`),
      })),
    );
    // Jobs enqueued while the master was down may have been running when the cluster moved
    // (at least once); those enqueued after the failover run exactly once.
    await ranOnce(await during, { inFlight: true });
    await ranOnce(after);
    expect(await cluster.masterOf('{plugboard}')).toBe(promoted);
    for (const gateway of [a, b]) expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
  });
});

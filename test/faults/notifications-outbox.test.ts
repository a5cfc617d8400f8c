/**
 * The notifications outbox under a crash (issue 21, process kills), on the Postgres queue and on
 * BullMQ (a redis-server of the test's own). A gateway stores a bulk send's rows, then enqueues
 * their delivery jobs; it is SIGKILLed in between, while the enqueue waits on the queue (a
 * lock on pg-boss's job table, a CLIENT PAUSE of Redis), so the rows stay `queued` with no job.
 * An earlier bulk send's jobs wait in the queue meanwhile (no workers yet). Two new gateways,
 * with workers and a short sweep, deliver both sends: every notification emailed exactly once,
 * the stranded ones through the jobs the sweep enqueued again, the waiting ones through theirs.
 * Prints the figures bench/RELIABILITY.md records ("Process kills").
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../gateway/logger.ts';
import { parseRedisUrl } from '../../gateway/redis.ts';
import { createBullMQQueue } from '../../gateway/queue/bullmq.ts';
import type { QueuePort } from '../../gateway/queue/port.ts';
import { createPostgresQueue } from '../../gateway/queue/postgres.ts';
import { DELIVERY_BATCH, QUEUE } from '../../plugins/notifications/delivery.ts';
import { createTestDatabase } from '../support/database.ts';
import { startMailSink } from '../support/mail-sink.ts';
import { type ServingGateway, serveGateway } from '../support/processes.ts';
import { type OwnRedis, startOwnRedis } from '../support/redis-server.ts';
import { ADMIN_SECRET } from '../support/tokens.ts';

/** Notifications of the send whose jobs are enqueued, and of the one the kill strands. */
const WAITING = 250;
const STRANDED = 500;
const SWEEP_AFTER_SECONDS = 2;

const backends = [{ backend: 'postgres' as const }, { backend: 'bullmq' as const }];

describe('a gateway SIGKILLed between storing notifications and enqueueing their jobs', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it.each(backends)(
    '$backend: the sweep enqueues the stranded rows again; every notification is sent exactly once',
    async ({ backend }) => {
      const db = await createTestDatabase();
      cleanups.push(() => db.drop());
      // A statement of a client that is gone is cancelled within 100 ms, not completed once its lock is granted.
      await db.pool.query(
        `ALTER DATABASE ${new URL(db.url).pathname.slice(1)} SET client_connection_check_interval = '100ms'`,
      );
      const mail = await startMailSink();
      cleanups.push(() => mail.close());
      let redis: OwnRedis | undefined;
      if (backend === 'bullmq') {
        redis = await startOwnRedis();
        cleanups.push(() => redis!.stop());
      }
      const env = {
        DATABASE_URL: db.url,
        PLUGBOARD_PLUGINS: 'core,notifications',
        PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
        NOTIFICATIONS_SMTP_URL: mail.url,
        NOTIFICATIONS_SWEEP_INTERVAL: '1',
        NOTIFICATIONS_SWEEP_AFTER: String(SWEEP_AFTER_SECONDS),
        ...(redis ? { JOBS_REDIS_URL: redis.url } : {}),
      };
      const gateways: ServingGateway[] = [];
      cleanups.push(async () => {
        for (const gateway of gateways) if (gateway.child.exitCode === null) await gateway.stop('SIGKILL');
      });
      const serve = async (extra: Record<string, string> = {}) => {
        const gateway = await serveGateway({ ...env, ...extra });
        gateways.push(gateway);
        return gateway;
      };
      const admin = (gateway: ServingGateway, query: string, variables: Record<string, unknown> = {}) =>
        fetch(`${gateway.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET },
          body: JSON.stringify({ query, variables }),
        });
      const sendBulk = (gateway: ServingGateway, users: string[], title: string) =>
        admin(
          gateway,
          'mutation($u: [ID!]!, $t: String!) { sendBulkNotifications(userIds: $u, template: "news", data: { title: $t }, channels: [EMAIL]) { batchId notifications } }',
          { u: users, t: title },
        );
      const users = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
      const waitingUsers = users('waiting', WAITING);
      const strandedUsers = users('stranded', STRANDED);
      // No workers: the first send's jobs wait in the queue.
      const first = await serve({ PLUGBOARD_WORKERS: 'false' });
      await db.pool.query(
        "INSERT INTO notifications.recipients (user_id, email) SELECT u, u || '@outbox.test' FROM unnest($1::text[]) AS u",
        [[...waitingUsers, ...strandedUsers]],
      );
      const template = await admin(
        first,
        'mutation { createNotificationTemplate(input: { name: "news", subject: "{{ title }}", body: "{{ title }}: read more" }) { version } }',
      );
      expect(await template.json()).toEqual({ data: { createNotificationTemplate: { version: 1 } } });
      const acknowledged = await sendBulk(first, waitingUsers, 'waiting');
      expect(await acknowledged.json()).toMatchObject({ data: { sendBulkNotifications: { notifications: WAITING } } });

      // The enqueue of the next send waits on the queue; the kill comes while it does.
      let unblock: () => Promise<unknown>;
      if (redis) {
        await redis.client.call('CLIENT', 'PAUSE', '60000', 'WRITE');
        unblock = () => redis.client.call('CLIENT', 'UNPAUSE');
      } else {
        const locker = new pg.Client({ connectionString: db.url });
        await locker.connect();
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE pgboss.job IN SHARE MODE');
        unblock = async () => {
          await locker.query('ROLLBACK');
          await locker.end();
        };
      }
      const cut = sendBulk(first, strandedUsers, 'stranded').then(
        (response) => response.status,
        () => 'no answer',
      );
      const storedRows = async () =>
        Number(
          (
            await db.pool.query<{ n: string }>(
              'SELECT count(*) AS n FROM notifications.notifications WHERE user_id = ANY($1)',
              [strandedUsers],
            )
          ).rows[0]!.n,
        );
      await expect.poll(storedRows, { timeout: 20_000, interval: 20 }).toBe(STRANDED);
      await first.stop('SIGKILL');
      expect(await cut).toBe('no answer');
      // Its connections gone (the one waiting on the queue too), the queue is let go.
      if (redis) {
        await expect
          .poll(
            async () =>
              String(await redis.client.call('CLIENT', 'LIST'))
                .trim()
                .split('\n').length,
            {
              timeout: 10_000,
              interval: 50,
            },
          )
          .toBe(1);
      } else {
        await expect
          .poll(
            async () =>
              (
                await db.pool.query(
                  "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'plugboard%'",
                )
              ).rowCount,
            { timeout: 10_000, interval: 50 },
          )
          .toBe(0);
      }
      await unblock();

      // Stranded: every row queued, never attempted, and the job its key names is not in the queue.
      const log = createLogger('silent');
      const port: QueuePort = redis
        ? await createBullMQQueue(parseRedisUrl(redis.url), { log })
        : await createPostgresQueue(db.url, { log });
      cleanups.push(() => port.close({ timeoutMs: 1000 }));
      const rowsOf = async (list: string[]) =>
        (
          await db.pool.query<{ id: string; status: string; attempts: number; delivery_job: string }>(
            'SELECT id::text, status, attempts, delivery_job FROM notifications.notifications WHERE user_id = ANY($1)',
            [list],
          )
        ).rows;
      const stranded = await rowsOf(strandedUsers);
      expect(stranded.filter((row) => row.status !== 'queued' || row.attempts !== 0)).toEqual([]);
      const strandedJobs = [...new Set(stranded.map((row) => row.delivery_job))];
      expect(strandedJobs).toHaveLength(STRANDED / DELIVERY_BATCH);
      const present = await Promise.all(strandedJobs.map((key) => port.getJob(QUEUE, key)));
      expect(present.filter((job) => job !== null)).toEqual([]);
      const waitingJobs = [...new Set((await rowsOf(waitingUsers)).map((row) => row.delivery_job))];
      const queued = await Promise.all(waitingJobs.map((key) => port.getJob(QUEUE, key)));
      expect(queued.map((job) => job?.state)).toEqual(waitingJobs.map(() => 'waiting'));

      // Two gateways at once, both sweeping: a job enqueued again twice is still one job.
      const restarted = performance.now();
      const [second, third] = await Promise.all([serve(), serve()]);
      const listening = performance.now() - restarted;
      const all = [...waitingUsers, ...strandedUsers];
      await expect
        .poll(
          async () =>
            (await rowsOf(all)).filter((row) => row.status !== 'sent').map((row) => `${row.id} ${row.status}`),
          { timeout: 40_000, interval: 100 },
        )
        .toEqual([]);
      const recovered = performance.now() - restarted;
      // The mail sink takes each message before its send is recorded: nothing more can arrive.
      const sentIds = (await rowsOf(all)).map((row) => row.id).sort();
      const mailed = mail.messages.map((message) => String(message.headers.get('x-plugboard-notification')));
      const twice = mailed.filter((id, i) => mailed.indexOf(id) !== i);
      expect(twice).toEqual([]);
      expect(mailed.sort()).toEqual(sentIds);
      expect(`${second.output()}${third.output()}`).toMatch(/lost their delivery job/);

      console.log(
        `[process kills] gateway SIGKILL between storing notifications and enqueueing their jobs, ${backend}: ` +
          `load two bulk sends, ${WAITING} (jobs enqueued, waiting) + ${STRANDED} (cut off); ` +
          `in flight at the kill ${STRANDED} stored rows with no job (${strandedJobs.length} jobs); ` +
          `acknowledged ${WAITING} (the cut-off send got no answer); applied ${sentIds.length} emails, each once; ` +
          `lost 0; duplicated ${twice.length}; recovered in ${(recovered / 1000).toFixed(1)} s with ` +
          `NOTIFICATIONS_SWEEP_AFTER=${SWEEP_AFTER_SECONDS} (two gateways listening after ${(listening / 1000).toFixed(1)} s)`,
      );
      expect(await Promise.all([second.stop('SIGTERM'), third.stop('SIGTERM')])).toEqual([0, 0]);
    },
    80_000,
  );
});

/**
 * Notifications, measured against the raw libraries underneath, in one run:
 *
 * 1. Email delivery: COUNT emails (BENCH_EMAILS, 5,000) delivered to a local SMTP sink (its own
 *    process, bench/peers/smtp-sink.ts) by `plugboard notifications worker` (pg-boss queue,
 *    NOTIFICATIONS_CONCURRENCY 50, pool of 5 SMTP connections) against raw nodemailer's pooled
 *    transport (bench/peers/nodemailer-send.ts: same pool, same in-flight limit, same message).
 *    Both senders run on core 1; the rate is the sink's, first message to last.
 * 2. Bulk enqueue: sendBulkNotifications to BENCH_RECIPIENTS (100,000) users over HTTP (render
 *    once, one insert of 100,000 rows, 4,000 deliver-batch jobs of 25) against raw pg-boss
 *    `insert` of one job per recipient, 100,000 (same payload shape, ids, retry settings), in
 *    batches of 5,000: the rate at which a send to that many people is accepted.
 * Goals: email ≥ 80 % of raw nodemailer; bulk ≥ 50 % of the raw queue's addBulk rate.
 *
 * Run: npm run bench:notifications   (BENCH_EMAILS, BENCH_RECIPIENTS, BENCH_ROUNDS)
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { queueSettings } from '../gateway/queue/postgres.ts';
import {
  cleanUpOnSignal,
  freePort,
  freshDatabase,
  inTurn,
  median,
  migrate,
  pinned,
  readyz,
  ROOT,
  type Server,
  startServer,
} from './support.ts';

const EMAILS = Number(process.env['BENCH_EMAILS'] ?? 5_000);
const RECIPIENTS = Number(process.env['BENCH_RECIPIENTS'] ?? 100_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const ADMIN_SECRET = 'bench-admin-secret-0123456789';
const CHUNK = 5_000;

interface SinkStats {
  count: number;
  firstAt: number;
  lastAt: number;
}

const children = new Set<ChildProcess>();
const track = (child: ChildProcess) => {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
};

async function startSink(): Promise<{ url: string; stats(reset?: boolean): Promise<SinkStats>; stop(): void }> {
  const port = await freePort();
  const child = track(
    fork('bench/peers/smtp-sink.ts', {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', PORT: String(port) },
      execPath: process.execPath,
    }),
  );
  await once(child, 'message');
  return {
    url: `smtp://127.0.0.1:${port}`,
    async stats(reset = false) {
      const reply = once(child, 'message') as Promise<[SinkStats]>;
      child.send(reset ? 'reset' : 'stats');
      return (await reply)[0];
    },
    stop: () => void child.kill('SIGKILL'),
  };
}

const rate = (s: SinkStats) => ((s.count - 1) / (s.lastAt - s.firstAt)) * 1000;

async function waitForSink(
  sink: Awaited<ReturnType<typeof startSink>>,
  count: number,
  timeoutMs = 300_000,
): Promise<SinkStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await sink.stats();
    if (stats.count >= count) return stats;
    if (Date.now() > deadline) throw new Error(`sink got ${stats.count} of ${count} messages`);
    await sleep(100);
  }
}

const database = await freshDatabase('bench_notifications');
let gateway: Server | undefined;
let sink: Awaited<ReturnType<typeof startSink>> | undefined;
cleanUpOnSignal(async () => {
  for (const child of children) child.kill('SIGKILL');
  await gateway?.stop();
  await database.drop();
});

try {
  sink = await startSink();
  const env = {
    DATABASE_URL: database.url,
    PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
    PLUGBOARD_PLUGINS: 'core,notifications',
    PLUGBOARD_WORKERS: 'false',
    PLUGBOARD_BODY_LIMIT: String(16 * 1024 * 1024),
    NOTIFICATIONS_SMTP_URL: sink.url,
    NODE_ENV: 'production',
    // Documents as text, as before trusted documents (issue 23).
    PLUGBOARD_DOCUMENTS: 'any',
    LOG_LEVEL: 'warn',
  };
  migrate(env);
  const db = new pg.Client(database.url);
  await db.connect();
  await db.query(
    "INSERT INTO notifications.recipients (user_id, email) SELECT 'u' || i, 'u' || i || '@bench.test' FROM generate_series(0, $1 - 1) AS i",
    [Math.max(RECIPIENTS, EMAILS)],
  );
  await db.end();

  gateway = await startServer(['bin/plugboard.js', 'serve'], env, readyz);
  const graphql = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${gateway!.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as {
      data?: Record<string, { batchId: string; notifications: number }>;
      errors?: unknown[];
    };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data!;
  };
  await graphql(
    'mutation { createNotificationTemplate(input: { name: "bench", channel: EMAIL, subject: "Bench {{ title }}", body: "Bench {{ title }}: read more" }) { id } }',
  );
  const users = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
  const BULK =
    'mutation($u: [ID!]!) { sendBulkNotifications(userIds: $u, template: "bench", data: { title: "news" }, channels: [EMAIL], category: "bench") { batchId notifications } }';

  console.log(
    `Notifications — email: ${EMAILS} messages × ${ROUNDS} rounds; bulk: ${RECIPIENTS} recipients × ${ROUNDS} rounds`,
  );

  // 1. Email delivery (first, so no bulk-phase jobs wait in the queue for the worker).
  const raw: number[] = [];
  const ours: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await inTurn(
      round,
      async () => {
        await sink!.stats(true);
        const [command, ...args] = pinned(1, [process.execPath, 'bench/peers/nodemailer-send.ts']);
        const sender = track(
          spawn(command!, args, {
            cwd: ROOT,
            env: {
              PATH: process.env['PATH'] ?? '',
              SMTP_URL: sink!.url,
              COUNT: String(EMAILS),
              IN_FLIGHT: '50',
              POOL_SIZE: '5',
            },
            stdio: 'inherit',
          }),
        );
        await once(sender, 'exit');
        raw.push(rate(await waitForSink(sink!, EMAILS)));
      },
      async () => {
        await graphql(BULK, { u: users(EMAILS) });
        await sink!.stats(true);
        const [command, ...args] = pinned(1, [process.execPath, 'bin/plugboard.js', 'notifications', 'worker']);
        // BENCH_WORKER_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the worker.
        const profile = process.env['BENCH_WORKER_NODE_OPTIONS']
          ? { NODE_OPTIONS: process.env['BENCH_WORKER_NODE_OPTIONS'] }
          : {};
        const worker = track(
          spawn(command!, args, {
            cwd: ROOT,
            env: { PATH: process.env['PATH'] ?? '', ...env, ...profile },
            stdio: ['ignore', 'ignore', 'inherit'],
          }),
        );
        const stats = await waitForSink(sink!, EMAILS);
        worker.kill('SIGTERM');
        await once(worker, 'exit');
        ours.push(rate(stats));
      },
    );
    console.log(
      `  email round ${round + 1}: raw nodemailer ${raw.at(-1)!.toFixed(0)}/s, plugboard worker ${ours.at(-1)!.toFixed(0)}/s → ${((ours.at(-1)! / raw.at(-1)!) * 100).toFixed(1)} %`,
    );
  }
  const emailRatios = raw.map((r, i) => ours[i]! / r);

  // 2. Bulk enqueue.
  const boss = new PgBoss({ connectionString: database.url, application_name: 'bench-raw' });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('bench-raw', queueSettings());
  const rawBulk: number[] = [];
  const oursBulk: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await inTurn(
      round,
      async () => {
        const started = performance.now();
        for (let start = 0; start < RECIPIENTS; start += CHUNK) {
          const jobs = Array.from({ length: Math.min(CHUNK, RECIPIENTS - start) }, () => ({
            id: randomUUID(),
            data: { type: 'deliver', data: { id: randomUUID() } },
            retryLimit: 4,
            retryDelay: 2,
            retryBackoff: true,
          }));
          await boss.insert('bench-raw', jobs, { returnId: true });
        }
        rawBulk.push((RECIPIENTS / (performance.now() - started)) * 1000);
      },
      async () => {
        const started = performance.now();
        const { sendBulkNotifications: receipt } = await graphql(BULK, { u: users(RECIPIENTS) });
        if (receipt!.notifications !== RECIPIENTS)
          throw new Error(`enqueued ${receipt!.notifications} of ${RECIPIENTS}`);
        oursBulk.push((RECIPIENTS / (performance.now() - started)) * 1000);
      },
    );
    console.log(
      `  bulk round ${round + 1}: raw pg-boss insert ${rawBulk.at(-1)!.toFixed(0)} jobs/s, sendBulkNotifications ${oursBulk.at(-1)!.toFixed(0)} notifications/s → ${((oursBulk.at(-1)! / rawBulk.at(-1)!) * 100).toFixed(1)} %`,
    );
  }
  await boss.stop({ graceful: false, close: true });
  const bulkRatios = rawBulk.map((r, i) => oursBulk[i]! / r);

  console.log(
    `\n  email delivery: plugboard ${median(ours).toFixed(0)}/s vs raw nodemailer ${median(raw).toFixed(0)}/s → ${(median(emailRatios) * 100).toFixed(1)} % (goal >= 80 %)`,
  );
  console.log(
    `  bulk enqueue:   plugboard ${median(oursBulk).toFixed(0)}/s vs raw pg-boss insert ${median(rawBulk).toFixed(0)}/s → ${(median(bulkRatios) * 100).toFixed(1)} % (goal >= 50 %)`,
  );
} finally {
  for (const child of children) child.kill('SIGKILL');
  await gateway?.stop();
  await database.drop();
}

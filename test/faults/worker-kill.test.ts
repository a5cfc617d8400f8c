/**
 * A job worker SIGKILLed mid-job (issue 21, process kills), on the Postgres queue (pg-boss) and
 * on BullMQ (a redis-server of the test's own). Two real `plugboard jobs worker` processes work
 * a backlog of http-request jobs against an API that applies each request's effect once per
 * Idempotency-Key (as payment and email APIs do) and takes a while to answer; one worker is
 * SIGKILLed while it holds jobs. The other runs those again once their lock or heartbeat lapses
 * (PLUGBOARD_JOB_STALL_SECONDS, 10 here): every job completes, every effect is applied once,
 * and the only repeated attempts are of jobs the killed worker held. Prints the figures
 * bench/RELIABILITY.md records ("Process kills"); the rerun latency is the stall time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, it } from 'vitest';
import { createLogger } from '../../gateway/logger.ts';
import { parseRedisUrl } from '../../gateway/redis.ts';
import { createBullMQQueue } from '../../gateway/queue/bullmq.ts';
import type { QueuePort } from '../../gateway/queue/port.ts';
import { createPostgresQueue } from '../../gateway/queue/postgres.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type OwnRedis, startOwnRedis } from '../support/redis-server.ts';

const JOBS = 150;
const CONCURRENCY = 5;
const STALL_SECONDS = 10;
/** How long the API takes to answer: each worker holds CONCURRENCY jobs at a time. */
const ANSWER_MS = 300;
const CLI = fileURLToPath(new URL('../support/cli-with-echo.ts', import.meta.url));

interface Call {
  key: string;
  at: number;
  /** Whether the answer reached the caller's connection (a killed worker's did not). */
  answered: boolean | null;
}

/** An HTTP API whose POST /effect applies its effect once per Idempotency-Key, answering after ANSWER_MS. */
async function startEffectApi() {
  const calls: Call[] = [];
  const effects = new Map<string, string>();
  const server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    const key = String(request.headers['idempotency-key']);
    const call: Call = { key, at: performance.now(), answered: null };
    calls.push(call);
    // Closed before the answer went out: the caller died meanwhile.
    response.on('close', () => (call.answered = response.writableFinished));
    if (!effects.has(key)) effects.set(key, body);
    await sleep(ANSWER_MS);
    if (call.answered === null) response.writeHead(200, { 'content-type': 'application/json' }).end('{"applied":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    calls,
    effects,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const backends = [
  { backend: 'postgres' as const, redis: false },
  { backend: 'bullmq' as const, redis: true },
];

describe('a job worker SIGKILLed mid-job', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  // The two backends at once: most of each run is waiting out the stall time.
  it.concurrent.for(backends)(
    '$backend: another worker runs its jobs again; each effect once, each job completed',
    { timeout: 80_000 },
    async ({ backend, redis: needsRedis }, { expect }) => {
      const db: TestDatabase = await createTestDatabase();
      cleanups.push(() => db.drop());
      const api = await startEffectApi();
      cleanups.push(() => api.close());
      let redis: OwnRedis | undefined;
      if (needsRedis) {
        redis = await startOwnRedis();
        cleanups.push(() => redis!.stop());
      }
      const env = {
        PATH: process.env['PATH'] ?? '',
        DATABASE_URL: db.url,
        PLUGBOARD_PLUGINS: 'core,jobs',
        PLUGBOARD_JOB_STALL_SECONDS: String(STALL_SECONDS),
        JOBS_HTTP_ALLOWED_HOSTS: api.host,
        ...(redis ? { JOBS_REDIS_URL: redis.url } : {}),
      };
      const startWorker = () => {
        const child = spawn(
          process.execPath,
          [CLI, 'jobs', 'worker', 'default', '--concurrency', String(CONCURRENCY)],
          {
            env,
          },
        );
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        cleanups.push(async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        });
        return { child, output: () => output };
      };
      const ready = (worker: { child: ChildProcess; output: () => string }) =>
        expect
          .poll(() => worker.output(), { timeout: 45_000, interval: 50 })
          .toMatch(new RegExp(`worker ${worker.child.pid} working default on ${backend}`));
      const doomed = startWorker();
      await ready(doomed); // it applies the migrations; the second finds them done
      const survivor = startWorker();
      await ready(survivor);

      // The producer is set up as a gateway with the same PLUGBOARD_JOB_STALL_SECONDS is.
      const log = createLogger('silent');
      const port: QueuePort = redis
        ? await createBullMQQueue(parseRedisUrl(redis.url), { log, lockDurationMs: STALL_SECONDS * 1000 })
        : await createPostgresQueue(db.url, { log, heartbeatSeconds: STALL_SECONDS });
      cleanups.push(() => port.close({ timeoutMs: 1000 }));
      const keys = Array.from({ length: JOBS }, () => randomUUID());
      const added = await port.addBulk(
        'default',
        keys.map((key) => ({
          name: 'http-request',
          data: { url: `${api.url}/effect`, headers: { 'idempotency-key': key }, body: { key } },
          options: { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 100 } },
        })),
      );

      // Under load: both workers full (the backlog is far larger than they take at once).
      await expect.poll(() => api.effects.size, { timeout: 30_000, interval: 20 }).toBeGreaterThanOrEqual(JOBS / 3);
      const killedAt = performance.now();
      doomed.child.kill('SIGKILL');

      await expect
        .poll(async () => (await port.counts('default')).completed, { timeout: 60_000, interval: 100 })
        .toBe(JOBS);
      const jobs = await Promise.all(added.map(({ id }) => port.getJob('default', id)));
      expect(jobs.filter((job) => job?.state !== 'completed')).toEqual([]);
      // Each effect applied once (the API keys it on the job's Idempotency-Key), none missing.
      expect([...api.effects.keys()].sort()).toEqual([...keys].sort());

      // Attempts, counted apart: a job ran twice only if the killed worker held it (at most its
      // concurrency), once before the kill and once after; no job ran three times.
      const callsOf = (key: string) => api.calls.filter((call) => call.key === key);
      const rerun = keys.filter((key) => callsOf(key).length > 1);
      expect(rerun.length, 'no job of the killed worker ran again').toBeGreaterThan(0);
      expect(rerun.length).toBeLessThanOrEqual(CONCURRENCY);
      expect(
        rerun.map((key) => callsOf(key).map((call) => (call.at < killedAt ? 'before the kill' : 'after'))),
      ).toEqual(rerun.map(() => ['before the kill', 'after']));
      // A call the kill cut off (no answer reached the worker), or one answered just before it
      // whose completion the worker never recorded: both are the killed worker's.
      const cutOff = api.calls.filter((call) => call.answered === false).length;

      const reruns = rerun.map((key) => callsOf(key)[1]!.at - killedAt);
      console.log(
        `[process kills] worker SIGKILL mid-job, ${backend}: load ${JOBS} http-request jobs on 2 workers × ${CONCURRENCY}, ` +
          `each answered after ${ANSWER_MS} ms; in flight at the kill ${rerun.length} jobs on the killed worker ` +
          `(${cutOff} mid-call); acknowledged (enqueued) ${JOBS}; applied ${api.effects.size}, all completed; ` +
          `lost ${JOBS - api.effects.size}; duplicated effects 0 (${api.calls.length - JOBS} repeated attempts, ` +
          `all of jobs the killed worker held); rerun ${(Math.min(...reruns) / 1000).toFixed(1)}–` +
          `${(Math.max(...reruns) / 1000).toFixed(1)} s after the kill (PLUGBOARD_JOB_STALL_SECONDS=${STALL_SECONDS})`,
      );
      survivor.child.kill('SIGTERM');
    },
  );
});

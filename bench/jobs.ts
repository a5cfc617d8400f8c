/**
 * No-op jobs through the queue port against the raw library each adapter wraps, same settings,
 * measured in one run (rounds alternate which goes first; the figure is the median of per-round ratios):
 *   - BullMQ: Queue.addBulk (batches of 1000) and a Worker at concurrency 50, the port's
 *     retention settings, vs the port's BullMQ adapter. Needs Redis (REDIS_URL, default local).
 *   - pg-boss: insert (batches of 1000) of the rows the adapter stores (the job's type in the
 *     payload, ids returned, as BullMQ's addBulk returns them) into a queue with the adapter's
 *     settings, and work() with the adapter's worker shape (5 fetch loops × batches of 10, burst
 *     while full, per-job results), vs the port's Postgres adapter.
 * Target: the port >= 90% of raw for both add and process throughput.
 *
 * Run: npm run bench:jobs   (BENCH_JOBS, BENCH_ROUNDS tune it; the benchmark runs pinned to core 1,
 * BENCH_PIN=false unpinned)
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { PgBoss, type JobWithMetadata } from 'pg-boss';
import { createLogger } from '../gateway/logger.ts';
import type { BullMQQueuePort, QueuePort } from '../gateway/queue/port.ts';
import { createBullMQQueue } from '../gateway/queue/bullmq.ts';
import { createPostgresQueue, queueSettings, workerShape } from '../gateway/queue/postgres.ts';
import { parseRedisUrl } from '../gateway/redis.ts';
import { freshDatabase, inTurn, median, pinning, runPinnedSelf } from './support.ts';

const JOBS = Number(process.env['BENCH_JOBS'] ?? 20_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const CONCURRENCY = 50;
const BATCH = 1000;
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const log = createLogger('warn');

interface Figures {
  addPerSecond: number;
  processPerSecond: number;
  /** This process's CPU time (user + system) per job while processing, in µs: what the VM's drift in wall-clock speed disturbs least. */
  processCpuPerJob: number;
}

const perSecond = (count: number, ms: number) => (count / ms) * 1000;
const suffix = () => randomBytes(3).toString('hex');

/** Adds JOBS no-op jobs in batches, then processes them; times each phase. */
async function measure(
  add: (batch: number) => Promise<void>,
  work: (onDone: () => void) => Promise<() => Promise<void>>,
): Promise<Figures> {
  const addStarted = performance.now();
  for (let added = 0; added < JOBS; added += BATCH) await add(Math.min(BATCH, JOBS - added));
  const addMs = performance.now() - addStarted;
  let done = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const processStarted = performance.now();
  const cpuStarted = process.cpuUsage();
  const stop = await work(() => {
    if (++done === JOBS) finished();
  });
  await allDone;
  const processMs = performance.now() - processStarted;
  const cpu = process.cpuUsage(cpuStarted);
  await stop();
  return {
    addPerSecond: perSecond(JOBS, addMs),
    processPerSecond: perSecond(JOBS, processMs),
    processCpuPerJob: (cpu.user + cpu.system) / JOBS,
  };
}

const KEEP_COMPLETED = { age: 24 * 3600, count: 10_000 };
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 50_000 };

async function rawBullMQ(): Promise<Figures> {
  const prefix = `bench-${suffix()}`;
  const name = 'noop';
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection, prefix });
  const figures = await measure(
    async (n) => {
      await queue.addBulk(
        Array.from({ length: n }, () => ({
          name: 'noop',
          data: {},
          opts: { removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED },
        })),
      );
    },
    async (onDone) => {
      // BullMQ leaves a connection it was handed open on close: this one is ours to end.
      const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
      const worker = new Worker(name, async () => undefined, {
        connection: workerConnection,
        prefix,
        concurrency: CONCURRENCY,
        removeOnComplete: KEEP_COMPLETED,
        removeOnFail: KEEP_FAILED,
      });
      worker.on('completed', onDone);
      return async () => {
        await worker.close();
        workerConnection.disconnect();
      };
    },
  );
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return figures;
}

async function throughPort(open: () => Promise<QueuePort>): Promise<Figures> {
  const port = await open();
  const name = `noop${suffix()}`;
  // The queue exists before timing starts, as the raw runs create theirs first; otherwise the
  // port's first add would pay for creating it (pg-boss: several round trips).
  await port.counts(name);
  const figures = await measure(
    async (n) => {
      await port.addBulk(
        name,
        Array.from({ length: n }, () => ({ name: 'noop', data: {} })),
      );
    },
    async (onDone) => {
      port.local.on('event', (event) => event.kind === 'completed' && onDone());
      const worker = await port.process(name, async () => undefined, { concurrency: CONCURRENCY, timeoutMs: 60_000 });
      return () => worker.close();
    },
  );
  // As the raw run does: each round leaves Redis as it found it.
  if (port.backend === 'bullmq') await (port as BullMQQueuePort).bullQueue(name).obliterate({ force: true });
  await port.close({ timeoutMs: 2000 });
  return figures;
}

async function rawPgBoss(databaseUrl: string): Promise<Figures> {
  const boss = new PgBoss({ connectionString: databaseUrl, application_name: 'bench-raw', useListenNotify: true });
  boss.on('error', () => {});
  await boss.start();
  const name = `noop${suffix()}`;
  await boss.createQueue(name, queueSettings());
  const { perBatch, workOptions: options } = workerShape(CONCURRENCY);
  const figures = await measure(
    async (n) => {
      // The same job the port stores (its type travels in the payload) and the same answer (the ids).
      await boss.insert(
        name,
        Array.from({ length: n }, () => ({ data: { type: 'noop', data: {} } })),
        { returnId: true },
      );
    },
    async (onDone) => {
      const workId = await boss.work<object, unknown, typeof options>(
        name,
        options,
        async (jobs: JobWithMetadata<object>[]) => {
          const results = [];
          for (let i = 0; i < jobs.length; i += perBatch) {
            results.push(
              ...(await Promise.all(
                jobs
                  .slice(i, i + perBatch)
                  .map(async (job) => ({ id: job.id, status: 'completed' as const, output: {} })),
              )),
            );
          }
          for (let i = 0; i < jobs.length; i++) onDone();
          return results;
        },
      );
      return () => boss.offWork(name, { id: workId, wait: true });
    },
  );
  await boss.stop({ graceful: true, close: true });
  return figures;
}

function report(title: string, raw: Figures[], port: Figures[]) {
  const ratios = (pick: (f: Figures) => number) => raw.map((r, i) => pick(port[i]!) / pick(r));
  const line = (label: string, pick: (f: Figures) => number) => {
    const r = ratios(pick);
    console.log(
      `  ${label.padEnd(8)} raw ${median(raw.map(pick)).toFixed(0).padStart(7)} jobs/s   port ${median(port.map(pick)).toFixed(0).padStart(7)} jobs/s   ratio ${(median(r) * 100).toFixed(1)} % (rounds ${r.map((x) => (x * 100).toFixed(0)).join(', ')} %; target >= 90 %)`,
    );
  };
  console.log(`\n${title} — ${JOBS} no-op jobs, concurrency ${CONCURRENCY}, ${ROUNDS} rounds`);
  line('add', (f) => f.addPerSecond);
  line('process', (f) => f.processPerSecond);
  // Per job, so the ratio is raw / port: >= 90 % means the port costs at most ~11 % more CPU.
  const cpu = raw.map((r, i) => r.processCpuPerJob / port[i]!.processCpuPerJob);
  console.log(
    `  process CPU per job: raw ${median(raw.map((f) => f.processCpuPerJob)).toFixed(1)} µs   port ${median(port.map((f) => f.processCpuPerJob)).toFixed(1)} µs   raw/port ${(median(cpu) * 100).toFixed(1)} % (rounds ${cpu.map((x) => (x * 100).toFixed(0)).join(', ')} %)`,
  );
}

runPinnedSelf(1);
console.log(
  `Plugboard queue port benchmark, ${pinning} — ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`,
);

if (process.env['BENCH_ONLY'] !== 'postgres') {
  const raw: Figures[] = [];
  const port: Figures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await inTurn(
      round,
      async () => raw.push(await rawBullMQ()),
      async () =>
        port.push(
          await throughPort(() => createBullMQQueue(parseRedisUrl(REDIS_URL), { prefix: `bench-${suffix()}`, log })),
        ),
    );
  }
  report('BullMQ (Redis)', raw, port);
}

if (process.env['BENCH_ONLY'] !== 'bullmq') {
  const database = await freshDatabase();
  try {
    const raw: Figures[] = [];
    const port: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await inTurn(
        round,
        async () => raw.push(await rawPgBoss(database.url)),
        async () => port.push(await throughPort(() => createPostgresQueue(database.url, { log }))),
      );
    }
    report('pg-boss (Postgres)', raw, port);
  } finally {
    await database.drop();
  }
}

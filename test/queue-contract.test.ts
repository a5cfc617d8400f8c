/**
 * The queue port's contract, run unchanged against both adapters: BullMQ on the real Redis and
 * pg-boss on the real Postgres.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { PermanentJobError, type JobEvent, type QueuePort } from '../gateway/queue/port.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import {
  dropPrefix,
  openCronHarness,
  openQueue,
  testPrefix,
  type Backend,
  type QueueTarget,
} from './support/queues.ts';

const redisUrl = inject('redisUrl');
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const backends: Backend[] = ['bullmq', 'postgres'];

/** For `vi.waitFor` / `expect.poll`: the queues' default wait. */
const wait = { timeout: 15_000, interval: 50 };

/** Waits until the job is in `state`, and returns it. */
const jobIn = (port: QueuePort, queue: string, id: string, state: string, timeout = wait.timeout) =>
  vi.waitFor(
    async () => {
      const job = await port.getJob(queue, id);
      expect(job?.state).toBe(state);
      return job!;
    },
    { ...wait, timeout },
  );

const queueName = () => `q${randomBytes(4).toString('hex')}`;

describe.each(backends)('queue port contract: %s', (backend) => {
  const skip = backend === 'bullmq' && !redisUrl;
  let target: QueueTarget;
  let port: QueuePort;

  beforeAll(async () => {
    if (skip) return;
    target = { backend, url: backend === 'bullmq' ? redisUrl : db.url, prefix: testPrefix() };
    port = await openQueue(target);
  });
  afterAll(async () => {
    await port?.close({ timeoutMs: 2000 });
    if (backend === 'bullmq' && target) await dropPrefix(redisUrl, target.prefix);
  });

  it.skipIf(skip)('adds and processes a job, reporting its result and lifecycle', async () => {
    const queue = queueName();
    const local: JobEvent[] = [];
    const remote: JobEvent[] = [];
    port.local.on('event', (e) => e.queue === queue && local.push(e));
    await port.subscribe(queue, (e) => remote.push(e));
    const worker = await port.process(
      queue,
      async (data, job) => ({ doubled: (data as { n: number }).n * 2, type: job.name, attempt: job.attempt }),
      { concurrency: 2, timeoutMs: 5000 },
    );
    const { id } = await port.add(queue, 'double', { n: 21 });
    const done = await jobIn(port, queue, id, 'completed');
    expect(done).toMatchObject({
      id,
      queue,
      name: 'double',
      data: { n: 21 },
      state: 'completed',
      result: { doubled: 42, type: 'double', attempt: 1 },
      attemptsMade: 1,
      maxAttempts: 1,
    });
    expect(local.map((e) => e.kind)).toEqual(['added', 'active', 'completed']);
    // An id the queue may hand out again carries the job's creation time, the same on every event (history tells jobs apart by it).
    expect(new Set(local.map((e) => e.jobCreatedAt)).size).toBe(1);
    if (/^\d+$/.test(id)) expect(local[0]!.jobCreatedAt).toBeGreaterThan(0);
    await expect.poll(() => remote.some((e) => e.kind === 'completed' && e.id === id), { timeout: 5000 }).toBe(true);
    expect(remote.find((e) => e.kind === 'completed')).toMatchObject({
      queue,
      id,
      result: { doubled: 42, type: 'double', attempt: 1 },
    });
    await worker.close();
  });

  it.skipIf(skip)('dedupes by job id', async () => {
    const queue = queueName();
    let runs = 0;
    const first = await port.add(queue, 'once', { v: 1 }, { jobId: 'order-42' });
    const second = await port.add(queue, 'once', { v: 2 }, { jobId: 'order-42' });
    expect(second.id).toBe(first.id);
    const bulk = await port.addBulk(queue, [{ name: 'once', data: { v: 3 }, options: { jobId: 'order-42' } }]);
    expect(bulk[0]!.id).toBe(first.id);
    const worker = await port.process(queue, async (_data, job) => (job.name === 'once' ? ++runs : 0), {
      concurrency: 1,
      timeoutMs: 5000,
    });
    await jobIn(port, queue, 'order-42', 'completed');
    // Barrier: one worker runs jobs in order, so a second copy of order-42 would have run before this marker.
    const marker = await port.add(queue, 'marker', {});
    await jobIn(port, queue, marker.id, 'completed');
    expect(runs).toBe(1);
    expect((await port.counts(queue)).completed).toBe(2);
    expect((await port.getJob(queue, 'order-42'))?.data).toEqual({ v: 1 });
    await worker.close();
  });

  it.skipIf(skip)('delays a job, and counts jobs by state', async () => {
    const queue = queueName();
    const { id } = await port.add(queue, 'later', {}, { delayMs: 1500 });
    await port.add(queue, 'now', {});
    expect(await port.counts(queue)).toMatchObject({ waiting: 1, delayed: 1, active: 0, completed: 0, failed: 0 });
    expect((await port.getJob(queue, id))?.state).toBe('delayed');
    const started = Date.now();
    let ranAt = 0;
    const worker = await port.process(
      queue,
      async (_data, job) => {
        if (job.name === 'later') ranAt = Date.now();
      },
      { concurrency: 1, timeoutMs: 5000 },
    );
    await expect.poll(() => ranAt, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(ranAt - started).toBeGreaterThanOrEqual(1000);
    await expect.poll(async () => (await port.counts(queue)).completed, wait).toBe(2);
    await worker.close();
  });

  it.skipIf(skip)('runs unprioritized jobs first, then by priority, lowest number first', async () => {
    const queue = queueName();
    await port.add(queue, 'p10', {}, { priority: 10 });
    await port.add(queue, 'p1', {}, { priority: 1 });
    await port.add(queue, 'none', {});
    await port.add(queue, 'p5', {}, { priority: 5 });
    const order: string[] = [];
    const worker = await port.process(queue, async (_data, job) => void order.push(job.name), {
      concurrency: 1,
      timeoutMs: 5000,
    });
    await expect.poll(() => order.length, wait).toBe(4);
    expect(order).toEqual(['none', 'p1', 'p5', 'p10']);
    await worker.close();
  });

  it.skipIf(skip)('retries a failing job with exponential backoff until it succeeds', async () => {
    const queue = queueName();
    const attempts: { attempt: number; at: number }[] = [];
    const worker = await port.process(
      queue,
      async (_data, job) => {
        attempts.push({ attempt: job.attempt, at: Date.now() });
        if (job.attempt < 3) throw new Error(`transient failure ${job.attempt}`);
        return 'ok';
      },
      { concurrency: 1, timeoutMs: 5000 },
    );
    const kinds: string[] = [];
    port.local.on('event', (e) => e.queue === queue && kinds.push(e.kind));
    const { id } = await port.add(queue, 'flaky', {}, { attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } });
    const job = await jobIn(port, queue, id, 'completed', 20_000);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    const [first, second, third] = attempts.map((a) => a.at);
    expect(second! - first!).toBeGreaterThanOrEqual(900);
    expect(third! - second!).toBeGreaterThanOrEqual(1800);
    expect(job).toMatchObject({ attemptsMade: 3, maxAttempts: 3, result: 'ok' });
    expect(kinds).toEqual(['added', 'active', 'retrying', 'active', 'retrying', 'active', 'completed']);
    await worker.close();
  });

  it.skipIf(skip)('fails a job for good on a permanent error, and retries it on request', async () => {
    const queue = queueName();
    let calls = 0;
    let healthy = false;
    const worker = await port.process(
      queue,
      async (_data, job) => {
        if (job.name === 'marker') return 'marker';
        calls++;
        if (!healthy) throw new PermanentJobError('bad input, do not retry');
        return 'fixed';
      },
      { concurrency: 1, timeoutMs: 5000 },
    );
    const { id } = await port.add(queue, 'strict', {}, { attempts: 5, backoff: { type: 'fixed', delayMs: 100 } });
    const failed = await jobIn(port, queue, id, 'failed');
    expect(failed.error).toMatch(/bad input, do not retry/);
    // Barrier: a marker due after the retry delay (100 ms; pg-boss rounds it up to 1 s) runs after
    // any retry of the failed job would have (one worker, due jobs in order).
    const marker = await port.add(queue, 'marker', {}, { delayMs: 1500 });
    await jobIn(port, queue, marker.id, 'completed');
    expect(calls).toBe(1);
    expect((await port.getJob(queue, id))?.attemptsMade).toBe(1);
    healthy = true;
    expect(await port.retry(queue, id)).toBe(true);
    await jobIn(port, queue, id, 'completed');
    expect(calls).toBe(2);
    expect(await port.retry(queue, id)).toBe(false);
    await worker.close();
  });

  it.skipIf(skip)('enforces the timeout: the signal aborts and the attempt fails', async () => {
    const queue = queueName();
    let aborted = false;
    const worker = await port.process(
      queue,
      async (_data, job) => {
        job.signal.addEventListener('abort', () => (aborted = true));
        await sleep(3000); // ignores the signal on purpose
      },
      { concurrency: 1, timeoutMs: 300 },
    );
    const { id } = await port.add(queue, 'slow', {});
    const failed = await jobIn(port, queue, id, 'failed', 2500);
    expect(failed.error).toBe('Job timed out after 300 ms');
    expect(aborted).toBe(true);
    await worker.close();
  });

  it.skipIf(skip)('reports progress to subscribers', async () => {
    const queue = queueName();
    const progress: unknown[] = [];
    await port.subscribe(queue, (e) => e.kind === 'progress' && progress.push(e.progress));
    const worker = await port.process(
      queue,
      async (_data, job) => {
        await job.progress(50);
        await job.progress({ step: 'done' });
      },
      { concurrency: 1, timeoutMs: 5000 },
    );
    await port.add(queue, 'steps', {});
    await expect.poll(() => progress.length, { timeout: 5000 }).toBe(2);
    expect(progress).toEqual([50, { step: 'done' }]);
    await worker.close();
  });

  it.skipIf(skip)('cancels a waiting job (it never runs) and an active one (its signal aborts)', async () => {
    const queue = queueName();
    const waiting = await port.add(queue, 'never', {}, { delayMs: 60_000 });
    expect(await port.cancel(queue, waiting.id)).toBe(true);
    const afterCancel = await port.getJob(queue, waiting.id);
    // BullMQ removes a cancelled waiting job; pg-boss keeps it as cancelled.
    expect(afterCancel === null || afterCancel.state === 'cancelled').toBe(true);

    let started = false;
    let abortedWith: unknown;
    const worker = await port.process(
      queue,
      async (_data, job) => {
        started = true;
        await new Promise<void>((resolve) =>
          job.signal.addEventListener('abort', () => {
            abortedWith = job.signal.reason;
            resolve();
          }),
        );
        throw new Error('stopped');
      },
      { concurrency: 1, timeoutMs: 60_000 },
    );
    const active = await port.add(queue, 'long', {}, { attempts: 3 });
    await expect.poll(() => started, wait).toBe(true);
    expect(await port.cancel(queue, active.id)).toBe(true);
    await expect.poll(() => abortedWith, wait).toBeDefined();
    await jobIn(port, queue, active.id, 'cancelled', 5000);
    expect(await port.cancel(queue, active.id)).toBe(false);
    await worker.close();
  });

  it.skipIf(skip)('runs a cron schedule, lists it, and removes it', async () => {
    const cron = await openCronHarness(target, port);
    const queue = queueName();
    const runs: unknown[] = [];
    const worker = await cron.port.process(queue, async (data) => void runs.push(data), {
      concurrency: 1,
      timeoutMs: 5000,
    });
    await cron.port.schedule(queue, 'tick', { cron: cron.cron, timezone: 'Europe/Berlin' }, 'tick', { hello: 'cron' });
    expect(await cron.port.schedules(queue)).toEqual([
      { queue, key: 'tick', name: 'tick', cron: cron.cron, timezone: 'Europe/Berlin', data: { hello: 'cron' } },
    ]);
    for (let elapsed = 0; runs.length < 2 && elapsed < 3; elapsed++) {
      await cron.elapse(cron.cron.split(' ').length === 6 ? 1100 : 61_000);
      await expect.poll(() => runs.length, { timeout: 5000 }).toBeGreaterThan(elapsed);
    }
    expect(runs.slice(0, 2)).toEqual([{ hello: 'cron' }, { hello: 'cron' }]);
    expect(await cron.port.unschedule(queue, 'tick')).toBe(true);
    expect(await cron.port.unschedule(queue, 'tick')).toBe(false);
    expect(await cron.port.schedules(queue)).toEqual([]);
    await worker.close();
    await cron.close();
  });

  it.skipIf(skip)('lets running jobs finish when a worker closes', async () => {
    const queue = queueName();
    let finished = false;
    const worker = await port.process(
      queue,
      async () => {
        await sleep(500);
        finished = true;
      },
      { concurrency: 1, timeoutMs: 5000 },
    );
    const { id } = await port.add(queue, 'finish-me', {});
    await jobIn(port, queue, id, 'active');
    await worker.close();
    expect(finished).toBe(true);
    await jobIn(port, queue, id, 'completed', 3000);
  });

  it.skipIf(skip)(
    'recovers a job whose worker process was killed mid-job (SIGKILL)',
    async () => {
      const queue = queueName();
      const { id } = await port.add(queue, 'survive', {}, { attempts: 3 });
      const script = fileURLToPath(new URL('./support/queue-worker.ts', import.meta.url));
      const spawnWorker = (mode: string) => {
        const child = spawn(process.execPath, [script], {
          env: {
            PATH: process.env['PATH'] ?? '',
            QUEUE_BACKEND: backend,
            QUEUE_URL: target.url,
            QUEUE_PREFIX: target.prefix,
            QUEUE_NAME: queue,
            WORKER_MODE: mode,
          },
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        return { child, output: () => output };
      };
      const doomed = spawnWorker('hang');
      await expect.poll(() => doomed.output(), wait).toContain(`started ${id}`);
      doomed.child.kill('SIGKILL');
      const rescuer = spawnWorker('complete');
      try {
        const job = await jobIn(port, queue, id, 'completed', 40_000);
        expect(rescuer.output()).toContain(`completed ${id}`);
        expect(job.result).toEqual({ by: rescuer.child.pid });
      } finally {
        rescuer.child.kill('SIGTERM');
      }
    },
    60_000,
  );

  it.skipIf(skip)(
    'completes 10,000 jobs with 10% failing transiently: none lost, none completed twice',
    async () => {
      const queue = queueName();
      const completions = new Map<number, number>();
      const failedOnce = new Set<number>();
      const worker = await port.process(
        queue,
        async (data) => {
          const n = (data as { n: number }).n;
          if (n % 10 === 0 && !failedOnce.has(n)) {
            failedOnce.add(n);
            throw new Error('transient');
          }
          completions.set(n, (completions.get(n) ?? 0) + 1);
        },
        { concurrency: 50, timeoutMs: 10_000 },
      );
      const total = 10_000;
      for (let start = 0; start < total; start += 1000) {
        await port.addBulk(
          queue,
          Array.from({ length: 1000 }, (_, i) => ({
            name: 'n',
            data: { n: start + i },
            options: { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 100 } },
          })),
        );
      }
      await expect
        .poll(async () => (await port.counts(queue)).completed, { timeout: 120_000, interval: 200 })
        .toBe(total);
      expect(completions.size).toBe(total);
      expect([...completions.values()].every((count) => count === 1)).toBe(true);
      expect(failedOnce.size).toBe(total / 10);
      expect(await port.counts(queue)).toMatchObject({
        waiting: 0,
        delayed: 0,
        active: 0,
        failed: 0,
        completed: total,
      });
      await worker.close();
    },
    150_000,
  );
});

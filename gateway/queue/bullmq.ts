/**
 * The queue port on BullMQ (Redis). Job type = BullMQ job name; jobId = BullMQ jobId (dedupes);
 * stalled jobs (worker died, lock not renewed) go back to waiting after `lockDurationMs`.
 * Cancelling an active job is broadcast over Redis pub/sub to every worker process; the one
 * running it aborts the job's signal and fails it without retries.
 * On a Redis Cluster the key prefix is a hash tag (`{plugboard}`), so each queue's keys share a
 * slot as BullMQ's multi-key scripts need; on one Redis it is `plugboard`, as it always was.
 */
import { Queue, QueueEvents, UnrecoverableError, Worker as BullWorker, type Job, type JobsOptions } from 'bullmq';
import type { Logger } from 'pino';
import { createRedisClient, type RedisClient, type RedisTarget } from '../redis.ts';
import { settleWithin } from '../timing.ts';
import { currentTraceparent, withJobSpan } from '../tracing.ts';
import {
  checkEnqueueOptions,
  errorMessage,
  jobIdFor,
  LocalJobEvents,
  PermanentJobError,
  RunningAttempts,
  withEnqueueSpans,
  type EnqueueOptions,
  type JobEvent,
  type BullMQQueuePort,
  type JobInfo,
  type JobState,
  type Worker,
} from './port.ts';

export interface BullMQQueueOptions {
  /**
   * Key prefix, so several deployments (or test runs) can share one Redis. Default `plugboard`;
   * made a hash tag (`{plugboard}`) on a cluster.
   */
  prefix?: string;
  /** How long a job's lock lasts without renewal: a dead worker's job is retried after this. */
  lockDurationMs?: number;
  log: Logger;
}

const CANCELLED = 'Cancelled';
/** Finished jobs kept in Redis; the jobs plugin keeps the history in Postgres. */
const KEEP_COMPLETED = { age: 24 * 3600, count: 10_000 };
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 50_000 };

/**
 * Without an idempotency key BullMQ numbers jobs itself ("1", "2", …): a custom id costs its add
 * script an existence check and longer keys, about 14 % of add throughput here.
 */
function bullOptions(queue: string, options: EnqueueOptions = {}, traceparent: string | undefined): JobsOptions {
  checkEnqueueOptions(options);
  return {
    // BullMQ's own slot for a propagated trace context (its telemetry option stays off).
    ...(traceparent ? { telemetry: { metadata: traceparent } } : {}),
    jobId: options.jobId ? jobIdFor(queue, options.jobId) : undefined,
    delay: options.delayMs,
    priority: options.priority,
    attempts: options.attempts ?? 1,
    backoff: options.backoff ? { type: options.backoff.type, delay: options.backoff.delayMs } : undefined,
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  };
}

/** The ids a lookup key may name: a job id as BullMQ numbers them, or an idempotency key's id. */
function candidateIds(queue: string, key: string): string[] {
  return /^\d+$/.test(key) ? [jobIdFor(queue, key), key] : [jobIdFor(queue, key)];
}

/**
 * A numbered job's creation time: the numbers start again after a Redis flush, so a number alone
 * does not name one job (see JobEvent.jobCreatedAt). Jobs with an idempotency key have UUIDs.
 */
function createdAtOf(job: Job): number | undefined {
  return /^\d+$/.test(job.id!) ? job.timestamp : undefined;
}

/** A schedule's jobs get fresh ids from BullMQ. */
function withoutJobId({ jobId: _jobId, ...options }: JobsOptions): JobsOptions {
  return options;
}

function stateOf(bullState: string, job: Job): JobState {
  switch (bullState) {
    case 'completed':
      return 'completed';
    case 'failed':
      return job.failedReason?.startsWith(CANCELLED) ? 'cancelled' : 'failed';
    case 'delayed':
      return 'delayed';
    case 'active':
      return 'active';
    default:
      return 'waiting';
  }
}

/**
 * A BullMQ key prefix for the target: on a cluster every key of a queue must hash to one slot
 * (its scripts take several keys), so the prefix becomes a hash tag, `{plugboard}`. On one Redis
 * it stays as given, so existing deployments keep their queues.
 */
export function queuePrefix(target: RedisTarget, prefix: string): string {
  return target.cluster && !/\{[^{}]+\}/.test(prefix) ? `{${prefix}}` : prefix;
}

/** Lets running jobs finish for up to `timeoutMs`, then stops regardless (bounded even without Redis). */
async function closeWorker(worker: BullWorker, timeoutMs: number): Promise<void> {
  if (!(await settleWithin(timeoutMs, worker.close()))) await settleWithin(2000, worker.close(true));
}

export async function createBullMQQueue(redis: RedisTarget, options: BullMQQueueOptions): Promise<BullMQQueuePort> {
  const prefix = queuePrefix(redis, options.prefix ?? 'plugboard');
  const lockDuration = options.lockDurationMs ?? 30_000;
  const log = options.log;
  const connections: RedisClient[] = [];
  const newConnection = () => {
    const connection = createRedisClient(redis, { maxRetriesPerRequest: null, lazyConnect: true });
    connection.on('error', (error: Error) => log.warn({ err: error }, 'queue Redis connection error'));
    connections.push(connection);
    return connection;
  };
  // Producers share one connection; each worker and event listener gets its own (they block).
  const producer = newConnection();
  await producer.connect();
  const queues = new Map<string, Queue>();
  const workers = new Map<string, { worker: BullWorker; attempts: RunningAttempts }[]>();
  const listeners: { close(): Promise<void> }[] = [];
  const local = new LocalJobEvents();
  const cancelChannel = `${prefix}:plugboard:cancel`;
  let cancelSubscriber: RedisClient | undefined;

  const findJob = async (queue: string, key: string) => {
    for (const id of candidateIds(queue, key)) {
      const job = await queueFor(queue).getJob(id);
      if (job) return job;
    }
    return undefined;
  };
  const queueFor = (name: string) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: producer, prefix });
      queues.set(name, queue);
    }
    return queue;
  };

  const added = (
    queue: string,
    name: string,
    data: unknown,
    jobOptions: EnqueueOptions | undefined,
    job: Job,
  ): JobEvent => ({
    kind: 'added',
    queue,
    id: job.id!,
    jobCreatedAt: createdAtOf(job),
    name,
    data,
    ...(jobOptions ? { options: jobOptions } : {}),
    // When BullMQ made the job, before storing it: a worker elsewhere may run it (and record it
    // completed) before `add` resolves here, and the history keeps the newest event's state.
    at: job.timestamp,
  });

  async function listenForCancels(): Promise<void> {
    if (cancelSubscriber) return;
    cancelSubscriber = newConnection();
    await cancelSubscriber.connect();
    cancelSubscriber.on('message', (_channel: string, message: string) => {
      const [queue = '', id = ''] = message.split('\n');
      for (const { attempts } of workers.get(queue) ?? []) attempts.end(id, CANCELLED);
    });
    await cancelSubscriber.subscribe(cancelChannel);
  }

  const port: BullMQQueuePort = {
    backend: 'bullmq',
    local,
    bullQueue: queueFor,

    async add(queue, name, data, jobOptions) {
      const job = await queueFor(queue).add(name, data, bullOptions(queue, jobOptions, currentTraceparent()));
      local.emitJob(added(queue, name, data, jobOptions, job));
      return { id: job.id! };
    },

    async addBulk(queue, jobs) {
      const traceparent = currentTraceparent();
      const created = await queueFor(queue).addBulk(
        jobs.map((job) => ({ name: job.name, data: job.data, opts: bullOptions(queue, job.options, traceparent) })),
      );
      for (const [i, job] of created.entries())
        local.emitJob(added(queue, jobs[i]!.name, jobs[i]!.data, jobs[i]!.options, job));
      return created.map((job) => ({ id: job.id! }));
    },

    async process(queue, handler, { concurrency, timeoutMs }) {
      await listenForCancels();
      // Cancels end attempts through `attempts`: BullMQ's own per-job AbortSignal, made when a
      // processor takes a third parameter, costs no-op jobs ~10 %.
      const attempts = new RunningAttempts(handler, timeoutMs);
      const worker = new BullWorker(
        queue,
        async (job) => {
          // Events are spread from one fixed-shape object: spreads of varying shapes are slow paths.
          const base = {
            queue,
            id: job.id!,
            jobCreatedAt: createdAtOf(job),
            name: job.name,
            attempt: job.attemptsMade + 1,
            maxAttempts: job.opts.attempts ?? 1,
          };
          local.emitJob({ ...base, kind: 'active', at: Date.now() });
          const context = {
            ...base,
            progress: async (value: number | Record<string, unknown>) => {
              await job.updateProgress(value);
              local.emitJob({ ...base, kind: 'progress', progress: value, at: Date.now() });
            },
          };
          try {
            const result = await withJobSpan(base, job.opts.telemetry?.metadata, () => attempts.run(job.data, context));
            local.emitJob({ ...base, kind: 'completed', result, at: Date.now() });
            return result;
          } catch (error) {
            const message = errorMessage(error);
            if (error === CANCELLED) {
              local.emitJob({ ...base, kind: 'cancelled', at: Date.now() });
              throw new UnrecoverableError(`${CANCELLED}: ${message}`);
            }
            const permanent = error instanceof PermanentJobError;
            const kind = !permanent && base.attempt < base.maxAttempts ? 'retrying' : 'failed';
            local.emitJob({ ...base, kind, error: message, at: Date.now() });
            throw permanent ? new UnrecoverableError(message) : error;
          }
        },
        {
          connection: newConnection(),
          prefix,
          concurrency,
          lockDuration,
          stalledInterval: Math.min(lockDuration, 30_000),
          removeOnComplete: KEEP_COMPLETED,
          removeOnFail: KEEP_FAILED,
        },
      );
      worker.on('error', (error) => log.error({ err: error, queue }, 'queue worker error'));
      workers.set(queue, [...(workers.get(queue) ?? []), { worker, attempts }]);
      await worker.waitUntilReady();
      return {
        close: async ({ timeoutMs = 10_000 } = {}) => {
          await closeWorker(worker, timeoutMs);
          workers.set(
            queue,
            (workers.get(queue) ?? []).filter((w) => w.worker !== worker),
          );
        },
      } satisfies Worker;
    },

    async getJob(queue, key) {
      let found: { bullState: string; job: Job | undefined } | undefined;
      for (const id of candidateIds(queue, key)) {
        // State first: a job read before its state could have finished in between, without its result.
        const bullState = await queueFor(queue).getJobState(id);
        if (bullState !== 'unknown') {
          found = { bullState, job: await queueFor(queue).getJob(id) };
          break;
        }
      }
      if (!found?.job) return null;
      const { bullState, job } = found;
      const state = stateOf(bullState, job);
      return {
        id: job.id!,
        queue,
        name: job.name,
        data: job.data,
        state,
        attemptsMade: job.attemptsStarted ?? job.attemptsMade,
        maxAttempts: job.opts.attempts ?? 1,
        result: job.returnvalue ?? null,
        error: job.failedReason || null,
        createdAt: new Date(job.timestamp),
        startedAt: job.processedOn ? new Date(job.processedOn) : null,
        finishedAt: job.finishedOn ? new Date(job.finishedOn) : null,
      } satisfies JobInfo;
    },

    async retry(queue, key) {
      const job = await findJob(queue, key);
      if (!job || (await job.getState()) !== 'failed') return false;
      await job.retry('failed');
      return true;
    },

    async cancel(queue, key) {
      const job = await findJob(queue, key);
      if (!job) return false;
      const id = job.id!;
      const state = await job.getState();
      if (state === 'active') {
        await producer.publish(cancelChannel, `${queue}\n${id}`);
      } else if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
        await job.remove();
      } else {
        return false;
      }
      local.emitJob({ kind: 'cancelled', queue, id, jobCreatedAt: createdAtOf(job), name: job.name, at: Date.now() });
      return true;
    },

    async counts(queue) {
      const c = await queueFor(queue).getJobCounts(
        'waiting',
        'prioritized',
        'delayed',
        'active',
        'completed',
        'failed',
      );
      return {
        waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0),
        delayed: c['delayed'] ?? 0,
        active: c['active'] ?? 0,
        completed: c['completed'] ?? 0,
        failed: c['failed'] ?? 0,
        cancelled: 0,
      };
    },

    async schedule(queue, key, when, name, data, jobOptions) {
      await queueFor(queue).upsertJobScheduler(
        key,
        { pattern: when.cron, tz: when.timezone ?? 'UTC' },
        { name, data, opts: withoutJobId(bullOptions(queue, jobOptions, undefined)) },
      );
    },

    async unschedule(queue, key) {
      return queueFor(queue).removeJobScheduler(key);
    },

    async schedules(queue) {
      const schedulers = await queueFor(queue).getJobSchedulers(0, -1, true);
      return schedulers.map((s) => ({
        queue,
        key: s.key,
        name: s.name,
        cron: s.pattern ?? '',
        timezone: s.tz ?? 'UTC',
        data: s.template?.data ?? null,
      }));
    },

    async subscribe(queue, listener) {
      const events = new QueueEvents(queue, { connection: newConnection(), prefix });
      const on =
        (kind: JobEvent['kind'], pick: (args: Record<string, unknown>) => Partial<JobEvent>) =>
        (args: Record<string, unknown>) =>
          listener({ kind, queue, id: String(args['jobId']), ...pick(args), at: Date.now() } as JobEvent);
      events.on(
        'added',
        on('added', (a) => ({ name: a['name'] as string })),
      );
      events.on(
        'active',
        on('active', () => ({})),
      );
      events.on(
        'progress',
        on('progress', (a) => ({ progress: a['data'] as JobEvent['progress'] })),
      );
      events.on(
        'completed',
        on('completed', (a) => ({ result: a['returnvalue'] })),
      );
      events.on('failed', (args) => {
        const reason = String(args.failedReason);
        listener({
          kind: reason.startsWith(CANCELLED) ? 'cancelled' : 'failed',
          queue,
          id: args.jobId,
          error: reason,
          at: Date.now(),
        } as JobEvent);
      });
      // Removal of a job that had not run yet is a cancel; finished jobs are also removed by retention.
      events.on('removed', (args) => {
        if (['wait', 'waiting', 'delayed', 'prioritized'].includes(args.prev))
          listener({ kind: 'cancelled', queue, id: args.jobId, at: Date.now() });
      });
      await events.waitUntilReady();
      const handle = { close: () => events.close() };
      listeners.push(handle);
      return async () => {
        listeners.splice(listeners.indexOf(handle), 1);
        await events.close();
      };
    },

    async close({ timeoutMs = 10_000 } = {}) {
      // Every step is bounded: with Redis gone, BullMQ's closes would wait for it forever.
      await Promise.all([...workers.values()].flat().map(({ worker }) => closeWorker(worker, timeoutMs)));
      await settleWithin(
        2000,
        Promise.all([...listeners.splice(0).map((l) => l.close()), ...[...queues.values()].map((q) => q.close())]),
      );
      await settleWithin(2000, Promise.all([cancelSubscriber?.quit(), producer.quit()]));
      for (const connection of connections) connection.disconnect();
    },
  };
  return withEnqueueSpans(port);
}

/**
 * The queue port: the one job-queue interface every plugin uses. Two adapters implement it,
 * BullMQ on Redis (gateway/queue/bullmq.ts) and pg-boss on Postgres (gateway/queue/postgres.ts),
 * and one contract test suite (test/queue-contract.test.ts) runs unchanged against both.
 *
 * Delivery is at least once. A job whose worker dies mid-run (crash, SIGKILL, lost connection)
 * is run again by another worker once its lock (BullMQ) or heartbeat (pg-boss) lapses, so a
 * handler may see the same job twice: make handlers idempotent, e.g. key their writes on
 * `job.id` with `INSERT … ON CONFLICT DO NOTHING`, or check whether the effect already happened.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Queue } from 'bullmq';
import { v5 as uuidv5, validate as isUuid } from 'uuid';
import { tracingEnabled, withEnqueueSpan } from '../tracing.ts';

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'cancelled';

export const JOB_STATES: readonly JobState[] = ['waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled'];

export interface EnqueueOptions {
  /**
   * Idempotency key: while a job with this key exists in the queue, adding it again adds nothing.
   * A key becomes a UUID derived from queue and key, so `getJob(queue, key)` finds it too. Jobs
   * without a key get a random UUID (Postgres) or BullMQ's own number.
   */
  jobId?: string;
  /** Run no earlier than this many milliseconds from now. */
  delayMs?: number;
  /**
   * 1 (most urgent) … 1000. Jobs without a priority are taken before prioritized ones, and
   * prioritized jobs lowest number first (BullMQ's rule; the Postgres adapter follows it).
   */
  priority?: number;
  /** Total attempts including the first. Default 1. */
  attempts?: number;
  /** Wait between attempts: `fixed` delayMs, or `exponential` delayMs × 2^(attempt-1). */
  backoff?: { type: 'fixed' | 'exponential'; delayMs: number };
  /** Who asked for the job (a user id), carried on the `added` event for history. */
  requestedBy?: string;
  /** Whether an admin or a user asked (through the API), recorded with the job in history. */
  requestedByRole?: 'admin' | 'user';
}

export interface JobInfo {
  id: string;
  queue: string;
  /** The job type, which picks the handler. */
  name: string;
  data: unknown;
  state: JobState;
  /** Attempts started so far. */
  attemptsMade: number;
  maxAttempts: number;
  /** The result of a completed job. */
  result: unknown;
  /** The error of the last failed attempt. */
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface JobContext {
  id: string;
  queue: string;
  name: string;
  /** 1 for the first attempt. */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the job times out or is cancelled; pass it to fetch, child processes, queries. */
  signal: AbortSignal;
  /** Reports progress (a number, 0–100 by convention, or an object) to subscribers. */
  progress(value: number | Record<string, unknown>): Promise<void>;
}

export type JobHandler = (data: unknown, job: JobContext) => Promise<unknown>;

export interface WorkerOptions {
  /** Jobs of this queue run at the same time in this process. */
  concurrency: number;
  /** Per-attempt deadline in milliseconds; the attempt fails (and may be retried) when it passes. */
  timeoutMs: number;
}

export interface ScheduleOptions {
  /** Cron expression (5 fields, or 6 with seconds). */
  cron: string;
  /** IANA time zone the expression is read in. Default UTC. */
  timezone?: string;
}

export interface ScheduleInfo {
  queue: string;
  key: string;
  name: string;
  cron: string;
  timezone: string;
  data: unknown;
}

export type JobEventKind = 'added' | 'active' | 'progress' | 'completed' | 'failed' | 'retrying' | 'cancelled';

export interface JobEvent {
  kind: JobEventKind;
  queue: string;
  id: string;
  /** The job type; events BullMQ relays between processes may not carry it. */
  name?: string;
  /**
   * When the queue created the job (ms), on local events of jobs whose id the queue may hand out
   * again: BullMQ numbers a queue's jobs from 1 anew after a Redis flush, and this tells the jobs
   * of one number apart. Unset where ids are never reused (UUIDs, idempotency keys).
   */
  jobCreatedAt?: number;
  /** Attempt number for active/progress/completed/failed/retrying. */
  attempt?: number;
  /** Total attempts allowed, on the same events (local events only). */
  maxAttempts?: number;
  progress?: number | Record<string, unknown>;
  result?: unknown;
  error?: string;
  /** `added` only, and local events only (other processes read the job when they need it). */
  data?: unknown;
  options?: EnqueueOptions;
  at: number;
}

/** Thrown by a handler (or by the port for unknown job types) to fail a job without retrying it. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

/** The attempt ran past its deadline. */
export class JobTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Job timed out after ${timeoutMs} ms`);
    this.name = 'JobTimeoutError';
  }
}

export interface Worker {
  /** Stops taking jobs and lets running ones finish, for up to `timeoutMs` (default 10 s). */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export interface QueuePort {
  readonly backend: 'bullmq' | 'postgres';
  add(queue: string, name: string, data: unknown, options?: EnqueueOptions): Promise<{ id: string }>;
  addBulk(queue: string, jobs: { name: string; data: unknown; options?: EnqueueOptions }[]): Promise<{ id: string }[]>;
  /** Starts processing a queue in this process; `handler` gets every job of it. */
  process(queue: string, handler: JobHandler, options: WorkerOptions): Promise<Worker>;
  getJob(queue: string, id: string): Promise<JobInfo | null>;
  /** Puts a failed or cancelled job back to waiting. False when there is no such job in that state. */
  retry(queue: string, id: string): Promise<boolean>;
  /** Removes a waiting or delayed job, or aborts an active one. False when it has already finished. */
  cancel(queue: string, id: string): Promise<boolean>;
  counts(queue: string): Promise<Record<JobState, number>>;
  /** Creates or replaces the schedule `key` of a queue. */
  schedule(
    queue: string,
    key: string,
    when: ScheduleOptions,
    name: string,
    data: unknown,
    options?: EnqueueOptions,
  ): Promise<void>;
  unschedule(queue: string, key: string): Promise<boolean>;
  schedules(queue: string): Promise<ScheduleInfo[]>;
  /** Lifecycle events of jobs of this queue, from every process. */
  subscribe(queue: string, listener: (event: JobEvent) => void): Promise<() => Promise<void>>;
  /** Lifecycle events of jobs added or run by this process (for history writers). */
  readonly local: LocalJobEvents;
  /** Stops workers (letting running jobs finish up to `timeoutMs`), then closes connections. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export class LocalJobEvents extends EventEmitter<{ event: [JobEvent] }> {
  emitJob(event: JobEvent): void {
    if (this.listenerCount('event') > 0) this.emit('event', event);
  }
}

const MAX_PRIORITY = 1000;
/** Ids derived from idempotency keys live in this UUID v5 namespace. */
const ID_NAMESPACE = '0b8c5f2e-7d1a-4e0b-9a57-3c2f6d4e8a11';

/** The job id for an idempotency key (a UUID is kept as it is). */
export function jobIdFor(queue: string, key: string): string {
  return isUuid(key) ? key : uuidv5(`${queue}\n${key}`, ID_NAMESPACE);
}

export function newJobId(queue: string, options?: EnqueueOptions): string {
  return options?.jobId ? jobIdFor(queue, options.jobId) : randomUUID();
}

export function checkEnqueueOptions(options: EnqueueOptions = {}): void {
  const { priority, attempts, delayMs, backoff } = options;
  if (priority !== undefined && (!Number.isInteger(priority) || priority < 1 || priority > MAX_PRIORITY)) {
    throw new RangeError(`priority must be an integer from 1 to ${MAX_PRIORITY}`);
  }
  if (attempts !== undefined && (!Number.isInteger(attempts) || attempts < 1 || attempts > 100)) {
    throw new RangeError('attempts must be an integer from 1 to 100');
  }
  if (delayMs !== undefined && (!Number.isFinite(delayMs) || delayMs < 0))
    throw new RangeError('delayMs must be a number >= 0');
  if (backoff && (!Number.isFinite(backoff.delayMs) || backoff.delayMs < 0))
    throw new RangeError('backoff.delayMs must be a number >= 0');
}

/** One running attempt: the context its handler gets, and how it ends. */
class Attempt implements JobContext {
  readonly id: string;
  readonly queue: string;
  readonly name: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly progress: JobContext['progress'];
  readonly deadline: number;
  #settled = false;
  #ended: { reason: unknown } | undefined;
  #controller: AbortController | undefined;
  #signal: AbortSignal | undefined;
  readonly #outer: AbortSignal | undefined;
  readonly #outcome: PromiseWithResolvers<unknown>;

  constructor(context: Omit<JobContext, 'signal'>, deadline: number, outer: AbortSignal | undefined) {
    this.id = context.id;
    this.queue = context.queue;
    this.name = context.name;
    this.attempt = context.attempt;
    this.maxAttempts = context.maxAttempts;
    this.progress = context.progress;
    this.deadline = deadline;
    this.#outer = outer;
    this.#outcome = Promise.withResolvers();
  }

  get outcome(): Promise<unknown> {
    return this.#outcome.promise;
  }

  /**
   * Made when the handler first reads it: an AbortController and a signal joined by
   * AbortSignal.any are per-job costs that no-op jobs feel.
   */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#ended) this.#controller.abort(this.#ended.reason);
    }
    this.#signal ??= this.#outer ? AbortSignal.any([this.#outer, this.#controller.signal]) : this.#controller.signal;
    return this.#signal;
  }

  succeed(result: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#outcome.resolve(result);
  }

  fail(error: unknown): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#outcome.reject(error);
    return true;
  }

  /** Fails the attempt with `reason` and aborts the handler's signal. */
  end(reason: unknown): boolean {
    if (!this.fail(reason)) return false;
    this.#ended = { reason };
    this.#controller?.abort(reason);
    return true;
  }
}

/**
 * The attempts one worker runs. Each has the worker's deadline: its signal aborts then, and it
 * fails with JobTimeoutError even if the handler ignores the signal. Attempts start in order and
 * share one deadline length, so the oldest running attempt is always the next to time out and one
 * timer serves them all: a timer, an AbortController and a handful of closures per job cost no-op
 * jobs about a quarter of what the queue library itself spends on one.
 */
export class RunningAttempts {
  /** Oldest first (a Set keeps insertion order). */
  readonly #running = new Set<Attempt>();
  #timer: NodeJS.Timeout | undefined;
  readonly #handler: JobHandler;
  readonly #timeoutMs: number;

  constructor(handler: JobHandler, timeoutMs: number) {
    this.#handler = handler;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Runs one attempt. `outer` is the adapter's own signal for the job (pg-boss: a lost claim); the
   * handler's signal follows it, but the attempt is not ended by it.
   */
  run(data: unknown, context: Omit<JobContext, 'signal'>, outer?: AbortSignal): Promise<unknown> {
    const attempt = new Attempt(context, performance.now() + this.#timeoutMs, outer);
    this.#running.add(attempt);
    if (!this.#timer) this.#armTimer();
    let running: Promise<unknown>;
    try {
      running = Promise.resolve(this.#handler(data, attempt));
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (result) => {
        this.#running.delete(attempt);
        attempt.succeed(result);
      },
      (error: unknown) => {
        this.#running.delete(attempt);
        attempt.fail(error);
      },
    );
    return attempt.outcome;
  }

  /** Ends the running attempts of job `id` with `reason` (a cancel). False when none runs here. */
  end(id: string, reason: unknown): boolean {
    let ended = false;
    for (const attempt of this.#running) {
      if (attempt.id === id && attempt.end(reason)) {
        this.#running.delete(attempt);
        ended = true;
      }
    }
    return ended;
  }

  #armTimer(): void {
    const oldest = this.#running.values().next().value;
    if (!oldest) return;
    this.#timer = setTimeout(this.#timeOut, Math.max(0, oldest.deadline - performance.now()));
    // The running handlers keep the process alive, not their deadline.
    this.#timer.unref();
  }

  readonly #timeOut = () => {
    this.#timer = undefined;
    const now = performance.now();
    for (const attempt of this.#running) {
      if (attempt.deadline > now) break;
      this.#running.delete(attempt);
      attempt.end(new JobTimeoutError(this.#timeoutMs));
    }
    this.#armTimer();
  };
}

/**
 * With tracing on, an adapter's `add` and `addBulk` run in a producer span; the adapter stores the
 * `traceparent` it takes inside (currentTraceparent) with each job, so the job's run joins the trace.
 */
export function withEnqueueSpans<Port extends QueuePort>(port: Port): Port {
  if (!tracingEnabled()) return port;
  const { add, addBulk } = port;
  port.add = (queue, name, data, options) => withEnqueueSpan(queue, [name], () => add(queue, name, data, options));
  port.addBulk = (queue, jobs) =>
    withEnqueueSpan(
      queue,
      jobs.map((job) => job.name),
      () => addBulk(queue, jobs),
    );
  return port;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The BullMQ port also hands out its queues (for dashboards such as Bull Board). */
export interface BullMQQueuePort extends QueuePort {
  readonly backend: 'bullmq';
  bullQueue(name: string): Queue;
}

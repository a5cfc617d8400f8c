/**
 * What the jobs API does, shared by GraphQL and the CLI: enqueue (checked against the job
 * registry and the type's payload rules), look up and page the history, retry and cancel, cron
 * schedules, queue statistics, and live updates fanned out from one queue subscription per queue.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter, on } from 'node:events';
import { CronExpressionParser } from 'cron-parser';
import {
  type EnqueueOptions,
  ErrorCode,
  InputError,
  type JobEvent,
  type JobState,
  type PluginRuntime,
} from '../../gateway/sdk.ts';
import type { JobsConfig } from './config.ts';
import type { HistoryRecorder } from './history-recorder.ts';
import { builtInTypes, DEFAULT_QUEUE } from './job-types/index.ts';
import { InvalidPayloadError, objectPayload } from './job-types/job-type.ts';
import { jobsSql } from './sql.ts';

export interface JobRow {
  id: string;
  queue: string;
  type: string;
  state: JobState;
  payload: unknown;
  options: unknown;
  attempts_made: number;
  max_attempts: number | null;
  progress: unknown;
  last_error: string | null;
  requested_by: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  result: unknown;
}

export interface ScheduleRow {
  id: string;
  queue: string;
  type: string;
  cron: string;
  timezone: string;
  payload: unknown;
  created_by: string | null;
  created_at: Date;
}

export interface FailureRow {
  queue: string;
  job_id: string;
  attempt: number;
  error: string;
  will_retry: boolean;
  failed_at: Date;
}

export interface JobUpdate {
  id: string;
  queue: string;
  type: string | null;
  kind: JobEvent['kind'];
  state: JobState;
  attempt: number | null;
  progress: unknown;
  result: unknown;
  error: string | null;
  at: Date;
}

/**
 * Who adds a job through the public API (GraphQL): an admin, or a user whose role is in
 * JOBS_ENQUEUE_ROLES. The CLI passes none: an operator with the database may add anything.
 */
export interface ApiCaller {
  admin: boolean;
  userId: string | null;
}

export interface EnqueueRequest {
  queue?: string;
  type: string;
  payload?: unknown;
  jobId?: string;
  delayMs?: number;
  priority?: number;
  attempts?: number;
  backoffMs?: number;
}

const EVENT_STATE: Record<JobEvent['kind'], JobState> = {
  added: 'waiting',
  active: 'active',
  progress: 'active',
  completed: 'completed',
  failed: 'failed',
  retrying: 'delayed',
  cancelled: 'cancelled',
};

const FINISHED = new Set<JobState>(['completed', 'failed', 'cancelled']);

export function isFinished(state: JobState): boolean {
  return FINISHED.has(state);
}

export function toUpdate(event: JobEvent, type: string | null = null): JobUpdate {
  return {
    id: event.id,
    queue: event.queue,
    type: event.name ?? type,
    kind: event.kind,
    state: EVENT_STATE[event.kind],
    attempt: event.attempt ?? null,
    progress: event.progress ?? null,
    result: event.result ?? null,
    error: event.error ?? null,
    at: new Date(event.at),
  };
}

export function checkCron(cron: string, timezone: string): Date {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new InputError(`timezone ${JSON.stringify(timezone)} is not an IANA time zone`);
  }
  try {
    return CronExpressionParser.parse(cron, { tz: timezone }).next().toDate();
  } catch (error) {
    throw new InputError(`cron ${JSON.stringify(cron)} is not a valid cron expression: ${(error as Error).message}`);
  }
}

export type JobsService = ReturnType<typeof createJobsService>;

/** The jobs plugin's instance: its service, and the history recorder while this process records one. */
export interface JobsInstance {
  service: JobsService;
  history: HistoryRecorder | null;
}

/** `flushHistory` writes this process's recorded job events (nothing when it records none). */
export function createJobsService(runtime: PluginRuntime<JobsConfig>, flushHistory: () => Promise<void>) {
  // One queue subscription per queue, fanned out to every GraphQL subscriber in this process.
  const hub = new EventEmitter<Record<string, [JobEvent]>>();
  hub.setMaxListeners(0);
  const watched = new Map<string, Promise<() => Promise<void>>>();

  /**
   * The type's payload rules, when it is one of ours (other plugins' types are checked when they
   * run); returns the payload to store, which for a non-admin's job is what a user may ask.
   */
  const checkPayload = (queue: string, type: string, payload: unknown, caller?: ApiCaller): unknown => {
    const builtIn = queue === DEFAULT_QUEUE ? builtInTypes[type] : undefined;
    if (!builtIn) return payload;
    const unavailable = builtIn.unavailable?.(runtime);
    if (unavailable) throw new InputError(unavailable);
    try {
      const stored =
        caller && !caller.admin && builtIn.forUser ? builtIn.forUser(objectPayload(payload, type)) : payload;
      builtIn.parse(stored, runtime.config);
      return stored;
    } catch (error) {
      if (error instanceof InvalidPayloadError) throw new InputError(`${type}: ${error.message}`);
      throw error;
    }
  };

  /** The queue and type must exist, and through the API be open to the caller. */
  const checkAccess = (queue: string, type: string, caller?: ApiCaller) => {
    const queues = caller ? runtime.jobs.publicQueues() : runtime.jobs.queues();
    if (!queues.includes(queue)) {
      if (caller && runtime.jobs.queues().includes(queue))
        throw new InputError(
          `Queue "${queue}" is internal to its plugin; its jobs cannot be added through the API`,
          ErrorCode.FORBIDDEN,
        );
      throw new InputError(`No queue "${queue}"; queues: ${queues.join(', ')}`);
    }
    const access = runtime.jobs.access(queue, type);
    if (access === null)
      throw new InputError(
        `No job type "${type}" on queue "${queue}"; its types: ${runtime.jobs.types(queue).join(', ')}`,
      );
    if (!caller) return;
    if (access === 'internal')
      throw new InputError(
        `Job type "${type}" of queue "${queue}" is internal to its plugin; it cannot be added through the API`,
        ErrorCode.FORBIDDEN,
      );
    if (access === 'admin' && !caller.admin) {
      const open = runtime.jobs.types(queue).filter((t) => runtime.jobs.access(queue, t) === 'user');
      throw new InputError(
        `Only admins may add ${type} jobs; JOBS_ENQUEUE_ROLES may add: ${open.join(', ') || 'none'} (queue "${queue}")`,
        ErrorCode.FORBIDDEN,
      );
    }
  };

  const knownQueues = async () => {
    const { rows } = await runtime.db.query<{ queue: string }>(jobsSql('queues-in-history'));
    return [...new Set([...runtime.jobs.queues(), ...rows.map((r) => r.queue)])].sort();
  };

  const watch = (queue: string) => {
    let subscription = watched.get(queue);
    if (!subscription) {
      subscription = runtime.queue.subscribe(queue, (event) => hub.emit(queue, event));
      watched.set(queue, subscription);
    }
    return subscription;
  };

  /** From the history; a job added moments ago may only be in the queue yet. */
  async function findJob(queue: string, id: string): Promise<JobRow | null> {
    const { rows } = await runtime.db.query<JobRow>(jobsSql('job-by-id'), [queue, id]);
    if (rows[0]) return rows[0];
    if (runtime.jobs.queues().includes(queue)) {
      const info = await runtime.queue.getJob(queue, id);
      if (info) {
        return {
          id: info.id,
          queue,
          type: info.name,
          state: info.state,
          payload: info.data,
          options: null,
          attempts_made: info.attemptsMade,
          max_attempts: info.maxAttempts,
          progress: null,
          last_error: info.error,
          requested_by: null,
          created_at: info.createdAt,
          started_at: info.startedAt,
          finished_at: info.finishedAt,
          result: info.result,
        };
      }
    }
    return null;
  }

  return {
    job: findJob,

    /** Adds a job; `caller` is who asks through the API (the CLI passes none). */
    async enqueue(request: EnqueueRequest, caller?: ApiCaller): Promise<JobRow> {
      const queue = request.queue ?? DEFAULT_QUEUE;
      checkAccess(queue, request.type, caller);
      const payload = checkPayload(queue, request.type, request.payload ?? {}, caller);
      const { config } = runtime;
      // A non-admin's idempotency keys are their own: another user's same key is another job.
      const jobId =
        request.jobId !== undefined && caller && !caller.admin
          ? `user\n${caller.userId}\n${request.jobId}`
          : request.jobId;
      const options: EnqueueOptions = {
        attempts: request.attempts ?? config.retryAttempts,
        backoff: { type: 'exponential', delayMs: request.backoffMs ?? config.retryDelayMs },
        ...(jobId !== undefined ? { jobId } : {}),
        ...(request.delayMs ? { delayMs: request.delayMs } : {}),
        ...(request.priority !== undefined ? { priority: request.priority } : {}),
        ...(caller?.userId ? { requestedBy: caller.userId } : {}),
        ...(caller ? { requestedByRole: caller.admin ? 'admin' : 'user' } : {}),
      };
      let id: string;
      try {
        ({ id } = await runtime.queue.add(queue, request.type, payload, options));
      } catch (error) {
        if (error instanceof RangeError) throw new InputError(error.message);
        throw error;
      }
      // The caller will look the job up next; its history row (with who asked) should be there.
      await flushHistory();
      return {
        id,
        queue,
        type: request.type,
        state: options.delayMs ? 'delayed' : 'waiting',
        payload,
        options,
        attempts_made: 0,
        max_attempts: options.attempts ?? 1,
        progress: null,
        last_error: null,
        requested_by: options.requestedBy ?? null,
        created_at: new Date(),
        started_at: null,
        finished_at: null,
        result: null,
      };
    },

    async page(
      filter: { queue?: string | null; state?: JobState | null; type?: string | null; requestedBy?: string | null },
      after: { at: string; id: string } | null,
      limit: number,
    ) {
      const { rows } = await runtime.db.query<JobRow & { cursor_at: string }>(jobsSql('jobs-page'), [
        filter.queue ?? null,
        filter.state ?? null,
        filter.type ?? null,
        after?.at ?? null,
        after?.id ?? null,
        filter.requestedBy ?? null,
        limit,
      ]);
      return rows;
    },

    async failures(jobs: readonly { queue: string; id: string }[]): Promise<FailureRow[][]> {
      const { rows } = await runtime.db.query<FailureRow>(jobsSql('failures-by-job'), [
        jobs.map((job) => job.queue),
        jobs.map((job) => job.id),
      ]);
      return jobs.map((job) => rows.filter((row) => row.queue === job.queue && row.job_id === job.id));
    },

    async retry(queue: string, id: string): Promise<JobRow> {
      const job = await findJob(queue, id);
      if (!job) throw new InputError(`No job ${id} on queue "${queue}"`);
      if (!(await runtime.queue.retry(queue, id)))
        throw new InputError(`Job ${id} is ${job.state}; only failed or cancelled jobs can be retried`);
      return { ...job, state: 'waiting', finished_at: null };
    },

    async cancel(queue: string, id: string): Promise<JobRow> {
      const job = await findJob(queue, id);
      if (!job) throw new InputError(`No job ${id} on queue "${queue}"`);
      if (!(await runtime.queue.cancel(queue, id)))
        throw new InputError(`Job ${id} is ${job.state}; only waiting, delayed or active jobs can be cancelled`);
      return { ...job, state: 'cancelled' };
    },

    /** Creates a schedule; `caller` is the admin who asks through the API (the CLI passes none). */
    async createSchedule(
      request: { cron: string; timezone?: string; type: string; payload?: unknown; queue?: string },
      caller?: ApiCaller,
    ): Promise<ScheduleRow> {
      const queue = request.queue ?? DEFAULT_QUEUE;
      const timezone = request.timezone ?? 'UTC';
      checkAccess(queue, request.type, caller);
      checkCron(request.cron, timezone);
      checkPayload(queue, request.type, request.payload ?? {}, caller);
      const id = randomUUID();
      await applySchedule({
        id,
        queue,
        type: request.type,
        cron: request.cron,
        timezone,
        payload: request.payload ?? {},
      });
      const { rows } = await runtime.db.query<ScheduleRow>(jobsSql('schedule-insert'), [
        id,
        queue,
        request.type,
        request.cron,
        timezone,
        JSON.stringify(request.payload ?? {}),
        caller?.userId ?? null,
      ]);
      return rows[0]!;
    },

    async schedules(): Promise<ScheduleRow[]> {
      return (await runtime.db.query<ScheduleRow>(jobsSql('schedules-all'))).rows;
    },

    async deleteSchedule(id: string): Promise<boolean> {
      const { rows } = await runtime.db.query<ScheduleRow>(jobsSql('schedule-delete'), [id]);
      if (!rows[0]) return false;
      await runtime.queue.unschedule(rows[0].queue, id);
      return true;
    },

    /** Re-applies every stored schedule to the queue (after a Redis flush, or a backend switch). */
    async syncSchedules(): Promise<number> {
      const { rows: schedules } = await runtime.db.query<ScheduleRow>(jobsSql('schedules-all'));
      for (const schedule of schedules) await applySchedule(schedule);
      return schedules.length;
    },

    /** Jobs finished per minute over the last hour, from the history (either adapter's). */
    async throughput(queue: string | null): Promise<{ minute: Date; completed: number; failed: number }[]> {
      return (await runtime.db.query(jobsSql('throughput'), [queue])).rows;
    },

    async stats() {
      const queues = await knownQueues();
      return Promise.all(
        queues.map(async (queue) => ({
          queue,
          backend: runtime.queue.backend,
          ...(await runtime.queue.counts(queue)),
        })),
      );
    },

    /** Live updates of a queue, or of one job: its current state first, ending when it finishes. */
    async *updates(target: { queue: string } | { job: JobRow }): AsyncGenerator<JobUpdate> {
      const queue = 'job' in target ? target.job.queue : target.queue;
      await watch(queue);
      // Listening starts here, before the current state is read out, so nothing falls between.
      const stop = new AbortController();
      const events = on(hub, queue, { signal: stop.signal }) as AsyncIterableIterator<[JobEvent]>;
      try {
        if ('job' in target) {
          const { job } = target;
          yield {
            id: job.id,
            queue,
            type: job.type,
            kind: 'added',
            state: job.state,
            attempt: job.attempts_made || null,
            progress: job.progress,
            result: job.result,
            error: job.last_error,
            at: new Date(),
          };
          if (isFinished(job.state)) return;
        }
        for await (const [event] of events) {
          if ('job' in target && event.id !== target.job.id) continue;
          const update = toUpdate(event, 'job' in target ? target.job.type : null);
          yield update;
          if ('job' in target && isFinished(update.state) && event.kind !== 'retrying') return;
        }
      } finally {
        stop.abort();
      }
    },

    async close() {
      for (const unsubscribe of watched.values()) await (await unsubscribe)().catch(() => {});
      watched.clear();
    },
  };

  async function applySchedule(schedule: Pick<ScheduleRow, 'id' | 'queue' | 'type' | 'cron' | 'timezone' | 'payload'>) {
    const { config } = runtime;
    await runtime.queue.schedule(
      schedule.queue,
      schedule.id,
      { cron: schedule.cron, timezone: schedule.timezone },
      schedule.type,
      schedule.payload,
      {
        attempts: config.retryAttempts,
        backoff: { type: 'exponential', delayMs: config.retryDelayMs },
      },
    );
  }
}

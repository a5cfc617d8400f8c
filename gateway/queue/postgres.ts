/**
 * The queue port on pg-boss (Postgres), so the embedded default needs no Redis. A port queue is a
 * pg-boss queue; the job type travels in the payload envelope. Idempotency keys become
 * deterministic UUIDs (pg-boss ids are UUIDs), so a second add with the same key conflicts and
 * adds nothing. Dead workers are detected by missed heartbeats and their jobs retried. Lifecycle
 * events travel between processes as batched Postgres NOTIFYs, sent only while some process
 * listens (its listening connection is named in pg_stat_activity), so a queue nobody follows
 * pays nothing for them.
 */
import pg from 'pg';
import { type Clock, type JobResult, type JobWithMetadata, PgBoss, type SendOptions } from 'pg-boss';
import type { Logger } from 'pino';
import {
  checkEnqueueOptions,
  errorMessage,
  jobIdFor,
  LocalJobEvents,
  newJobId,
  PermanentJobError,
  RunningAttempts,
  withEnqueueSpans,
  type EnqueueOptions,
  type JobEvent,
  type JobInfo,
  type JobState,
  type QueuePort,
} from './port.ts';
import { gatewaySql, statementNames } from '../sql.ts';
import { settleWithin } from '../timing.ts';
import { currentTraceparent, withJobSpan } from '../tracing.ts';

export interface PostgresQueueOptions {
  log: Logger;
  /** A worker that misses heartbeats this long is presumed dead and its job retried (>= 10). */
  heartbeatSeconds?: number;
  /** How often pg-boss's monitor looks for dead jobs and due schedules; default: the heartbeat, at most 60 s. */
  monitorIntervalSeconds?: number;
  /** For tests: pg-boss's controllable clock. */
  clock?: Clock;
}

interface Envelope {
  type: string;
  data: unknown;
  /** The W3C trace context of the span that added the job, when tracing is on. */
  traceparent?: string;
}

/** A job's payload; `traceparent` is taken inside the enqueue span (see withEnqueueSpans). */
function envelope(type: string, data: unknown, traceparent: string | undefined): Envelope {
  return traceparent ? { type, data, traceparent } : { type, data };
}

const EVENTS_CHANNEL = 'plugboard_queue_events';
/** application_name of the connections that LISTEN for queue events. */
const LISTENER_NAME = 'plugboard-queue-listener';
const NOTIFY_EVERY_MS = 25;
const LISTEN_RETRY_MS = 1000;
const NOTIFY_MAX_BYTES = 7000;
/** What pg-boss runs its SQL through. */
type BossDatabase = NonNullable<SendOptions['db']>;
/** Statement texts named (prepared once per connection) at most: later distinct ones run unnamed. */
const MAX_NAMED = 100;

/**
 * pg-boss's statements on its own pool, named by their text: each connection parses and plans a
 * statement once. pg-boss sends its job insert (a statement per queue, the jobs as a JSON
 * parameter) unnamed; parsed and planned anew it cost Postgres ~1.2 ms a job here, named ~0.5 ms.
 * Undefined when pg-boss's database is not its own pg pool (nothing to name through).
 */
function namedStatements(db: BossDatabase): BossDatabase | undefined {
  const pool = (db as { pool?: unknown }).pool;
  if (!(pool instanceof pg.Pool)) return undefined;
  const nameOf = statementNames('pgboss', MAX_NAMED);
  return {
    executeSql: (text, values) => {
      const name = nameOf(text);
      return pool.query(name === undefined ? { text, values } : { name, text, values });
    },
  };
}
/**
 * pg-boss options for one job, only those that differ from the queue's defaults (no retries, no
 * priority), so the common job is a small row. pg-boss takes higher priorities first and defaults
 * to 0: the port's 1 (most urgent) … 1000 become -1 … -1000, below jobs with no priority.
 */
function sendOptions(options: EnqueueOptions = {}): SendOptions {
  checkEnqueueOptions(options);
  return {
    ...(options.priority !== undefined ? { priority: -options.priority } : {}),
    ...(options.delayMs ? { startAfter: new Date(Date.now() + options.delayMs) } : {}),
    ...(options.attempts !== undefined ? { retryLimit: options.attempts - 1 } : {}),
    ...(options.backoff
      ? {
          retryDelay: Math.max(1, Math.round(options.backoff.delayMs / 1000)),
          retryBackoff: options.backoff.type === 'exponential',
        }
      : {}),
  };
}

function stateOf(job: JobWithMetadata<Envelope>): JobState {
  switch (job.state) {
    case 'created':
    case 'retry':
      return job.startAfter.getTime() > Date.now() ? 'delayed' : 'waiting';
    default:
      return job.state;
  }
}

/** What every queue this adapter creates is set to (the benchmarks give raw pg-boss the same). */
export function queueSettings(heartbeatSeconds = 30) {
  return {
    retryLimit: 0,
    retryDelay: 0,
    retryBackoff: false,
    notify: true,
    heartbeatSeconds: Math.max(10, heartbeatSeconds),
    // The port's own deadline (WorkerOptions.timeoutMs) ends attempts; this is only a backstop.
    expireInSeconds: 24 * 3600,
    deleteAfterSeconds: 7 * 24 * 3600,
  } as const;
}

/**
 * How a worker of `concurrency` jobs fetches: pg-boss runs `localConcurrency` fetch loops; each
 * takes up to `batchSize` jobs and this adapter runs at most `perBatch` of them at a time, so
 * `localConcurrency × perBatch = concurrency`. Batches of at least two let pg-boss fetch again at
 * once while batches come back full (with single-job fetches it waits out the polling interval
 * after every job). NOTIFY wakes idle workers for new jobs; delayed jobs and retries become due
 * without one, so the backstop poll stays short.
 */
export function workerShape(concurrency: number) {
  const localConcurrency = Math.ceil(concurrency / 10);
  const perBatch = Math.ceil(concurrency / localConcurrency);
  return {
    perBatch,
    workOptions: {
      localConcurrency,
      batchSize: Math.max(2, perBatch),
      burstWhenBatchFull: true,
      includeMetadata: true,
      perJobResults: true,
      pollingIntervalSeconds: 1,
      notifyPollingIntervalSeconds: 1,
    } as const,
  };
}

const byPriority = (a: JobWithMetadata<Envelope>, b: JobWithMetadata<Envelope>) =>
  b.priority - a.priority || a.createdOn.getTime() - b.createdOn.getTime();

/** Runs `run` over `items`, at most `limit` at a time, keeping the order of the results. */
async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export async function createPostgresQueue(databaseUrl: string, options: PostgresQueueOptions): Promise<QueuePort> {
  const { log } = options;
  // pg-boss fails (and so retries) the jobs of dead workers in its monitor pass: as often as a
  // heartbeat may lapse, so such a job runs again within about twice the heartbeat.
  const monitor =
    options.monitorIntervalSeconds ?? Math.min(60, queueSettings(options.heartbeatSeconds).heartbeatSeconds);
  const boss = new PgBoss({
    connectionString: databaseUrl,
    application_name: 'plugboard-queue',
    useListenNotify: true,
    monitorIntervalSeconds: monitor,
    superviseIntervalSeconds: monitor,
    cronMonitorIntervalSeconds: Math.min(monitor, 30),
    cronWorkerIntervalSeconds: Math.min(monitor, 5),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  boss.on('error', (error: Error) => log.error({ err: error }, 'pg-boss error'));
  await boss.start();
  const db = boss.getDb();
  const jobInserts = namedStatements(db);
  const local = new LocalJobEvents();
  const knownQueues = new Map<string, Promise<void>>();
  const workIds = new Map<string, string[]>();

  const ensureQueue = (queue: string) => {
    let created = knownQueues.get(queue);
    if (!created) {
      created = (async () => {
        const settings = queueSettings(options.heartbeatSeconds);
        const existing = await boss.getQueue(queue);
        if (!existing) return boss.createQueue(queue, settings);
        // Jobs take the queue's heartbeat when added: a changed PLUGBOARD_JOB_STALL_SECONDS must reach it.
        if (existing.heartbeatSeconds !== settings.heartbeatSeconds)
          await boss.updateQueue(queue, { heartbeatSeconds: settings.heartbeatSeconds });
      })();
      knownQueues.set(queue, created);
      created.catch(() => knownQueues.delete(queue));
    }
    return created;
  };

  const subscribers = new Map<string, Set<(event: JobEvent) => void>>();
  const deliver = (payload: string) => {
    for (const event of JSON.parse(payload) as JobEvent[]) {
      for (const notify of subscribers.get(event.queue) ?? []) notify(event);
    }
  };

  // Subscriptions LISTEN on a connection of their own, named so publishers can see it, and come
  // back after a lost connection.
  let listener: pg.Client | undefined;
  let listening: Promise<void> | undefined;
  let closing = false;
  const listen = (): Promise<void> => {
    listening ??= (async () => {
      const client = new pg.Client({ connectionString: databaseUrl, application_name: LISTENER_NAME, keepAlive: true });
      client.on('notification', (message) => message.payload && deliver(message.payload));
      client.on('error', (error) => {
        log.warn({ err: error }, 'queue event listener lost its connection; reconnecting');
        listening = undefined;
        listener = undefined;
        void client.end().catch(() => {});
        if (!closing) setTimeout(() => void listen().catch(() => {}), LISTEN_RETRY_MS).unref();
      });
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      listener = client;
    })();
    listening.catch(() => (listening = undefined));
    return listening;
  };

  // Looked up on every flush (one cheap query per tick), so a listener that just connected misses nothing sent after.
  const anyoneListening = async () => {
    if (listener) return true;
    const { rows } = await db.executeSql(gatewaySql('queue-listeners'), [LISTENER_NAME]);
    return (rows[0] as { present: boolean }).present;
  };

  // Lifecycle events for other processes: batched, one NOTIFY per tick.
  let pending: JobEvent[] = [];
  let flushTimer: NodeJS.Timeout | undefined;
  const flush = async () => {
    flushTimer = undefined;
    const events = pending;
    pending = [];
    if (!(await anyoneListening())) return;
    let batch: string[] = [];
    let size = 2;
    const send = async () => {
      if (batch.length === 0) return;
      await db.executeSql(gatewaySql('queue-notify'), [`[${batch.join(',')}]`]);
      batch = [];
      size = 2;
    };
    for (const { data: _data, options: _options, ...event } of events) {
      let json = JSON.stringify(event);
      // A large result or progress stays in the job row; subscribers can read it with getJob().
      if (json.length > NOTIFY_MAX_BYTES) json = JSON.stringify({ ...event, result: undefined, progress: undefined });
      if (size + json.length > NOTIFY_MAX_BYTES) await send();
      batch.push(json);
      size += json.length + 1;
    }
    await send();
  };
  const publish = (event: JobEvent) => {
    local.emitJob(event);
    pending.push(event);
    flushTimer ??= setTimeout(
      () => void flush().catch((error: unknown) => log.warn({ err: error }, 'queue event notify failed')),
      NOTIFY_EVERY_MS,
    );
  };
  /** `added` events of jobs this process is inserting, published once the insert is done or a worker here takes the job. */
  const addingHere = new Map<string, JobEvent>();
  const publishAdded = (id: string) => {
    const added = addingHere.get(id);
    if (!added) return;
    addingHere.delete(id);
    publish(added);
  };

  const toInfo = (queue: string, job: JobWithMetadata<Envelope>): JobInfo => {
    const started = job.startedOn !== null && job.startedOn !== undefined;
    const output = (job.output ?? {}) as { result?: unknown; message?: string };
    const state = stateOf(job);
    return {
      id: job.id,
      queue,
      name: job.data.type,
      data: job.data.data,
      state,
      attemptsMade: started || job.state === 'retry' ? job.retryCount + 1 : 0,
      maxAttempts: job.retryLimit + 1,
      result: state === 'completed' ? (output.result ?? null) : null,
      error: state === 'failed' || job.state === 'retry' ? (output.message ?? null) : null,
      createdAt: job.createdOn,
      startedAt: job.startedOn ?? null,
      finishedAt: job.completedOn ?? null,
    };
  };

  const findJob = async (queue: string, id: string) => {
    await ensureQueue(queue);
    const [job] = await boss.findJobs<Envelope>(queue, { id: jobIdFor(queue, id) });
    return job ?? null;
  };

  const port: QueuePort = {
    backend: 'postgres',
    local,

    async add(queue, name, data, jobOptions) {
      await ensureQueue(queue);
      // A keyed job gets its deterministic id (a second add conflicts and adds nothing); others a
      // fresh one, known before the insert so a worker here that takes the job at once can say
      // it was added before it says it is active.
      const id = newJobId(queue, jobOptions);
      const added: JobEvent = {
        kind: 'added',
        queue,
        id,
        name,
        data,
        ...(jobOptions ? { options: jobOptions } : {}),
        at: Date.now(),
      };
      addingHere.set(id, added);
      try {
        await boss.send(queue, envelope(name, data, currentTraceparent()), {
          ...sendOptions(jobOptions),
          id,
          ...(jobInserts ? { db: jobInserts } : {}),
        });
      } catch (error) {
        addingHere.delete(id);
        throw error;
      }
      publishAdded(id);
      return { id };
    },

    async addBulk(queue, jobs) {
      await ensureQueue(queue);
      // With a keyed job in the batch every job gets its id here: a conflicting key inserts no
      // row, so returned rows could not be matched to jobs. Otherwise the database makes the ids
      // and returns them in input order (one INSERT … SELECT over the batch, joined to one queue row).
      const anyKeyed = jobs.some((job) => job.options?.jobId);
      const traceparent = currentTraceparent();
      const inserts = jobs.map((job) => ({
        ...sendOptions(job.options),
        ...(anyKeyed ? { id: newJobId(queue, job.options) } : {}),
        data: envelope(job.name, job.data, traceparent),
      }));
      const returned = await boss.insert(queue, inserts, { returnId: true });
      const ids = anyKeyed ? inserts.map((insert) => insert.id!) : (returned ?? []);
      if (ids.length !== jobs.length) throw new Error(`pg-boss inserted ${ids.length} of ${jobs.length} jobs`);
      const at = Date.now();
      jobs.forEach((job, i) => {
        publish({
          kind: 'added',
          queue,
          id: ids[i]!,
          name: job.name,
          data: job.data,
          ...(job.options ? { options: job.options } : {}),
          at,
        });
      });
      return ids.map((id) => ({ id }));
    },

    async process(queue, handler, { concurrency, timeoutMs }) {
      await ensureQueue(queue);
      const attempts = new RunningAttempts(handler, timeoutMs);
      const runOne = async (job: JobWithMetadata<Envelope>): Promise<JobResult> => {
        const attempt = job.retryCount + 1;
        const maxAttempts = job.retryLimit + 1;
        const base = { queue, id: job.id, name: job.data.type, attempt, maxAttempts };
        publishAdded(job.id);
        publish({ ...base, kind: 'active', at: Date.now() });
        const context = {
          ...base,
          progress: async (value: number | Record<string, unknown>) =>
            publish({ ...base, kind: 'progress', progress: value, at: Date.now() }),
        };
        try {
          // Not ended early when pg-boss aborts the job's signal: it ignores the settle of a lost
          // claim anyway, and listening on its AbortSignal.any signals costs ~5 µs a job.
          const result = await withJobSpan(base, job.data.traceparent, () =>
            attempts.run(job.data.data, context, job.signal),
          );
          publish({ ...base, kind: 'completed', result, at: Date.now() });
          return { id: job.id, status: 'completed', output: { result } };
        } catch (error) {
          const message = errorMessage(error);
          const permanent = error instanceof PermanentJobError;
          // A job cancelled (or taken over) while running lost its claim; pg-boss ignores this settle.
          publish({
            ...base,
            kind: !permanent && attempt < maxAttempts ? 'retrying' : 'failed',
            error: message,
            at: Date.now(),
          });
          return { id: job.id, status: permanent ? 'deadletter' : 'failed', output: { message } };
        }
      };
      const { perBatch, workOptions } = workerShape(concurrency);
      const workId = await boss.work<Envelope, unknown, typeof workOptions>(queue, workOptions, (jobs) =>
        // A batch is not guaranteed to come back in fetch order: run it in priority order.
        mapWithConcurrency(jobs.sort(byPriority), perBatch, runOne),
      );
      workIds.set(queue, [...(workIds.get(queue) ?? []), workId]);
      return {
        close: async ({ timeoutMs = 10_000 } = {}) => {
          await settleWithin(timeoutMs, boss.offWork(queue, { id: workId, wait: true }));
          workIds.set(
            queue,
            (workIds.get(queue) ?? []).filter((id) => id !== workId),
          );
        },
      };
    },

    async getJob(queue, id) {
      const job = await findJob(queue, id);
      return job ? toInfo(queue, job) : null;
    },

    async retry(queue, id) {
      const job = await findJob(queue, id);
      if (!job || (job.state !== 'failed' && job.state !== 'cancelled')) return false;
      if (job.state === 'cancelled') await boss.resume(queue, job.id);
      else await boss.retry(queue, job.id);
      return true;
    },

    async cancel(queue, id) {
      const job = await findJob(queue, id);
      if (!job || !['created', 'retry', 'active'].includes(job.state)) return false;
      await boss.cancel(queue, job.id);
      publish({ kind: 'cancelled', queue, id: job.id, name: job.data.type, at: Date.now() });
      return true;
    },

    async counts(queue) {
      await ensureQueue(queue);
      const { rows } = await db.executeSql(gatewaySql('queue-counts'), [queue]);
      return rows[0] as Record<JobState, number>;
    },

    async schedule(queue, key, when, name, data, jobOptions) {
      await ensureQueue(queue);
      await boss.schedule(queue, when.cron, envelope(name, data, undefined), {
        ...sendOptions(jobOptions),
        tz: when.timezone ?? 'UTC',
        key,
      });
    },

    async unschedule(queue, key) {
      await ensureQueue(queue);
      const existing = await boss.getSchedule(queue, key);
      if (!existing) return false;
      await boss.unschedule(queue, key);
      return true;
    },

    async schedules(queue) {
      await ensureQueue(queue);
      const schedules = await boss.getSchedules(queue);
      return schedules.map((s) => {
        const envelope = s.data as Envelope | undefined;
        return {
          queue,
          key: s.key,
          name: envelope?.type ?? '',
          cron: s.cron,
          timezone: s.timezone,
          data: envelope?.data ?? null,
        };
      });
    },

    async subscribe(queue, listener) {
      await listen();
      let set = subscribers.get(queue);
      if (!set) {
        set = new Set();
        subscribers.set(queue, set);
      }
      set.add(listener);
      return async () => {
        set.delete(listener);
      };
    },

    async close({ timeoutMs = 10_000 } = {}) {
      await settleWithin(
        timeoutMs,
        Promise.all(
          [...workIds.entries()].flatMap(([queue, ids]) => ids.map((id) => boss.offWork(queue, { id, wait: true }))),
        ),
      );
      clearTimeout(flushTimer);
      await flush().catch(() => {});
      closing = true;
      await listener?.end().catch(() => {});
      await boss.stop({ graceful: true, timeout: timeoutMs, close: true });
    },
  };
  return withEnqueueSpans(port);
}

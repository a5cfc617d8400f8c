/**
 * Job history: the queue port's lifecycle events (from this process) folded per job and written
 * to Postgres in batches — one upsert of jobs, one of results, one insert of failures per flush,
 * at most every `flushMs` — never a statement per event.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { inTransaction, type JobEvent, type JobState } from '../../gateway/sdk.ts';
import { jobsSql } from './sql.ts';

interface JobRow {
  id: string;
  queue: string;
  job_created_at: string | null;
  type: string | null;
  state: JobState;
  payload: unknown;
  options: unknown;
  attempts_made: number;
  max_attempts: number | null;
  progress: unknown;
  last_error: string | null;
  requested_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

const STATE_OF: Record<JobEvent['kind'], (event: JobEvent) => JobState> = {
  added: (event) => (event.options?.delayMs ? 'delayed' : 'waiting'),
  active: () => 'active',
  progress: () => 'active',
  completed: () => 'completed',
  failed: () => 'failed',
  // A retry waits out its backoff before it runs again.
  retrying: () => 'delayed',
  cancelled: () => 'cancelled',
};

const FINISHED = new Set<JobState>(['completed', 'failed', 'cancelled']);

export interface HistoryWriter {
  record(event: JobEvent): void;
  /** Writes everything recorded so far. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createHistoryWriter(
  db: pg.Pool,
  log: Logger,
  options: { flushMs?: number; maxPending?: number } = {},
): HistoryWriter {
  const flushMs = options.flushMs ?? 200;
  const maxPending = options.maxPending ?? 100_000;
  let pending: JobEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let dropped = 0;

  const fold = (events: JobEvent[]) => {
    // By queue and id: ids repeat across queues (BullMQ numbers each queue's jobs).
    const rows = new Map<string, JobRow>();
    const results: object[] = [];
    const failures: object[] = [];
    for (const event of events.sort((a, b) => a.at - b.at)) {
      const at = new Date(event.at).toISOString();
      const state = STATE_OF[event.kind](event);
      const key = `${event.queue}\n${event.id}`;
      const jobCreatedAt = event.jobCreatedAt === undefined ? null : new Date(event.jobCreatedAt).toISOString();
      let row = rows.get(key);
      // A reused number: an earlier job's events are not this one's (the SQL keeps the newest job).
      if (row && jobCreatedAt !== null && row.job_created_at !== null && jobCreatedAt !== row.job_created_at) {
        if (jobCreatedAt < row.job_created_at) continue;
        row = undefined;
      }
      if (!row) {
        row = {
          id: event.id,
          queue: event.queue,
          job_created_at: jobCreatedAt,
          type: event.name ?? null,
          state,
          payload: null,
          options: null,
          attempts_made: 0,
          max_attempts: null,
          progress: null,
          last_error: null,
          requested_by: null,
          created_at: at,
          started_at: null,
          finished_at: null,
          updated_at: at,
        };
        rows.set(key, row);
      }
      row.job_created_at ??= jobCreatedAt;
      row.type ??= event.name ?? null;
      row.state = state;
      row.updated_at = at;
      row.finished_at = FINISHED.has(state) ? at : null;
      if (event.maxAttempts !== undefined) row.max_attempts = event.maxAttempts;
      if (event.attempt !== undefined) row.attempts_made = Math.max(row.attempts_made, event.attempt);
      if (event.kind === 'added') {
        row.payload = event.data ?? null;
        row.options = event.options ?? null;
        row.requested_by = event.options?.requestedBy ?? null;
        row.max_attempts = event.options?.attempts ?? 1;
      }
      if (event.kind === 'active') row.started_at ??= at;
      if (event.kind === 'progress') row.progress = event.progress ?? null;
      if (event.kind === 'completed')
        results.push({
          job_id: event.id,
          queue: event.queue,
          job_created_at: jobCreatedAt,
          attempt: event.attempt ?? 1,
          result: event.result ?? null,
          completed_at: at,
        });
      if (event.kind === 'failed' || event.kind === 'retrying') {
        row.last_error = event.error ?? null;
        failures.push({
          job_id: event.id,
          queue: event.queue,
          job_created_at: jobCreatedAt,
          attempt: event.attempt ?? 1,
          error: event.error ?? '',
          will_retry: event.kind === 'retrying',
          failed_at: at,
        });
      }
    }
    return {
      rows: [...rows.values()],
      results,
      failures,
      numbered: [...rows.values()].some((row) => row.job_created_at !== null),
    };
  };

  const write = async (events: JobEvent[]) => {
    const { rows, results, failures, numbered } = fold(events);
    await inTransaction(db, async (client) => {
      if (numbered) await client.query(jobsSql('history-drop-superseded'), [JSON.stringify(rows)]);
      await client.query(jobsSql('history-upsert-jobs'), [JSON.stringify(rows)]);
      if (results.length > 0) await client.query(jobsSql('history-upsert-results'), [JSON.stringify(results)]);
      if (failures.length > 0) await client.query(jobsSql('history-insert-failures'), [JSON.stringify(failures)]);
    });
  };

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    flushing = flushing.then(async () => {
      const events = pending;
      pending = [];
      if (events.length === 0) return;
      try {
        await write(events);
      } catch (error) {
        // Keep the events for the next flush; Postgres may be briefly away.
        log.warn({ err: error, events: events.length }, 'job history write failed; will retry');
        pending = [...events, ...pending];
        timer ??= setTimeout(flush, flushMs * 5);
      }
    });
    return flushing;
  };

  return {
    record(event) {
      if (pending.length >= maxPending) {
        if (dropped++ % 10_000 === 0) log.error({ dropped }, 'job history backlog is full; dropping events');
        return;
      }
      pending.push(event);
      timer ??= setTimeout(flush, flushMs);
    },
    flush,
    close: flush,
  };
}

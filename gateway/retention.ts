/**
 * Retention: what each plugin prunes as it ages, and how. A plugin lists its rules (its
 * `retention` hook); each rule prunes one table (or one webhook log) in short statements that
 * commit one at a time, so no lock is held for long and a stopped prune resumes where it stopped.
 * The gateway runs every plugin's rules on PLUGBOARD_RETENTION_CRON as a job of the `retention`
 * queue named after the plugin, and `plugboard prune [--dry-run]` runs them by hand.
 */
import type pg from 'pg';
import type { QueueDefinition } from './queue/job-types.ts';
import type { QueuePort } from './queue/port.ts';
import { gatewaySql } from './sql.ts';

/** Rows a batched rule deletes per statement unless told otherwise. */
export const PRUNE_BATCH = 5000;
export const RETENTION_QUEUE = 'retention';
/** A job prunes for at most this long; what is left waits for the next run. */
const JOB_TIMEOUT_MS = 30 * 60_000;
const DAY_MS = 86_400_000;

export interface PruneContext {
  /** The time retention is counted back from. */
  now: Date;
  /** Counts what would go, removes nothing. */
  dryRun: boolean;
  /** Rows a statement deletes at most. */
  batchSize: number;
  /** Called after each statement with the rows it removed (or, dry, would remove) and a note. */
  progress(rows: number, note?: string): void;
  /** Stops between statements when aborted. */
  signal?: AbortSignal | undefined;
}

export interface RetentionRule {
  /** What it prunes, as progress lines name it: `jobs.jobs`, `stripe.events`. */
  readonly name: string;
  /** How long rows are kept, for people: `30 days`, `forever`. */
  readonly keeps: string;
  /** Removes (or, dry, counts) what is past retention at `context.now`; returns how many rows. */
  prune(db: pg.Pool, context: PruneContext): Promise<number>;
}

/** The moment `days` before `now`; null for 0, which keeps rows forever. */
export function cutoff(now: Date, days: number): Date | null {
  return days > 0 ? new Date(now.getTime() - days * DAY_MS) : null;
}

export const keepsFor = (days: number) => (days > 0 ? `${days} day${days === 1 ? '' : 's'}` : 'forever');

/**
 * A rule that deletes rows past retention in batches, a statement each. `days` are one or more
 * retention periods (0 keeps forever); `sql` takes their cutoffs as $1…$n (timestamptz, NULL for
 * 0), then the batch size (NULL: no limit) and whether it is a dry run (it then deletes nothing),
 * and answers one row `{ rows }`: the rows it deleted, or would have.
 */
export function batchedRule(options: {
  name: string;
  days: number | readonly number[];
  sql: string;
  keeps?: string;
}): RetentionRule {
  const days = typeof options.days === 'number' ? [options.days] : options.days;
  const { name, sql } = options;
  return {
    name,
    keeps: options.keeps ?? keepsFor(days[0]!),
    async prune(db, context) {
      const cutoffs = days.map((d) => cutoff(context.now, d));
      if (cutoffs.every((at) => at === null)) return 0;
      const run = async (limit: number | null) => {
        const { rows } = await db.query<{ rows: number }>(sql, [...cutoffs, limit, context.dryRun]);
        context.progress(rows[0]!.rows);
        return rows[0]!.rows;
      };
      if (context.dryRun) return run(null);
      let total = 0;
      for (;;) {
        context.signal?.throwIfAborted();
        const removed = await run(context.batchSize);
        total += removed;
        if (removed < context.batchSize) return total;
      }
    },
  };
}

export interface RuleOutcome {
  plugin: string;
  rule: string;
  keeps: string;
  rows: number;
  /** Another process was pruning this plugin: nothing was done. */
  skipped: boolean;
}

/**
 * Runs rules one after another. Two prunes of one plugin at once (a job and the CLI) would do
 * the same work twice, so each plugin's rules run under a session advisory lock; a plugin whose
 * lock is held elsewhere is skipped.
 */
export async function runRetention(
  db: pg.Pool,
  rulesByPlugin: ReadonlyMap<string, readonly RetentionRule[]>,
  context: Omit<PruneContext, 'progress'> & {
    progress?(plugin: string, rule: RetentionRule, rows: number, note?: string): void;
  },
): Promise<RuleOutcome[]> {
  const outcomes: RuleOutcome[] = [];
  for (const [plugin, rules] of rulesByPlugin) {
    const client = await db.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(gatewaySql('retention-lock'), [plugin]);
      if (!rows[0]!.locked) {
        outcomes.push({ plugin, rule: '(all)', keeps: '', rows: 0, skipped: true });
        continue;
      }
      try {
        for (const rule of rules) {
          const removed = await rule.prune(db, {
            ...context,
            progress: (n, note) => context.progress?.(plugin, rule, n, note),
          });
          outcomes.push({ plugin, rule: rule.name, keeps: rule.keeps, rows: removed, skipped: false });
        }
      } finally {
        await client.query(gatewaySql('retention-unlock'), [plugin]);
      }
    } finally {
      client.release();
    }
  }
  return outcomes;
}

/**
 * The gateway's `retention` queue: one job type per plugin with rules (named after it), pruning
 * that plugin. `rules` is read when a job runs, once the plugin's configuration is known.
 */
export function retentionQueue(
  plugins: readonly string[],
  rules: (plugin: string) => readonly RetentionRule[],
  db: () => pg.Pool,
): QueueDefinition {
  return {
    concurrency: 1,
    timeoutMs: JOB_TIMEOUT_MS,
    handlers: Object.fromEntries(
      plugins.map((plugin) => [
        plugin,
        async (_data, job) => {
          const outcomes = await runRetention(db(), new Map([[plugin, rules(plugin)]]), {
            now: new Date(),
            dryRun: false,
            batchSize: PRUNE_BATCH,
            signal: job.signal,
          });
          return { pruned: outcomes.map(({ rule, rows }) => ({ rule, rows })) };
        },
      ]),
    ),
  };
}

/**
 * Puts each plugin's prune on the queue's schedule (an upsert: every gateway may do it) and takes
 * off the schedules of plugins no longer pruning here; all of them when `cron` is null.
 */
export async function scheduleRetention(queue: QueuePort, plugins: readonly string[], cron: string | null) {
  for (const { key } of await queue.schedules(RETENTION_QUEUE))
    if (!cron || !plugins.includes(key)) await queue.unschedule(RETENTION_QUEUE, key);
  if (cron) for (const plugin of plugins) await queue.schedule(RETENTION_QUEUE, plugin, { cron }, plugin, {});
}

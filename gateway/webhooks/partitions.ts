/**
 * A webhook log (`<schema>.events`) is partitioned by week of `received_at` (Monday 00:00 UTC),
 * with a default partition so that no insert ever fails for want of one. Weeks are made ahead
 * (at start, and by every prune); retention drops a week whole once it is past retention, after
 * moving its unsettled events (failed, or never applied) that are still within their own
 * retention to the default partition, where they are pruned row by row. A week is taken out of
 * the log in one short transaction and dropped in the next, outside the log's lock. A plugin's migration
 * turns its plain `events` table into this shape (see plugins/stripe/migrations/002_*.sql).
 */
import { escapeIdentifier } from 'pg';
import type pg from 'pg';
import { batchedRule, cutoff, keepsFor, type RetentionRule } from '../retention.ts';
import { gatewaySql, inTransaction } from '../sql.ts';
import { fillPlaceholders } from '../sync/statements.ts';

const WEEK_MS = 7 * 86_400_000;
/** Weeks made ahead of the current one. */
const WEEKS_AHEAD = 2;
const DUPLICATE_TABLE = '42P07';
/** The default partition holds rows of the week: they stay there, pruned row by row. */
const CHECK_VIOLATION = '23514';
const LOCK_NOT_AVAILABLE = '55P03';

interface Partition {
  name: string;
  is_default: boolean;
  from_at: Date | null;
  to_at: Date | null;
  estimated_rows: string;
}

/** Monday 00:00 UTC of the week holding `at`. */
export function weekStart(at: Date): Date {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * 86_400_000);
}

/** `events_20261207` for the week starting 2026-12-07. */
export const partitionName = (start: Date) => `events_${start.toISOString().slice(0, 10).replaceAll('-', '')}`;

/** A statement of gateway/sql/webhook-*.sql with its placeholders filled (names and times we make). */
function sqlFor(schema: string) {
  const safe = escapeIdentifier(schema).slice(1, -1);
  return (name: string, values: Record<string, string> = {}) =>
    fillPlaceholders(gatewaySql(name), /\{(\w+)\}/g, { schema: safe, ...values }, name);
}

async function partitionsOf(db: pg.Pool, schema: string): Promise<Partition[]> {
  return (await db.query<Partition>(sqlFor(schema)('webhook-partitions'))).rows;
}

/**
 * Makes the partitions of the current week and the next ones that no partition covers yet, in a
 * partitioned log (a plain `events` table is left as it is). Returns the partitions made.
 */
export async function ensurePartitions(db: pg.Pool, schema: string, now = new Date()): Promise<string[]> {
  const sql = sqlFor(schema);
  const { rows } = await db.query<{ partitioned: boolean }>(sql('webhook-log-partitioned'));
  if (!rows[0]?.partitioned) return [];
  const ranges = (await partitionsOf(db, schema)).filter((p) => !p.is_default);
  const made: string[] = [];
  for (let week = 0; week <= WEEKS_AHEAD; week++) {
    const from = new Date(weekStart(now).getTime() + week * WEEK_MS);
    const to = new Date(from.getTime() + WEEK_MS);
    const covered = ranges.some((p) => (p.from_at === null || p.from_at < to) && (p.to_at === null || p.to_at > from));
    if (covered) continue;
    const name = partitionName(from);
    try {
      await inTransaction(db, (client) =>
        client.query(
          sql('webhook-partition-create', { partition: name, from: from.toISOString(), to: to.toISOString() }),
        ),
      );
      made.push(name);
    } catch (error) {
      // Another process made it meanwhile, or deliveries came before it did (their rows stay in
      // the default partition), or the log stayed busy for the lock's 2 s: the next start or prune makes it.
      const code = (error as { code?: string }).code;
      if (code !== DUPLICATE_TABLE && code !== CHECK_VIOLATION && code !== LOCK_NOT_AVAILABLE) throw error;
    }
  }
  return made;
}

/**
 * Retention of a webhook log: processed events for `processedDays`, unsettled ones (failed, or
 * never applied) for `unsettledDays` (replaying one makes it processed again); 0 keeps them
 * forever. The first rule makes weeks ahead and drops whole weeks, the second prunes the default
 * partition in batches.
 */
export function webhookLogRetention(options: {
  schema: string;
  processedDays: number;
  unsettledDays: number;
}): RetentionRule[] {
  const { schema, processedDays, unsettledDays } = options;
  const sql = sqlFor(schema);
  const keeps = `${keepsFor(processedDays)} (unsettled: ${keepsFor(unsettledDays)})`;
  const weeks: RetentionRule = {
    name: `${schema}.events`,
    keeps,
    async prune(db, context) {
      if (!context.dryRun) {
        const made = await ensurePartitions(db, schema, context.now);
        for (const name of made) context.progress(0, `made partition ${name}`);
      }
      const processedBefore = cutoff(context.now, processedDays);
      if (!processedBefore) return 0;
      const keepAfter = cutoff(context.now, unsettledDays);
      const literal = keepAfter ? keepAfter.toISOString() : '-infinity';
      const purge = (detached: string) => db.query(sql('webhook-partition-purge', { detached }));
      // Weeks a stopped prune took out but did not drop.
      for (const { name } of (await db.query<{ name: string }>(sql('webhook-partitions-detached'))).rows)
        if (!context.dryRun) await purge(name);
      let total = 0;
      for (const partition of await partitionsOf(db, schema)) {
        if (partition.is_default || !partition.to_at || partition.to_at > processedBefore) continue;
        context.signal?.throwIfAborted();
        const detached = `${schema}_${partition.name}_detached`;
        const values = { partition: partition.name, keep_after: literal, detached };
        const count = async () =>
          (await db.query<{ rows: number }>(sql('webhook-partition-count', values), [literal])).rows[0]!.rows;
        if (context.dryRun) {
          const rows = await count();
          total += rows;
          context.progress(rows, `would drop partition ${partition.name}`);
          continue;
        }
        // Counting would read the whole partition: the planner's estimate (what autovacuum last
        // saw) stands in, unless the partition was never analyzed.
        const estimate = Number(partition.estimated_rows) >= 0 ? Number(partition.estimated_rows) : null;
        const exact = estimate === null ? await count() : null;
        let results: pg.QueryResult[];
        try {
          results = (await inTransaction(db, (client) =>
            client.query(sql('webhook-partition-drop', values)),
          )) as unknown as pg.QueryResult[];
        } catch (error) {
          if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
          context.progress(0, `left partition ${partition.name} for the next run: the log stayed busy for 2 s`);
          continue;
        }
        await purge(detached);
        const moved = results.find((result) => result.command === 'INSERT')?.rowCount ?? 0;
        const removed = exact ?? Math.max(estimate! - moved, 0);
        total += removed;
        context.progress(
          removed,
          `dropped partition ${partition.name} (${exact === null ? 'about ' : ''}${removed} rows; ${moved} unsettled moved to ${schema}.events_default)`,
        );
      }
      return total;
    },
  };
  const leftovers = batchedRule({
    name: `${schema}.events_default`,
    keeps,
    days: [processedDays, unsettledDays],
    sql: sql('webhook-default-prune'),
  });
  return [weeks, leftovers];
}

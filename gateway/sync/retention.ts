/**
 * Retention of what a synced provider keeps growing: its webhook log (`<schema>.events`, dropped
 * by whole weeks) and the sync core's run history (`<schema>.sync_runs`); `sync_state` never grows.
 */
import type { ConfigValues } from '../config/variables.ts';
import { batchedRule, type RetentionRule } from '../retention.ts';
import { webhookLogRetention } from '../webhooks/partitions.ts';
import { syncStatement } from './statements.ts';

/** Days kept (0: forever), from `<PREFIX>_EVENTS_RETENTION_DAYS`, `_FAILED_EVENTS_…` and `_SYNC_RUNS_…`. */
export interface SyncedRetention {
  eventsDays: number;
  failedEventsDays: number;
  syncRunsDays: number;
}

/** The three settings of a provider whose variables start with `prefix` (`STRIPE`). */
export function readSyncedRetention(values: ConfigValues, prefix: string): SyncedRetention {
  return {
    eventsDays: values.number(`${prefix}_EVENTS_RETENTION_DAYS`),
    failedEventsDays: values.number(`${prefix}_FAILED_EVENTS_RETENTION_DAYS`),
    syncRunsDays: values.number(`${prefix}_SYNC_RUNS_RETENTION_DAYS`),
  };
}

/** A synced provider's rules: its webhook log, then its finished sync runs. */
export function syncedRetention(schema: string, days: SyncedRetention): RetentionRule[] {
  return [
    ...webhookLogRetention({ schema, processedDays: days.eventsDays, unsettledDays: days.failedEventsDays }),
    batchedRule({
      name: `${schema}.sync_runs`,
      days: days.syncRunsDays,
      sql: syncStatement('sync-runs-prune', { schema }),
    }),
  ];
}

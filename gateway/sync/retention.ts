/** Retention of the sync core's run history (`<schema>.sync_runs`); `sync_state` never grows. */
import { batchedRule, type RetentionRule } from '../retention.ts';
import { syncStatement } from './statements.ts';

/** Finished sync runs older than `days` (0 keeps them forever). */
export function syncRunsRetention(schema: string, days: number): RetentionRule {
  return batchedRule({ name: `${schema}.sync_runs`, days, sql: syncStatement('sync-runs-prune', { schema }) });
}

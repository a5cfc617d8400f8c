/**
 * The GitHub resources for the sync core: one table each, GitHub's numeric id (commits: sha;
 * branches and team members: composite text ids), ordered by GitHub's `updated_at`.
 */
import type { SyncTables } from '../../gateway/sdk.ts';

export const GITHUB_TABLES = [
  'repositories',
  'branches',
  'commits',
  'issues',
  'pull_requests',
  'issue_comments',
  'pull_request_reviews',
  'releases',
  'workflow_runs',
  'deployments',
  'discussions',
  'teams',
  'team_members',
] as const;

const TEXT_IDS: readonly string[] = ['branches', 'commits', 'team_members'];

export function githubSyncTables(): SyncTables {
  return {
    schema: 'github',
    versionColumn: 'updated_at',
    resources: GITHUB_TABLES.map((table) => ({ table, idType: TEXT_IDS.includes(table) ? 'text' : 'bigint' })),
  };
}

import { createSyncStore, type SyncStore, type SyncTables } from '../../gateway/sdk.ts';
import { githubSyncTables } from './resources.ts';

/** The GitHub plugin's instance: the sync core's store over its tables. */
export interface GithubInstance {
  tables: SyncTables;
  store: SyncStore;
}

export function setupGithub(): GithubInstance {
  const tables = githubSyncTables();
  return { tables, store: createSyncStore(tables) };
}

import {
  type Checker,
  createChecker,
  createSyncer,
  createSyncStore,
  PlanCache,
  type PluginRuntime,
  type SyncedObject,
  type SyncStore,
  type Syncer,
  type SyncTables,
  type SyncViews,
} from '../../gateway/sdk.ts';
import { createGithubClient, type GithubClient, type RateLimitUsage } from './client.ts';
import type { GithubConfig } from './config.ts';
import { githubSyncTables, type Repository, repositoryScope } from './resources.ts';
import { githubViews } from './views.ts';

/** The GitHub plugin's instance: one Octokit client and what it spent, and the sync core's parts. */
export interface GithubInstance {
  /** The client, made on first use. */
  client(): GithubClient;
  /** The rate limit this process has spent (and what GitHub says is left). */
  usage(): RateLimitUsage;
  /** The repositories in scope, sorted by full name. */
  scope(): Promise<Repository[]>;
  tables: SyncTables;
  store: SyncStore;
  syncer: Syncer;
  checker: Checker;
  /** How the synced tables appear in GraphQL. */
  views: SyncViews;
  /** Query plans, statement texts and prepared-statement names of the GraphQL views. */
  plans: PlanCache;
  /** The periodic sync (set by start when GITHUB_SYNC_INTERVAL is above 0, cleared by stop). */
  timer: NodeJS.Timeout | null;
}

/** GitHub's own time of an object's state; objects without one are as of when they were listed. */
export function versionOf(object: SyncedObject, fetchedAt: number): number {
  const updated = Date.parse(String(object['updated_at']));
  return Number.isFinite(updated) ? updated / 1000 : fetchedAt;
}

export function setupGithub(runtime: PluginRuntime<GithubConfig>): GithubInstance {
  let made: ReturnType<typeof createGithubClient> | undefined;
  const open = () => (made ??= createGithubClient(runtime.config, runtime.log));
  const client = () => open().octokit;
  const { db, pubsub } = runtime;
  const scope = repositoryScope(runtime.config, client);
  const tables = githubSyncTables({
    config: runtime.config,
    client,
    db,
    scope,
    bodyBytes: (data) => open().bodyBytes(data),
  });
  const store = createSyncStore(tables);
  const views = githubViews(() => runtime.config.readRoles);
  return {
    client,
    usage: () => ({ ...open().usage }),
    scope,
    tables,
    store,
    syncer: createSyncer({ plugin: runtime.name, db, pubsub, tables, store, versionOf }),
    checker: createChecker({ db, tables, store, versionOf }),
    views,
    plans: new PlanCache(views),
    timer: null,
  };
}

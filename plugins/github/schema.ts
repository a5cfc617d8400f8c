/**
 * The GitHub GraphQL API, from the sync core: the synced tables (views.ts: githubRepositories,
 * githubRepository(owner, name) with its issues, pull requests, releases… githubIssues(filter,
 * orderBy), …), sync control for admins (syncGithub, githubSyncRun, githubSyncStatus) and the
 * githubEvents subscription, whose events also carry the action, repository and sender.
 */
import {
  addSyncSchema,
  type Builder,
  type Checker,
  type PlanCache,
  type PluginRuntime,
  type Syncer,
} from '../../gateway/sdk.ts';
import type { GithubConfig } from './config.ts';
import { GITHUB_TABLES } from './resources.ts';
import { githubViews } from './views.ts';

interface GithubPayload {
  action?: string;
  repository?: { full_name?: string };
  sender?: { login?: string };
}

export function addGithubSchema(
  builder: Builder,
  runtime: PluginRuntime<GithubConfig>,
  instance: () => { syncer: Syncer; checker: Checker; plans: PlanCache },
): void {
  addSyncSchema(builder, {
    views: githubViews(() => runtime.config.readRoles),
    instance,
    prefix: 'Github',
    provider: 'GitHub',
    typeExample: 'issues.*',
    resources: GITHUB_TABLES,
    runtime,
    eventFields: (t) => ({
      action: t.string({
        nullable: true,
        description: 'The payload’s action (`opened`, `closed`…), when its event has one.',
        resolve: (message) => (message.payload as GithubPayload).action ?? null,
      }),
      repository: t.string({
        nullable: true,
        description: 'owner/name of the repository it is about.',
        resolve: (message) => (message.payload as GithubPayload).repository?.full_name ?? null,
      }),
      sender: t.string({
        nullable: true,
        description: 'Login of who caused it.',
        resolve: (message) => (message.payload as GithubPayload).sender?.login ?? null,
      }),
    }),
  });
}

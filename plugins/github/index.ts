import { definePlugin } from '../../gateway/sdk.ts';
import { githubConfig, type GithubConfig } from './config.ts';
import { setupGithub, type GithubInstance } from './instance.ts';
import manifest from './plugin.json' with { type: 'json' };
import { GITHUB_TABLES } from './resources.ts';
import { githubReceiver } from './webhooks.ts';

export default definePlugin<GithubConfig, GithubInstance>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  config: githubConfig,
  setup: setupGithub,
  hasura: { tables: GITHUB_TABLES },
  webhooks: (runtime, instance) => githubReceiver(runtime, instance),
});

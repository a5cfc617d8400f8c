import { definePlugin, syncedRetention, verifySyncSchema } from '../../gateway/sdk.ts';
import { addGithubCommands } from './cli.ts';
import { githubConfig, type GithubConfig } from './config.ts';
import { setupGithub, type GithubInstance } from './instance.ts';
import manifest from './plugin.json' with { type: 'json' };
import { GITHUB_TABLES } from './resources.ts';
import { addGithubSchema } from './schema.ts';
import { githubReceiver } from './webhooks.ts';

export default definePlugin<GithubConfig, GithubInstance>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  config: githubConfig,
  setup: setupGithub,
  hasura: {
    actions: { syncGithub: { kind: 'asynchronous', roles: [] } },
    tables: GITHUB_TABLES,
  },
  webhooks: (runtime, instance) => githubReceiver(runtime, instance),
  retention: (runtime) => syncedRetention('github', runtime.config.retention),
  schema: (builder, runtime, instance) => addGithubSchema(builder, runtime, instance),
  commands: addGithubCommands,
  async start(runtime, instance) {
    // Refuses to start, naming what is missing, when the migrations and the descriptors differ.
    await verifySyncSchema(runtime.db, instance.tables, instance.views);
    const minutes = runtime.config.syncInterval;
    if (minutes === 0) return;
    // The periodic sync; a failure is logged and the next interval tries again.
    instance.timer = setInterval(() => {
      instance.syncer.run().catch((error: unknown) => runtime.log.error({ err: error }, 'periodic github sync failed'));
    }, minutes * 60_000);
    instance.timer.unref();
  },
  stop(_runtime, instance) {
    if (instance.timer) clearInterval(instance.timer);
    instance.timer = null;
  },
});

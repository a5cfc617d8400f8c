import { definePlugin, syncedRetention, verifySyncSchema } from '../../gateway/sdk.ts';
import { addStripeCommands } from './cli.ts';
import { stripeConfig, type StripeConfig } from './config.ts';
import { setupStripe, type StripeInstance } from './instance.ts';
import manifest from './plugin.json' with { type: 'json' };
import { OBJECT_RESOURCES } from './resources.ts';
import { addStripeSchema } from './schema.ts';
import { stripeReceiver } from './webhooks.ts';

export default definePlugin<StripeConfig, StripeInstance>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  config: stripeConfig,
  setup: setupStripe,
  hasura: {
    actions: { syncStripe: { kind: 'asynchronous', roles: [] } },
    // Hasura tracks every table of synced objects (events stay in the webhook log).
    tables: OBJECT_RESOURCES,
  },
  webhooks: (runtime, instance) => stripeReceiver(runtime, instance),
  retention: (runtime) => syncedRetention('stripe', runtime.config.retention),
  schema: (builder, runtime, instance) => addStripeSchema(builder, runtime, instance),
  commands: addStripeCommands,
  async start(runtime, instance) {
    // Refuses to start, naming what is missing, when the migrations and the descriptors differ.
    await verifySyncSchema(runtime.db, instance.tables, instance.views);
    // The SDK loads now rather than on the first webhook, which would wait for it.
    await instance.client();
    const minutes = runtime.config.syncInterval;
    if (minutes === 0) return;
    // The periodic incremental sync; a failure is logged and the next interval tries again.
    instance.timer = setInterval(() => {
      instance.syncer.run().catch((error: unknown) => runtime.log.error({ err: error }, 'periodic stripe sync failed'));
    }, minutes * 60_000);
    instance.timer.unref();
  },
  stop(_runtime, instance) {
    if (instance.timer) clearInterval(instance.timer);
    instance.timer = null;
  },
});

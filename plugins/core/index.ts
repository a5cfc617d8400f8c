import { definePlugin } from '../../gateway/sdk.ts';
import manifest from './plugin.json' with { type: 'json' };
import { addCoreSchema } from './schema.ts';
import { addSyncSchema } from './sync-schema.ts';
import { addWebhookSchema } from './webhooks-schema.ts';

export default definePlugin({
  manifest,
  alwaysEnabled: true,
  config: () => ({}),
  schema(builder, runtime) {
    addCoreSchema(builder, runtime);
    addWebhookSchema(builder, runtime);
    addSyncSchema(builder, runtime);
  },
});

import { definePlugin } from '../../gateway/plugin.ts';
import manifest from './plugin.json' with { type: 'json' };
import { addCoreSchema } from './schema.ts';

export default definePlugin({
  manifest,
  alwaysEnabled: true,
  config: () => ({}),
  schema: addCoreSchema,
});

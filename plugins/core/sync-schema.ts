/** `syncProgress`: progress of every synced provider's runs (Stripe, GitHub, …), from the sync core's topic. */
import { filter, pipe } from '@graphql-yoga/subscription';
import { type Builder, type PluginRuntime, type SyncProgress, syncProgressTopic } from '../../gateway/sdk.ts';

export function addSyncSchema(builder: Builder, runtime: PluginRuntime<unknown>): void {
  const ProgressType = builder.objectRef<SyncProgress>('SyncProgress').implement({
    fields: (t) => ({
      plugin: t.exposeString('plugin'),
      runId: t.exposeID('runId'),
      resource: t.exposeString('resource'),
      synced: t.exposeInt('synced'),
      done: t.exposeBoolean('done'),
    }),
  });

  builder.subscriptionField('syncProgress', (t) =>
    t.field({
      type: ProgressType,
      description: 'Progress of sync runs (admin only): of one plugin, or of every plugin when `plugin` is omitted.',
      authScopes: { admin: true },
      args: { plugin: t.arg.string() },
      subscribe: (_root, { plugin }) =>
        pipe(
          runtime.pubsub.subscribe(syncProgressTopic),
          filter((progress: SyncProgress) => !plugin || progress.plugin === plugin),
        ),
      resolve: (progress) => progress,
    }),
  );
}

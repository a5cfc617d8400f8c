/**
 * The Stripe GraphQL API: sync control for admins (syncStripe, stripeSyncRun, stripeSyncStatus;
 * progress is the core's syncProgress) and the typed stripeEvents subscription.
 */
import { filter, pipe } from '@graphql-yoga/subscription';
import {
  badUserInput,
  type Builder,
  globMatcher,
  type PluginRuntime,
  type Syncer,
  type SyncRunRow,
  type SyncStateRow,
  webhookEventsTopic,
  type WebhookMessage,
} from '../../gateway/sdk.ts';
import type { StripeConfig } from './config.ts';
import { RESOURCES, type Resource } from './resources.ts';

export function addStripeSchema(builder: Builder, runtime: PluginRuntime<StripeConfig>, syncer: () => Syncer): void {
  const ResourceCount = builder.objectRef<{ resource: string; count: number }>('StripeResourceCount').implement({
    fields: (t) => ({ resource: t.exposeString('resource'), count: t.exposeInt('count') }),
  });

  const SyncRunType = builder.objectRef<SyncRunRow>('StripeSyncRun').implement({
    description: 'One sync run; poll it with stripeSyncRun(id) or follow syncProgress.',
    fields: (t) => ({
      id: t.exposeID('id'),
      kind: t.exposeString('kind', { description: 'backfill or incremental' }),
      resources: t.exposeStringList('resources'),
      status: t.exposeString('status', { description: 'running, completed or failed' }),
      counts: t.field({
        type: [ResourceCount],
        resolve: (run) => Object.entries(run.counts).map(([resource, count]) => ({ resource, count })),
      }),
      error: t.exposeString('error', { nullable: true }),
      startedAt: t.field({ type: 'DateTime', resolve: (run) => run.started_at }),
      finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (run) => run.finished_at }),
    }),
  });

  const SyncStateType = builder.objectRef<SyncStateRow>('StripeSyncState').implement({
    description: 'Where syncing one resource stands.',
    fields: (t) => ({
      resource: t.exposeString('resource'),
      status: t.exposeString('status'),
      cursor: t.exposeString('cursor', {
        nullable: true,
        description: 'Last object id checkpointed by an unfinished backfill.',
      }),
      lastSyncAt: t.field({ type: 'DateTime', nullable: true, resolve: (row) => row.last_sync_at }),
      lastEventAt: t.field({ type: 'DateTime', nullable: true, resolve: (row) => row.last_event_at }),
      objectsSynced: t.field({ type: 'BigInt', resolve: (row) => BigInt(row.objects_synced) }),
      lastError: t.exposeString('last_error', { nullable: true }),
    }),
  });

  const StripeEventType = builder.objectRef<WebhookMessage>('StripeEvent').implement({
    description: 'A Stripe event that has just been applied.',
    fields: (t) => ({
      id: t.exposeID('id'),
      type: t.exposeString('type'),
      object: t.field({
        type: 'JSON',
        resolve: (message) => (message.payload as { data?: { object?: unknown } }).data?.object ?? null,
      }),
      previousAttributes: t.field({
        type: 'JSON',
        nullable: true,
        resolve: (message) =>
          (message.payload as { data?: { previous_attributes?: unknown } }).data?.previous_attributes ?? null,
      }),
      payload: t.field({ type: 'JSON', resolve: (message) => message.payload }),
      processedAt: t.field({ type: 'DateTime', resolve: (message) => new Date(message.processedAt) }),
    }),
  });

  const runById = (id: string) => syncer().runById(id);

  builder.queryFields((t) => ({
    stripeSyncStatus: t.field({
      type: [SyncStateType],
      description: 'Sync state per resource (admin only).',
      authScopes: { admin: true },
      resolve: async () => [...(await syncer().states()).values()],
    }),
    stripeSyncRun: t.field({
      type: SyncRunType,
      nullable: true,
      authScopes: { admin: true },
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }) => runById(String(id)),
    }),
  }));

  builder.mutationField('syncStripe', (t) =>
    t.field({
      type: SyncRunType,
      description:
        'Starts a sync and returns its run at once (admin only): incremental when possible, a backfill with `full` or `since`.',
      authScopes: { admin: true },
      args: { resources: t.arg.stringList(), since: t.arg({ type: 'DateTime' }), full: t.arg.boolean() },
      resolve: async (_root, args) => {
        const unknown = (args.resources ?? []).filter((r) => !RESOURCES.includes(r as Resource));
        if (unknown.length > 0)
          throw badUserInput(`Unknown resource ${unknown.join(', ')}; known: ${RESOURCES.join(', ')}`);
        // Answers as soon as the run is recorded; the run goes on in the background.
        const id = await new Promise<string>((resolve, reject) => {
          let started = false;
          syncer()
            .run({
              resources: args.resources ?? undefined,
              since: args.since ?? undefined,
              full: args.full ?? false,
              onStart: (runId) => {
                started = true;
                resolve(runId);
              },
            })
            .catch((error: unknown) => {
              runtime.log.error({ err: error }, 'stripe sync failed');
              if (!started) reject(error);
            });
        });
        return (await runById(id))!;
      },
    }),
  );

  builder.subscriptionFields((t) => ({
    stripeEvents: t.field({
      type: StripeEventType,
      description: 'Stripe events as they are applied (admin only), of the types matching any glob (`invoice.*`).',
      authScopes: { admin: true },
      args: { types: t.arg.stringList() },
      subscribe: (_root, { types }) => {
        const matches = globMatcher(types ?? []);
        return pipe(
          runtime.pubsub.subscribe(webhookEventsTopic),
          filter((message: WebhookMessage) => message.plugin === runtime.name && matches(message.type)),
        );
      },
      resolve: (message) => message,
    }),
  }));
}

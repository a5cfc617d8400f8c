/**
 * The GraphQL of a synced provider's runs and events, the same for every provider (names from
 * its prefix, `Stripe` → syncStripe): `sync<Prefix>` starts a run and answers at once (a Hasura
 * asynchronous action), `<prefix>SyncRun(id)` and `<prefix>SyncStatus` report on runs and
 * resources, `<prefix>Events(types)` follows the events applied from the webhook log. All admin
 * only; progress is the core plugin's `syncProgress`.
 */
import type { FieldRef } from '@pothos/core';
import { filter, pipe } from '@graphql-yoga/subscription';
import type { Builder, PlugboardTypes } from '../builder.ts';
import { badUserInput } from '../errors.ts';
import type { PubSub } from '../pubsub.ts';
import { globMatcher, webhookEventsTopic, type WebhookMessage } from '../webhooks/receiver.ts';
import { addSyncViewSchema } from './object-schema.ts';
import type { PlanCache } from './planner.ts';
import type { Queryable } from './resource.ts';
import type { Checker, CheckReport } from './check.ts';
import type { Syncer, SyncRunRow, SyncStateRow } from './syncer.ts';
import type { SyncViews } from './views.ts';

type Types = PothosSchemaTypes.ExtendDefaultTypes<PlugboardTypes>;

export interface SyncControlOptions {
  /** `Stripe` → StripeSyncRun, syncStripe, stripeEvents. */
  prefix: string;
  /** The provider's name in descriptions. */
  provider: string;
  /** An event-type glob for the subscription's description (`invoice.*`). */
  typeExample: string;
  /** Resources a run may be asked for. */
  resources: readonly string[];
  syncer(): Syncer;
  checker(): Checker;
  /** The plugin's runtime, read when a field resolves (the schema is built before it starts). */
  runtime: {
    readonly name: string;
    readonly pubsub: PubSub;
    readonly log: { error(details: object, message: string): void };
  };
  /**
   * An argument of `sync<Prefix>` naming one part of the provider's data to backfill alone
   * (Shopify: `shop`), checked by `check` (an error message, or null when it may be synced).
   */
  scope?: { argument: string; description: string; check(value: string): Promise<string | null> };
  /** Fields of the event type besides id, type, payload and processedAt (Stripe: object). */
  eventFields?(
    t: PothosSchemaTypes.ObjectFieldBuilder<Types, WebhookMessage>,
  ): Record<string, FieldRef<Types, unknown, 'Object'>>;
}

export function addSyncControlSchema(builder: Builder, options: SyncControlOptions): void {
  const { prefix, provider, syncer, scope } = options;
  const lower = prefix[0]!.toLowerCase() + prefix.slice(1);

  const ResourceCount = builder.objectRef<{ resource: string; count: number }>(`${prefix}ResourceCount`).implement({
    fields: (t) => ({ resource: t.exposeString('resource'), count: t.exposeInt('count') }),
  });

  const SyncRunType = builder.objectRef<SyncRunRow>(`${prefix}SyncRun`).implement({
    description: `One sync run; poll it with ${lower}SyncRun(id) or follow syncProgress.`,
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

  const SyncStateType = builder.objectRef<SyncStateRow>(`${prefix}SyncState`).implement({
    description: 'Where syncing one resource stands.',
    fields: (t) => ({
      resource: t.exposeString('resource'),
      status: t.exposeString('status'),
      cursor: t.exposeString('cursor', {
        nullable: true,
        description: 'Where an unfinished backfill resumes (its last checkpoint).',
      }),
      lastSyncAt: t.field({ type: 'DateTime', nullable: true, resolve: (row) => row.last_sync_at }),
      lastEventAt: t.field({ type: 'DateTime', nullable: true, resolve: (row) => row.last_event_at }),
      objectsSynced: t.field({ type: 'BigInt', resolve: (row) => BigInt(row.objects_synced) }),
      lastError: t.exposeString('last_error', { nullable: true }),
    }),
  });

  const EventType = builder.objectRef<WebhookMessage>(`${prefix}Event`).implement({
    description: `A ${provider} event that has just been applied.`,
    fields: (t) => ({
      id: t.exposeID('id'),
      type: t.exposeString('type'),
      ...options.eventFields?.(t),
      payload: t.field({ type: 'JSON', resolve: (message) => message.payload }),
      processedAt: t.field({ type: 'DateTime', resolve: (message) => new Date(message.processedAt) }),
    }),
  });

  const runById = (id: string) => syncer().runById(id);

  builder.queryFields((t) => ({
    [`${lower}SyncStatus`]: t.field({
      type: [SyncStateType],
      description: 'Sync state per resource (admin only).',
      authScopes: { admin: true },
      resolve: async () => [...(await syncer().states()).values()],
    }),
    [`${lower}SyncRun`]: t.field({
      type: SyncRunType,
      nullable: true,
      authScopes: { admin: true },
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }) => runById(String(id)),
    }),
  }));

  builder.mutationField(`sync${prefix}`, (t) =>
    t.field({
      type: SyncRunType,
      description:
        'Starts a sync and returns its run at once (admin only): incremental when possible, a backfill with `full` or `since`.',
      authScopes: { admin: true },
      args: {
        resources: t.arg.stringList(),
        since: t.arg({ type: 'DateTime' }),
        full: t.arg.boolean(),
        ...(scope ? { [scope.argument]: t.arg.string({ description: scope.description }) } : {}),
      },
      resolve: async (_root, args) => {
        const unknown = (args.resources ?? []).filter((resource) => !options.resources.includes(resource));
        if (unknown.length > 0)
          throw badUserInput(`Unknown resource ${unknown.join(', ')}; known: ${options.resources.join(', ')}`);
        const part = scope ? (args as Record<string, unknown>)[scope.argument] : undefined;
        if (typeof part === 'string') {
          const refused = await scope!.check(part);
          if (refused) throw badUserInput(refused);
        }
        // Answers as soon as the run is recorded; the run goes on in the background.
        const id = await new Promise<string>((resolve, reject) => {
          let started = false;
          syncer()
            .run({
              resources: args.resources ?? undefined,
              since: args.since ?? undefined,
              full: args.full ?? false,
              ...(typeof part === 'string' ? { scopes: [part] } : {}),
              onStart: (runId) => {
                started = true;
                resolve(runId);
              },
            })
            .catch((error: unknown) => {
              options.runtime.log.error({ err: error }, `${options.runtime.name} sync failed`);
              if (!started) reject(error);
            });
        });
        return (await runById(id))!;
      },
    }),
  );

  const CheckReportType = builder.objectRef<CheckReport>(`${prefix}CheckReport`).implement({
    description: `One resource's synced rows compared with ${provider}.`,
    fields: (t) => ({
      resource: t.exposeString('resource'),
      api: t.exposeInt('api', { description: `Objects ${provider} listed.` }),
      database: t.exposeInt('database', { description: 'Live rows after the check (and its fixes).' }),
      missing: t.exposeInt('missing'),
      stale: t.exposeInt('stale', { description: `Rows that differ from ${provider}.` }),
      extra: t.exposeInt('extra', { description: `Live rows of objects gone from ${provider}.` }),
      fixed: t.exposeInt('fixed'),
    }),
  });

  builder.mutationField(`check${prefix}`, (t) =>
    t.field({
      type: [CheckReportType],
      description: `Compares the synced tables with ${provider}, as \`plugboard ${options.runtime.name} check\` does, and answers when done (admin only); with \`fix\`, repairs what differs.`,
      authScopes: { admin: true },
      args: { resources: t.arg.stringList(), fix: t.arg.boolean() },
      resolve: (_root, args) => {
        const unknown = (args.resources ?? []).filter((resource) => !options.resources.includes(resource));
        if (unknown.length > 0)
          throw badUserInput(`Unknown resource ${unknown.join(', ')}; known: ${options.resources.join(', ')}`);
        return options.checker().check({ resources: args.resources ?? [...options.resources], fix: args.fix ?? false });
      },
    }),
  );

  builder.subscriptionField(`${lower}Events`, (t) =>
    t.field({
      type: EventType,
      description: `${provider} events as they are applied (admin only), of the types matching any glob (\`${options.typeExample}\`).`,
      authScopes: { admin: true },
      args: { types: t.arg.stringList() },
      subscribe: (_root, { types }) => {
        const matches = globMatcher(types ?? []);
        return pipe(
          options.runtime.pubsub.subscribe(webhookEventsTopic),
          filter((message: WebhookMessage) => message.plugin === options.runtime.name && matches(message.type)),
        );
      },
      resolve: (message) => message,
    }),
  );
}

/** A synced provider's whole GraphQL: its tables (object-schema.ts) and its runs and events. */
export function addSyncSchema(
  builder: Builder,
  options: Omit<SyncControlOptions, 'syncer' | 'checker' | 'runtime'> & {
    views: SyncViews;
    runtime: SyncControlOptions['runtime'] & { readonly db: Queryable };
    /** The plugin's instance, made when the gateway starts. */
    instance(): { syncer: Syncer; checker: Checker; plans: PlanCache };
  },
): void {
  const { views, runtime, instance } = options;
  addSyncViewSchema(builder, { views, runtime, plans: () => instance().plans });
  addSyncControlSchema(builder, {
    ...options,
    syncer: () => instance().syncer,
    checker: () => instance().checker,
  });
}

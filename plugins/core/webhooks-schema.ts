/**
 * Every webhook-receiving plugin's durable log, for admins: a connection over stored events
 * (dead letters included) and a subscription to processed events, filtered by type globs.
 */
import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { filter, pipe } from '@graphql-yoga/subscription';
import {
  badUserInput,
  type Builder,
  decodeCursor,
  encodeCursor,
  globMatcher,
  type PluginRuntime,
  type StoredWebhookEvent,
  webhookEventsTopic,
  type WebhookMessage,
  type WebhookMinute,
  type WebhookStats,
  type WebhookStatus,
} from '../../gateway/sdk.ts';

const STATUSES: WebhookStatus[] = ['received', 'processed', 'failed'];
const PAGE_LIMIT = 100;
/** Failed events one replayWebhookEvents call takes (each is applied before it answers). */
const REPLAY_LIMIT = 1000;

export function addWebhookSchema(builder: Builder, runtime: PluginRuntime<unknown>): void {
  const StatusEnum = builder.enumType('WebhookEventStatus', {
    description:
      'RECEIVED: stored, not yet applied (or being retried). PROCESSED: applied. FAILED: every attempt failed (replay it).',
    values: Object.fromEntries(STATUSES.map((value) => [value.toUpperCase(), { value }])) as Record<
      Uppercase<WebhookStatus>,
      { value: WebhookStatus }
    >,
  });

  const StoredType = builder.objectRef<StoredWebhookEvent & { plugin: string }>('WebhookEvent').implement({
    description: "A webhook delivery in a plugin's durable log.",
    fields: (t) => ({
      id: t.exposeID('id', { description: "The provider's event id." }),
      plugin: t.exposeString('plugin'),
      type: t.exposeString('type'),
      status: t.field({ type: StatusEnum, resolve: (event) => event.status }),
      payload: t.field({ type: 'JSON', resolve: (event) => event.payload }),
      receivedAt: t.field({ type: 'DateTime', resolve: (event) => event.received_at }),
      processedAt: t.field({ type: 'DateTime', nullable: true, resolve: (event) => event.processed_at }),
      attempts: t.exposeInt('attempts'),
      lastError: t.exposeString('last_error', { nullable: true }),
    }),
  });

  const MessageType = builder.objectRef<WebhookMessage>('WebhookEventMessage').implement({
    description: 'A webhook event that has just been applied.',
    fields: (t) => ({
      plugin: t.exposeString('plugin'),
      id: t.exposeID('id'),
      type: t.exposeString('type'),
      payload: t.field({ type: 'JSON', resolve: (message) => message.payload }),
      processedAt: t.field({ type: 'DateTime', resolve: (message) => new Date(message.processedAt) }),
    }),
  });

  const logOf = (plugin: string) => {
    const log = runtime.webhooks.get(plugin);
    if (!log)
      throw badUserInput(
        `Plugin ${plugin} receives no webhooks here; enabled: ${[...runtime.webhooks.keys()].join(', ') || 'none'}`,
      );
    return log;
  };

  builder.queryField('webhookEvents', (t) =>
    t.connection({
      type: StoredType,
      description: "A plugin's webhook log, newest first (admin only). `type` takes a glob such as `invoice.*`.",
      authScopes: { admin: true },
      args: {
        plugin: t.arg.string({ required: true }),
        status: t.arg({ type: StatusEnum }),
        type: t.arg.string(),
        receivedFrom: t.arg({ type: 'DateTime', description: 'Received at or after this time.' }),
        receivedBefore: t.arg({ type: 'DateTime', description: 'Received before this time.' }),
      },
      resolve: (_root, args) => {
        const log = logOf(args.plugin);
        if (args.before || args.last) throw badUserInput('webhookEvents pages forward only: use first and after');
        return resolveCursorConnection(
          {
            args: { ...args, first: Math.min(args.first ?? 20, PAGE_LIMIT) },
            toCursor: (row: StoredWebhookEvent & { cursor_at: string }) => encodeCursor(row.cursor_at, row.id),
          },
          async ({ after, limit }: ResolveCursorConnectionArgs) => {
            const rows = await log.page(
              { status: args.status, type: args.type, from: args.receivedFrom, until: args.receivedBefore },
              after ? decodeCursor(after) : null,
              limit,
            );
            return rows.map((row) => ({ ...row, plugin: args.plugin }));
          },
        );
      },
    }),
  );

  const MinuteType = builder.objectRef<WebhookMinute>('WebhookMinute').implement({
    description: 'Deliveries received in one minute.',
    fields: (t) => ({
      minute: t.field({ type: 'DateTime', resolve: (row) => row.minute }),
      received: t.exposeInt('received'),
      failed: t.exposeInt('failed', { description: 'Of those, the ones that have failed for good.' }),
    }),
  });

  const StatsType = builder.objectRef<WebhookStats & { plugin: string }>('WebhookStats').implement({
    description: "A plugin's webhook log at a glance.",
    fields: (t) => ({
      plugin: t.exposeString('plugin'),
      received: t.exposeInt('received', { description: 'Stored, not yet applied (or being retried).' }),
      processed: t.exposeInt('processed'),
      failed: t.exposeInt('failed'),
      lastReceivedAt: t.field({ type: 'DateTime', nullable: true, resolve: (stats) => stats.last_received_at }),
      oldestWaitingAt: t.field({ type: 'DateTime', nullable: true, resolve: (stats) => stats.oldest_waiting_at }),
      perMinute: t.field({
        type: [MinuteType],
        description: 'Deliveries per minute over the last hour (a minute without any is absent).',
        resolve: (stats) => logOf(stats.plugin).throughput(),
      }),
    }),
  });

  builder.queryField('webhookStats', (t) =>
    t.field({
      type: [StatsType],
      description: "Every webhook-receiving plugin's log at a glance (admin only).",
      authScopes: { admin: true },
      resolve: () =>
        Promise.all([...runtime.webhooks.entries()].map(async ([plugin, log]) => ({ ...(await log.stats()), plugin }))),
    }),
  );

  builder.mutationField('replayWebhookEvent', (t) =>
    t.field({
      type: StoredType,
      description: 'Applies a stored event again (a failed one, usually) and answers it as it is then (admin only).',
      authScopes: { admin: true },
      args: { plugin: t.arg.string({ required: true }), id: t.arg.id({ required: true }) },
      resolve: async (_root, args) => {
        const log = logOf(args.plugin);
        const id = String(args.id);
        if (!(await log.replay(id))) throw badUserInput(`No event ${id} in the ${args.plugin} webhook log`);
        return { ...(await log.get(id))!, plugin: args.plugin };
      },
    }),
  );

  builder.mutationField('replayFailedWebhookEvents', (t) =>
    t.int({
      description: `Applies a plugin's failed events again, up to ${REPLAY_LIMIT} a call, oldest first; answers how many (admin only).`,
      authScopes: { admin: true },
      args: { plugin: t.arg.string({ required: true }) },
      resolve: (_root, args) => logOf(args.plugin).replayFailed(REPLAY_LIMIT),
    }),
  );

  builder.subscriptionField('webhookEvents', (t) =>
    t.field({
      type: MessageType,
      description:
        'Webhook events as they are applied (admin only): of one plugin or all, of the types matching any glob (`invoice.*`).',
      authScopes: { admin: true },
      args: { plugin: t.arg.string(), types: t.arg.stringList() },
      subscribe: (_root, { plugin, types }) => {
        if (plugin) logOf(plugin);
        const matches = globMatcher(types ?? []);
        return pipe(
          runtime.pubsub.subscribe(webhookEventsTopic),
          filter((message: WebhookMessage) => (!plugin || message.plugin === plugin) && matches(message.type)),
        );
      },
      resolve: (message) => message,
    }),
  );
}

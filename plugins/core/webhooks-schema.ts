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
  type WebhookStatus,
} from '../../gateway/sdk.ts';

const STATUSES: WebhookStatus[] = ['received', 'processed', 'failed'];
const PAGE_LIMIT = 100;

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
              { status: args.status, type: args.type },
              after ? decodeCursor(after) : null,
              limit,
            );
            return rows.map((row) => ({ ...row, plugin: args.plugin }));
          },
        );
      },
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

/**
 * GraphQL of the notifications plugin. Sending is for admins (a backend, or Hasura actions with
 * the admin role) and returns once enqueued; a user reads and marks their own in-app
 * notifications, manages their own preferences and push subscriptions, and gets their own
 * `notificationAdded` events only.
 */
import {
  badUserInput,
  type Builder,
  forwardConnection,
  type KeysetRow,
  type PluginRuntime,
  signedInUser,
} from '../../gateway/sdk.ts';
import { CHANNELS, type Channel, type NotificationsConfig } from './config.ts';
import { notificationsSql } from './sql.ts';
import {
  MAX_BULK_RECIPIENTS,
  type BatchProgress,
  type NotificationsService,
  type PreferenceRow,
  type StoredTemplate,
} from './service.ts';
import type { Rendered } from './templates.ts';
import { NOTIFICATION_ADDED, type InAppNotification } from './topics.ts';

interface NotificationRow {
  id: string;
  user_id: string | null;
  channel: Channel;
  category: string;
  template: string | null;
  subject: string | null;
  body: string;
  status: string;
  reason: string | null;
  provider: string | null;
  attempts: number;
  read_at: Date | null;
  created_at: Date | string;
  sent_at: Date | null;
}

const dataOf = (data: unknown): Record<string, unknown> => {
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw badUserInput('data must be a JSON object');
  return data as Record<string, unknown>;
};

export function addNotificationsSchema(
  builder: Builder,
  runtime: PluginRuntime<NotificationsConfig>,
  service: () => NotificationsService,
): void {
  const ChannelEnum = builder.enumType('NotificationChannel', { values: CHANNELS });
  const TemplateChannelEnum = builder.enumType('NotificationTemplateChannel', {
    description: "A template variant's channel; ANY serves channels without a variant of their own.",
    values: ['ANY', ...CHANNELS] as const,
  });
  const StatusEnum = builder.enumType('NotificationStatus', {
    values: {
      QUEUED: { description: 'Waiting for a worker (or for a retry).' },
      DEFERRED: { description: 'Waiting for the end of quiet hours, or for the digest.' },
      SENT: { description: 'Accepted by the provider (SMTP server, push service, Twilio).' },
      DELIVERED: { description: 'Reached the recipient (in-app).' },
      FAILED: { description: 'Final: the reason says why (after the last attempt, or refused for this recipient).' },
      SKIPPED: { description: 'Not sent on purpose: opted out, no address or subscription.' },
    } as const,
  });

  const NotificationType = builder.objectRef<NotificationRow>('Notification').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      userId: t.exposeString('user_id', { nullable: true }),
      channel: t.field({ type: ChannelEnum, resolve: (n) => n.channel }),
      category: t.exposeString('category'),
      template: t.exposeString('template', { nullable: true }),
      subject: t.exposeString('subject', { nullable: true }),
      body: t.exposeString('body'),
      status: t.field({ type: StatusEnum, resolve: (n) => n.status.toUpperCase() as 'QUEUED' }),
      reason: t.exposeString('reason', { nullable: true }),
      provider: t.exposeString('provider', { nullable: true }),
      attempts: t.exposeInt('attempts'),
      read: t.boolean({ resolve: (n) => n.read_at !== null }),
      createdAt: t.field({ type: 'DateTime', resolve: (n) => n.created_at }),
      sentAt: t.field({ type: 'DateTime', nullable: true, resolve: (n) => n.sent_at }),
    }),
  });

  const RenderedType = builder.objectRef<Rendered>('RenderedNotification').implement({
    description: 'A rendered template: the email subject (push title), the text and the HTML.',
    fields: (t) => ({
      subject: t.exposeString('subject', { nullable: true }),
      body: t.exposeString('body'),
      html: t.exposeString('html', { nullable: true }),
    }),
  });

  const InAppType = builder.objectRef<InAppNotification>('InAppNotification').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      userId: t.exposeString('userId'),
      category: t.exposeString('category'),
      subject: t.exposeString('subject', { nullable: true }),
      body: t.exposeString('body'),
      createdAt: t.field({ type: 'DateTime', resolve: (n) => new Date(n.createdAt) }),
    }),
  });

  const ReceiptType = builder.objectRef<{ ids: string[]; duplicate: boolean }>('NotificationReceipt').implement({
    description: 'What sendNotification enqueued: one notification per channel.',
    fields: (t) => ({
      notificationIds: t.idList({ resolve: (r) => r.ids }),
      duplicate: t.exposeBoolean('duplicate', {
        description: 'True when the idempotency key was used before: nothing new was enqueued.',
      }),
    }),
  });

  const BulkReceiptType = builder
    .objectRef<{ batchId: string; notifications: number }>('BulkNotificationReceipt')
    .implement({
      fields: (t) => ({
        batchId: t.exposeID('batchId', { description: 'Follow progress with notificationBatch(id).' }),
        notifications: t.exposeInt('notifications', { description: 'Notifications enqueued (recipients × channels).' }),
      }),
    });

  const BatchType = builder.objectRef<BatchProgress>('NotificationBatch').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      kind: t.exposeString('kind', { description: 'bulk or digest' }),
      template: t.exposeString('template', { nullable: true }),
      category: t.exposeString('category', { nullable: true }),
      total: t.exposeInt('total'),
      queued: t.exposeInt('queued'),
      deferred: t.exposeInt('deferred'),
      sent: t.exposeInt('sent'),
      delivered: t.exposeInt('delivered'),
      failed: t.exposeInt('failed'),
      skipped: t.exposeInt('skipped'),
      done: t.boolean({
        description: 'Every notification has a final status.',
        resolve: (b) => b.queued + b.deferred === 0 && b.sent + b.delivered + b.failed + b.skipped >= b.total,
      }),
      createdAt: t.field({ type: 'DateTime', resolve: (b) => b.created_at }),
    }),
  });

  const TemplateType = builder.objectRef<StoredTemplate>('NotificationTemplate').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      channel: t.field({ type: TemplateChannelEnum, resolve: (v) => v.channel }),
      locale: t.exposeString('locale'),
      version: t.exposeInt('version'),
      subject: t.exposeString('subject', { nullable: true }),
      body: t.exposeString('body'),
      html: t.exposeString('html', { nullable: true }),
      createdAt: t.field({ type: 'DateTime', resolve: (v) => v.created_at }),
    }),
  });

  const TemplateInput = builder.inputType('NotificationTemplateInput', {
    fields: (t) => ({
      name: t.string({ required: true }),
      channel: t.field({ type: TemplateChannelEnum, defaultValue: 'ANY' }),
      locale: t.string({ defaultValue: 'en' }),
      subject: t.string({ description: 'Liquid; email subject, push title (SMS prepends it to the body).' }),
      body: t.string({ required: true, description: 'Liquid; the text.' }),
      html: t.string({ description: 'Liquid, every output HTML-escaped; email only.' }),
    }),
  });

  const ChannelStatusType = builder
    .objectRef<ReturnType<NotificationsService['channelStatus']>[number]>('NotificationChannelStatus')
    .implement({
      fields: (t) => ({
        channel: t.field({ type: ChannelEnum, resolve: (s) => s.channel }),
        enabled: t.exposeBoolean('enabled'),
        providers: t.exposeStringList('providers', { description: 'In failover order.' }),
        reason: t.exposeString('reason', { nullable: true, description: 'Why the channel is disabled.' }),
      }),
    });

  const CountType = builder
    .objectRef<{ channel: Channel; status: string; count: number }>('NotificationCount')
    .implement({
      fields: (t) => ({
        channel: t.field({ type: ChannelEnum, resolve: (c) => c.channel }),
        status: t.field({ type: StatusEnum, resolve: (c) => c.status.toUpperCase() as 'QUEUED' }),
        count: t.exposeInt('count'),
      }),
    });

  const PreferenceType = builder.objectRef<PreferenceRow>('NotificationPreference').implement({
    fields: (t) => ({
      channel: t.field({ type: ChannelEnum, resolve: (p) => p.channel }),
      category: t.exposeString('category', { description: '"*" applies to categories without their own row.' }),
      enabled: t.exposeBoolean('enabled'),
      digest: t.exposeBoolean('digest', {
        description: 'Gathered into one message every NOTIFICATIONS_BATCH_INTERVAL instead of sent one by one.',
      }),
    }),
  });
  const QuietHoursType = builder
    .objectRef<{ starts: string; ends: string; time_zone: string }>('QuietHours')
    .implement({
      fields: (t) => ({
        start: t.exposeString('starts', { description: 'HH:MM, local time' }),
        end: t.exposeString('ends', {
          description: 'HH:MM, local time (may be earlier than start: the window wraps midnight)',
        }),
        timeZone: t.exposeString('time_zone', { description: 'IANA time zone' }),
      }),
    });
  const PreferencesType = builder
    .objectRef<Awaited<ReturnType<NotificationsService['preferences']>>>('NotificationPreferences')
    .implement({
      fields: (t) => ({
        preferences: t.field({ type: [PreferenceType], resolve: (p) => p.preferences }),
        quietHours: t.field({
          type: QuietHoursType,
          nullable: true,
          description: 'Email, push and SMS wait until the window ends; in-app is not held.',
          resolve: (p) => p.quietHours,
        }),
      }),
    });
  const PreferenceInput = builder.inputType('NotificationPreferenceInput', {
    fields: (t) => ({
      channel: t.field({ type: ChannelEnum, required: true }),
      category: t.string({ defaultValue: '*' }),
      enabled: t.boolean({ required: true }),
      digest: t.boolean({ defaultValue: false }),
    }),
  });
  const QuietHoursInput = builder.inputType('QuietHoursInput', {
    fields: (t) => ({
      start: t.string({ required: true }),
      end: t.string({ required: true }),
      timeZone: t.string({ required: true }),
    }),
  });

  const PushSubscriptionType = builder
    .objectRef<{ id: string; endpoint: string; created_at: Date }>('PushSubscription')
    .implement({
      fields: (t) => ({
        id: t.exposeID('id'),
        endpoint: t.exposeString('endpoint'),
        createdAt: t.field({ type: 'DateTime', resolve: (s) => s.created_at }),
      }),
    });
  const RecipientType = builder
    .objectRef<{ user_id: string; email: string | null; phone: string | null }>('NotificationRecipient')
    .implement({
      fields: (t) => ({
        userId: t.exposeString('user_id'),
        email: t.exposeString('email', { nullable: true }),
        phone: t.exposeString('phone', { nullable: true }),
      }),
    });

  builder.queryFields((t) => ({
    notifications: t.connection({
      type: NotificationType,
      description: "The caller's in-app notifications, newest first.",
      authScopes: { loggedIn: true },
      args: { unreadOnly: t.arg.boolean({ defaultValue: false }) },
      resolve: (_root, args, context) => {
        const userId = signedInUser(context.session);
        return forwardConnection(
          'notifications',
          args,
          async (after, limit) =>
            (
              await runtime.db.query<NotificationRow & KeysetRow>(notificationsSql('inbox'), [
                userId,
                limit,
                after?.at ?? null,
                after?.id ?? null,
                args.unreadOnly ?? false,
              ])
            ).rows,
        );
      },
    }),
    notificationPreferences: t.field({
      type: PreferencesType,
      description: "The caller's preferences and quiet hours.",
      authScopes: { loggedIn: true },
      resolve: (_root, _args, context) => service().preferences(signedInUser(context.session)),
    }),
    notificationDeliveries: t.connection({
      type: NotificationType,
      description:
        "Every user's notifications on every channel, newest first (admins): what was sent, failed (with the reason) or skipped.",
      authScopes: { admin: true },
      args: { status: t.arg({ type: StatusEnum }), channel: t.arg({ type: ChannelEnum }) },
      resolve: (_root, args) =>
        forwardConnection(
          'notificationDeliveries',
          args,
          async (after, limit) =>
            (
              await runtime.db.query<NotificationRow & KeysetRow>(notificationsSql('deliveries'), [
                limit,
                after?.at ?? null,
                after?.id ?? null,
                args.status?.toLowerCase() ?? null,
                args.channel ?? null,
              ])
            ).rows,
        ),
    }),
    renderNotificationTemplate: t.field({
      type: RenderedType,
      description: 'A template as it would render with `data`, stored nowhere (admins): a preview.',
      authScopes: { admin: true },
      args: { input: t.arg({ type: TemplateInput, required: true }), data: t.arg({ type: 'JSON', required: true }) },
      resolve: (_root, { input, data }) => {
        if (typeof data !== 'object' || data === null || Array.isArray(data))
          throw badUserInput('data must be a JSON object');
        return service().previewTemplate(templateInput(input), data as Record<string, unknown>);
      },
    }),
    notificationTemplates: t.field({
      type: [TemplateType],
      description: 'Newest version of every template variant (of one template when name is given).',
      authScopes: { admin: true },
      args: { name: t.arg.string() },
      resolve: (_root, { name }) => service().templates(name ?? null),
    }),
    notificationBatch: t.field({
      type: BatchType,
      nullable: true,
      description: 'Progress of a bulk send or digest run.',
      authScopes: { admin: true },
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }) => (/^[0-9a-f-]{36}$/i.test(String(id)) ? service().batch(String(id)) : null),
    }),
    notificationStats: t.field({
      type: [CountType],
      description: 'Notifications by channel and status, created since `since` (default: the last 24 hours).',
      authScopes: { admin: true },
      args: { since: t.arg({ type: 'DateTime' }) },
      resolve: (_root, { since }) => service().stats(since ?? new Date(Date.now() - 24 * 3600 * 1000)),
    }),
    notificationChannels: t.field({
      type: [ChannelStatusType],
      description: 'Which channels can send, through which providers, and why not.',
      authScopes: { admin: true },
      resolve: () => service().channelStatus(),
    }),
  }));

  builder.mutationFields((t) => ({
    sendNotification: t.field({
      type: ReceiptType,
      description:
        'Enqueues a template for one user on the given channels (default: every enabled channel the template has a variant for). Returns once enqueued.',
      authScopes: { admin: true },
      args: {
        userId: t.arg.id({ required: true }),
        template: t.arg.string({ required: true }),
        data: t.arg({ type: 'JSON' }),
        channels: t.arg({ type: [ChannelEnum] }),
        category: t.arg.string(),
        idempotencyKey: t.arg.string({
          description: 'At most one notification per channel for a key, however often it is sent.',
        }),
        locale: t.arg.string({ description: 'Template locale (falls back to en).' }),
      },
      resolve: (_root, args, context) =>
        service().enqueue({
          userIds: [String(args.userId)],
          template: args.template,
          data: dataOf(args.data),
          channels: args.channels ?? null,
          category: args.category ?? null,
          idempotencyKey: args.idempotencyKey ?? null,
          locale: args.locale ?? null,
          requestedBy: context.session.userId ?? null,
        }),
    }),
    sendBulkNotifications: t.field({
      type: BulkReceiptType,
      description: `Enqueues a template for up to ${MAX_BULK_RECIPIENTS} users with the same data, as one batch. Returns once enqueued.`,
      authScopes: { admin: true },
      args: {
        userIds: t.arg.idList({ required: true }),
        template: t.arg.string({ required: true }),
        data: t.arg({ type: 'JSON' }),
        channels: t.arg({ type: [ChannelEnum] }),
        category: t.arg.string(),
        locale: t.arg.string(),
      },
      resolve: async (_root, args, context) => {
        const sent = await service().enqueue(
          {
            userIds: args.userIds.map(String),
            template: args.template,
            data: dataOf(args.data),
            channels: args.channels ?? null,
            category: args.category ?? null,
            locale: args.locale ?? null,
            requestedBy: context.session.userId ?? null,
          },
          { kind: 'bulk' },
        );
        return { batchId: sent.batchId!, notifications: sent.ids.length };
      },
    }),
    markNotificationsRead: t.int({
      description: "Marks the caller's in-app notifications read (the given ones, or all); returns how many changed.",
      authScopes: { loggedIn: true },
      args: { ids: t.arg.idList(), all: t.arg.boolean({ defaultValue: false }) },
      resolve: (_root, { ids, all }, context) => {
        if (!all && !ids) throw badUserInput('Give ids, or all: true');
        const wanted = all ? null : ids!.map(String);
        if (wanted?.some((id) => !/^[0-9a-f-]{36}$/i.test(id))) throw badUserInput('ids are notification ids (UUIDs)');
        return service().markRead(signedInUser(context.session), wanted);
      },
    }),
    updateNotificationPreferences: t.field({
      type: PreferencesType,
      description: "Sets the caller's preferences (rows given are replaced) and quiet hours (null clears them).",
      authScopes: { loggedIn: true },
      args: { preferences: t.arg({ type: [PreferenceInput] }), quietHours: t.arg({ type: QuietHoursInput }) },
      resolve: async (_root, args, context) => {
        const userId = signedInUser(context.session);
        const rows = (args.preferences ?? []).map((p) => ({
          channel: p.channel,
          category: p.category ?? '*',
          enabled: p.enabled,
          digest: p.digest ?? false,
        }));
        const quiet =
          args.quietHours === undefined
            ? undefined
            : args.quietHours === null
              ? null
              : { starts: args.quietHours.start, ends: args.quietHours.end, time_zone: args.quietHours.timeZone };
        await service().updatePreferences(userId, rows, quiet);
        return service().preferences(userId);
      },
    }),
    registerPushSubscription: t.field({
      type: PushSubscriptionType,
      description: "Stores a browser's PushSubscription (endpoint and keys) for the caller.",
      authScopes: { loggedIn: true },
      args: {
        endpoint: t.arg.string({ required: true }),
        p256dh: t.arg.string({ required: true }),
        auth: t.arg.string({ required: true }),
      },
      resolve: (_root, args, context) =>
        service().registerPush(signedInUser(context.session), args.endpoint, args.p256dh, args.auth),
    }),
    unregisterPushSubscription: t.boolean({
      authScopes: { loggedIn: true },
      args: { endpoint: t.arg.string({ required: true }) },
      resolve: (_root, args, context) => service().unregisterPush(signedInUser(context.session), args.endpoint),
    }),
    setNotificationRecipient: t.field({
      type: RecipientType,
      description:
        "Sets where a user gets email and SMS, in the plugin's recipient directory (notifications.recipients).",
      authScopes: { admin: true },
      args: { userId: t.arg.id({ required: true }), email: t.arg.string(), phone: t.arg.string() },
      resolve: (_root, args) => service().setRecipient(String(args.userId), args.email ?? null, args.phone ?? null),
    }),
    createNotificationTemplate: t.field({
      type: TemplateType,
      description: 'A new template variant (version 1). Its Liquid is checked now.',
      authScopes: { admin: true },
      args: { input: t.arg({ type: TemplateInput, required: true }) },
      resolve: (_root, { input }, context) =>
        service().saveTemplate(templateInput(input), 'create', context.session.userId ?? null),
    }),
    updateNotificationTemplate: t.field({
      type: TemplateType,
      description: 'A new version of a template variant; sends use the newest.',
      authScopes: { admin: true },
      args: { input: t.arg({ type: TemplateInput, required: true }) },
      resolve: (_root, { input }, context) =>
        service().saveTemplate(templateInput(input), 'update', context.session.userId ?? null),
    }),
    deleteNotificationTemplate: t.int({
      description: 'Deletes every version of every variant of a template; returns how many rows went.',
      authScopes: { admin: true },
      args: { name: t.arg.string({ required: true }) },
      resolve: (_root, { name }) => service().deleteTemplate(name),
    }),
  }));

  builder.subscriptionFields((t) => ({
    notificationAdded: t.field({
      type: InAppType,
      description: "The caller's in-app notifications as they are delivered.",
      authScopes: { loggedIn: true },
      subscribe: (_root, _args, context) => runtime.pubsub.subscribe(NOTIFICATION_ADDED, signedInUser(context.session)),
      resolve: (payload) => payload,
    }),
  }));
}

function templateInput(input: {
  name: string;
  channel?: string | null;
  locale?: string | null;
  subject?: string | null;
  body: string;
  html?: string | null;
}) {
  return {
    name: input.name,
    channel: (input.channel ?? 'ANY') as Channel | 'ANY',
    locale: input.locale ?? 'en',
    subject: input.subject ?? null,
    body: input.body,
    html: input.html ?? null,
  };
}

/**
 * The notifications plugin: templates rendered with LiquidJS and delivered on the gateway's queue
 * through real providers (nodemailer SMTP pools, web-push, the Twilio SDK) and the pubsub
 * (in-app), with preferences, quiet hours, digests, retries, failover and per-provider limits.
 */
import {
  batchedRule,
  ConfigError,
  createRedisClient,
  definePlugin,
  InputError,
  PermanentJobError,
  notifyUsersJob,
  type PluginRuntime,
  sendEmailJob,
} from '../../gateway/sdk.ts';
import { addNotificationsCommands } from './cli.ts';
import { CHANNELS, type Channel, type NotificationsConfig } from './config.ts';
import { readNotificationsConfig } from './config.ts';
import { Deliverer, QUEUE, type ProviderSet } from './delivery.ts';
import { smtpProvider } from './email.ts';
import manifest from './plugin.json' with { type: 'json' };
import { rateLimited, type Provider } from './providers.ts';
import { webPushProvider } from './push.ts';
import { addNotificationsSchema } from './schema.ts';
import { NotificationErrorCode, NotificationsService } from './service.ts';
import { notificationsSql } from './sql.ts';
import { twilioProvider } from './sms.ts';
import { NOTIFICATION_ADDED } from './topics.ts';

/** The notifications plugin's instance: its services, providers and the providers' refresh timer. */
interface NotificationsInstance {
  service: NotificationsService;
  deliverer: Deliverer;
  /** Reads the failover order from notifications.providers (adding configured ones first). */
  refreshProviders(): Promise<void>;
  close(): Promise<void>;
  /** Re-reads the providers while the gateway runs (set by start, cleared by stop). */
  refreshTimer: NodeJS.Timeout | null;
  /** Looks for notifications whose delivery job was lost, while the gateway runs. */
  sweepTimer: NodeJS.Timeout | null;
}

/** The plugin's instance, made once per runtime on first use (by the gateway, a worker, or a CLI command). */
function setup(runtime: PluginRuntime<NotificationsConfig>): NotificationsInstance {
  const { email, push, sms } = runtime.config;
  const limits = [email?.rateLimit, push?.rateLimit, sms?.rateLimit].some((limit) => (limit ?? 0) > 0);
  const redis =
    limits && runtime.connections.redis
      ? createRedisClient(runtime.connections.redis, {
          connectionName: 'plugboard-notifications-limits',
          maxRetriesPerRequest: 3,
          lazyConnect: true,
        })
      : null;
  redis?.on('error', (error: Error) =>
    runtime.log.warn({ err: error }, 'notifications rate limiter: Redis connection error'),
  );
  const configured: Provider[] = [
    ...(email?.providers.map((provider) => rateLimited(smtpProvider(provider, email), email.rateLimit, redis)) ?? []),
    ...(push ? [rateLimited(webPushProvider(push, runtime.config.pushEndpoints), push.rateLimit, redis)] : []),
    ...(sms ? [rateLimited(twilioProvider(sms), sms.rateLimit, redis)] : []),
  ];
  const arrange = (order: { name: string; enabled: boolean }[]): ProviderSet => {
    const byName = new Map(configured.map((p) => [p.name, p]));
    const pick = <C extends keyof ProviderSet>(channel: C) =>
      order
        .filter((o) => o.enabled && byName.get(o.name)?.channel === channel)
        .map((o) => byName.get(o.name)!) as ProviderSet[C];
    return { EMAIL: pick('EMAIL'), PUSH: pick('PUSH'), SMS: pick('SMS') };
  };
  // Until the table is read, the configured order.
  let providers = arrange(configured.map((p) => ({ name: p.name, enabled: true })));
  const deliverer = new Deliverer(runtime, () => providers);
  const service = new NotificationsService(runtime, () => deliverer);
  return {
    service,
    deliverer,
    refreshTimer: null,
    sweepTimer: null,
    async refreshProviders() {
      const { rows } = await runtime.db.query<{ name: string; enabled: boolean }>(notificationsSql('providers-sync'), [
        configured.map((p) => p.name),
        configured.map((p) => p.channel),
      ]);
      providers = arrange(rows);
    },
    async close() {
      await deliverer.close();
      await Promise.all(configured.map((p) => p.close()));
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}

export default definePlugin<NotificationsConfig, NotificationsInstance>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  topics: [NOTIFICATION_ADDED],
  config: readNotificationsConfig,
  setup,
  schema: (builder, runtime, instance) => addNotificationsSchema(builder, runtime, () => instance().service),
  commands: (command, open) =>
    addNotificationsCommands(command, async () => {
      const { runtime, instance } = await open();
      await instance.refreshProviders();
      return { runtime, ...instance };
    }),
  errors: {
    [NotificationErrorCode.TEMPLATE_LIMIT]: {
      status: 400,
      description: 'a template with the given data takes too long, allocates too much, or is too long',
    },
    [NotificationErrorCode.PUSH_ENDPOINT_REFUSED]: {
      status: 400,
      description: 'a push endpoint that is not https on an allowed push service, or resolves to a non-public address',
    },
    [NotificationErrorCode.PUSH_SUBSCRIPTION_LIMIT]: {
      status: 409,
      description: 'the user has `NOTIFICATIONS_PUSH_MAX_SUBSCRIPTIONS` push subscriptions already',
    },
  },
  hasura: {
    actions: {
      sendNotification: { kind: 'synchronous', roles: [] },
      sendBulkNotifications: { kind: 'synchronous', roles: [] },
      markNotificationsRead: { kind: 'synchronous', roles: ['user'] },
    },
    triggers: {
      // Inserting into notifications.requests (through Hasura) sends; hosts may put the same trigger
      // on their own tables. A row (new, or old for DELETE) of { user_id, template, data?, channels?, category? } in any
      // table becomes a notification; the event id is its idempotency key, so a redelivery adds nothing.
      notifications_send: {
        table: 'requests',
        on: ['insert'],
        handle: async (event, _runtime, instance) => {
          const row = event.new ?? event.old ?? {};
          const {
            user_id: userId,
            template,
            data = {},
            channels = null,
            category = null,
          } = row as Record<string, unknown>;
          if (typeof userId !== 'string' || typeof template !== 'string')
            throw new InputError(
              `notifications_send needs a row with user_id and template (table ${event.table.schema}.${event.table.name})`,
            );
          if (typeof data !== 'object' || data === null || Array.isArray(data))
            throw new InputError('data must be a JSON object');
          if (
            channels !== null &&
            !(Array.isArray(channels) && channels.every((c) => (CHANNELS as readonly unknown[]).includes(c)))
          )
            throw new InputError(`channels must be a list of ${CHANNELS.join(', ')}`);
          const sent = await instance().service.enqueue({
            userIds: [userId],
            template,
            data: data as Record<string, unknown>,
            channels: channels as Channel[] | null,
            category: typeof category === 'string' ? category : null,
            idempotencyKey: `hasura-event:${event.id}`,
            requestedBy: event.sessionVariables['x-hasura-user-id'] ?? null,
          });
          return { notificationIds: sent.ids, duplicate: sent.duplicate };
        },
      },
    },
  },
  // Notifications first: a batch goes once none of its notifications is left.
  retention: (runtime) =>
    (['notifications', 'batches', 'requests'] as const).map((table) =>
      batchedRule({
        name: `notifications.${table}`,
        days: runtime.config.retentionDays,
        sql: notificationsSql(`${table}-prune`),
      }),
    ),
  jobs: (runtime, instance) => ({
    [QUEUE]: {
      get concurrency() {
        return runtime.config.concurrency;
      },
      timeoutMs: 60_000,
      handlers: {
        deliver: async (data, job) => {
          const { id, attemptsBefore = 0 } = (data ?? {}) as { id?: unknown; attemptsBefore?: unknown };
          if (typeof id !== 'string' || typeof attemptsBefore !== 'number')
            throw new PermanentJobError('deliver needs { id, attemptsBefore? }');
          // A retry handed over by a deliver-batch job counts the batch's attempt too.
          return instance().deliverer.deliver(id, {
            attempt: attemptsBefore + job.attempt,
            maxAttempts: attemptsBefore + job.maxAttempts,
          });
        },
        'deliver-batch': async (data, job) => {
          const ids = (data as { ids?: unknown } | null)?.ids;
          if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))
            throw new PermanentJobError('deliver-batch needs { ids }');
          return instance().deliverer.deliverBatch(ids, job.signal);
        },
        // The jobs plugin's send-email hands its messages here through the SDK's typed contract.
        [sendEmailJob.type]: sendEmailJob.handle(async (payload, job) => {
          try {
            return await instance().service.emailAddress(`job:${job.id}`, payload, job);
          } catch (error) {
            // A missing template or variable, or a render over a limit: no retry can fix it.
            if (error instanceof InputError)
              throw new PermanentJobError(`${error.code}: ${error.message}`, { cause: error });
            throw error;
          }
        }),
        // Other plugins' plain-text notices (the files plugin's infected-file alert).
        [notifyUsersJob.type]: notifyUsersJob.handle((payload) => instance().service.notifyText(payload)),
        digest: async (data) => {
          const at = (data as { at?: string } | null)?.at;
          const { service } = instance();
          const digests = await service.sendDigests(at ? new Date(at) : new Date());
          await service.scheduleNextDigest();
          return { digests };
        },
      },
    },
  }),
  async start(runtime, instance) {
    const wanted = runtime.config.queueBackend;
    const actual = runtime.queue.backend === 'bullmq' ? 'redis' : 'postgres';
    if (wanted !== 'auto' && wanted !== actual) {
      throw new ConfigError([
        {
          variable: 'NOTIFICATIONS_QUEUE_BACKEND',
          owner: 'notifications',
          message: `is ${wanted}, but the gateway's queue is ${actual} (${actual === 'redis' ? 'REDIS_URL is set' : 'no REDIS_URL'}); set it to auto or ${actual}`,
        },
      ]);
    }
    await instance.refreshProviders();
    // Admins may reorder or disable providers in notifications.providers; picked up within 10 s.
    instance.refreshTimer = setInterval(
      () =>
        void instance
          .refreshProviders()
          .catch((error: unknown) => runtime.log.warn({ err: error }, 'reading notification providers failed')),
      10_000,
    );
    instance.refreshTimer.unref();
    await instance.service.scheduleNextDigest();
    // A process that died between storing notifications and enqueueing their jobs left them
    // queued with no job: every gateway looks for such rows now and then (and at once, after a restart).
    const sweep = () =>
      void instance.service
        .resendUnsent()
        .catch((error: unknown) => runtime.log.warn({ err: error }, 'looking for lost notification jobs failed'));
    sweep();
    instance.sweepTimer = setInterval(sweep, runtime.config.sweep.intervalSeconds * 1000);
    instance.sweepTimer.unref();
  },
  async stop(_runtime, instance) {
    if (instance.refreshTimer) clearInterval(instance.refreshTimer);
    if (instance.sweepTimer) clearInterval(instance.sweepTimer);
    instance.refreshTimer = null;
    instance.sweepTimer = null;
    await instance.service.sweepDone();
    await instance.close();
  },
});

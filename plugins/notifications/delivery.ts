/**
 * Delivery of notifications: preferences and quiet hours applied at send time, then the
 * channel's providers in failover order. A `deliver` job carries one notification; a
 * `deliver-batch` job carries up to DELIVERY_BATCH of a bulk send or a digest run, so the queue
 * pays one job, not one per message. What concurrent deliveries need is read in one query, and
 * their outcomes are written in one statement; a job finishes only once its outcomes are stored.
 * At most NOTIFICATIONS_CONCURRENCY messages are under way per process, whatever jobs they came in.
 */
import DataLoader from 'dataloader';
import pLimit, { type LimitFunction } from 'p-limit';
import { Batcher, type JobContext, PermanentJobError, type PluginRuntime, sendEmailJob } from '../../gateway/sdk.ts';
import type { Channel, NotificationsConfig } from './config.ts';
import { PushGoneError } from './push.ts';
import {
  DeliveryError,
  type Message,
  type Provider,
  type ProviderChannel,
  type PushTarget,
  type Targets,
} from './providers.ts';
import { quietUntil } from './quiet-hours.ts';
import { notificationsSql } from './sql.ts';
import { NOTIFICATION_ADDED } from './topics.ts';

/** The plugin's queue: the one the SDK's job contracts for this plugin (sendEmailJob) name. */
export const QUEUE = sendEmailJob.queue;
/** Notifications per `deliver-batch` job. */
export const DELIVERY_BATCH = 25;

export type Status = 'queued' | 'deferred' | 'sent' | 'delivered' | 'failed' | 'skipped';
const FINAL: ReadonlySet<Status> = new Set(['sent', 'delivered', 'failed', 'skipped']);

interface ContextRow {
  id: string;
  user_id: string | null;
  address: string | null;
  channel: Channel;
  category: string;
  kind: 'single' | 'digest';
  subject: string | null;
  body: string;
  html: string | null;
  status: Status;
  attempts: number;
  email: string | null;
  phone: string | null;
  enabled: boolean | null;
  digest: boolean | null;
  quiet_starts: string | null;
  quiet_ends: string | null;
  quiet_zone: string | null;
  push_targets: PushTarget[] | null;
}

interface Outcome {
  id: string;
  status: Status;
  reason: string | null;
  provider?: string | null;
  messageId?: string | null;
  attempts: number;
  sendAfter?: Date | null;
}

/** What a deliver job reports as its result. */
export interface Delivered {
  status: Status;
  reason?: string | null;
  provider?: string | null;
}

/** What a deliver-batch job reports: how many of its notifications ended how. */
export type BatchDelivered = Partial<Record<Status | 'retrying' | 'not started' | 'missing', number>>;

type Attempt = Pick<JobContext, 'attempt' | 'maxAttempts'>;

export type ProviderSet = { [C in ProviderChannel]: Provider<C>[] };

export class Deliverer {
  private readonly runtime: PluginRuntime<NotificationsConfig>;
  private readonly contexts: DataLoader<string, ContextRow | null>;
  private readonly outcomes: Batcher<Outcome>;
  /** Messages under way in this process. */
  private readonly slots: LimitFunction;
  /** Providers by channel, in the failover order of the `providers` table. */
  readonly providers: () => ProviderSet;

  constructor(runtime: PluginRuntime<NotificationsConfig>, providers: () => ProviderSet) {
    this.runtime = runtime;
    this.providers = providers;
    this.contexts = new DataLoader(
      async (ids) => {
        const { rows } = await runtime.db.query<ContextRow>(
          notificationsSql('delivery-context', runtime.config.recipientsTable),
          [ids],
        );
        const byId = new Map(rows.map((row) => [row.id, row]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { cache: false, maxBatchSize: 500 },
    );
    this.outcomes = new Batcher((outcomes) => this.record(outcomes), { delayMs: 5, maxItems: 500 });
    this.slots = pLimit(runtime.config.concurrency);
  }

  /** Runs one attempt of delivering notification `id`. */
  async deliver(id: string, job: Attempt): Promise<Delivered> {
    return this.slots(async () => {
      const row = await this.contexts.load(id);
      if (!row) throw new PermanentJobError(`Notification ${id} does not exist`);
      return this.attempt(row, job);
    });
  }

  /**
   * The first attempt of each of `ids` (a deliver-batch job). One that fails for a retryable
   * reason gets a `deliver` job of its own, which retries it with backoff; the batch itself
   * fails only if it cannot record that. Once `signal` aborts (the job timed out), nothing new starts.
   */
  async deliverBatch(ids: string[], signal: AbortSignal): Promise<BatchDelivered> {
    const rows = await this.contexts.loadMany(ids);
    const first = { attempt: 1, maxAttempts: this.runtime.config.maxAttempts };
    const ended = await Promise.all(
      rows.map((row) =>
        this.slots(async (): Promise<keyof BatchDelivered> => {
          if (row instanceof Error) throw row;
          if (!row) return 'missing';
          if (signal.aborted) return 'not started';
          // Run again after its first attempt failed (this job was retried): the notification's own job has it.
          if (row.status === 'queued' && row.attempts > 0) return this.retryAlone(row.id);
          try {
            return (await this.attempt(row, first)).status;
          } catch (error) {
            if (error instanceof PermanentJobError) return 'failed';
            return this.retryAlone(row.id);
          }
        }),
      ),
    );
    const counts: BatchDelivered = {};
    for (const status of ended) counts[status] = (counts[status] ?? 0) + 1;
    return counts;
  }

  /** Hands a notification whose first attempt failed to a `deliver` job of its own (once). */
  private async retryAlone(id: string): Promise<'retrying'> {
    const { maxAttempts, retryDelayMs } = this.runtime.config;
    // Attempt 2 after retryDelayMs, then 2×, 4×… as if the batch's attempt had been the job's first.
    await this.runtime.queue.add(
      QUEUE,
      'deliver',
      { id, attemptsBefore: 1 },
      {
        jobId: id,
        delayMs: retryDelayMs,
        attempts: maxAttempts - 1,
        backoff: { type: 'exponential', delayMs: retryDelayMs * 2 },
      },
    );
    return 'retrying';
  }

  private async attempt(row: ContextRow, job: Attempt): Promise<Delivered> {
    const { id } = row;
    // At-least-once: a job run again after its outcome was stored does nothing.
    if (FINAL.has(row.status)) return { status: row.status };
    const done = async (outcome: Omit<Outcome, 'id' | 'attempts'>): Promise<Delivered> => {
      await this.outcomes.add({ id, attempts: job.attempt, ...outcome });
      return { status: outcome.status, reason: outcome.reason, provider: outcome.provider ?? null };
    };

    if (row.kind === 'single' && row.user_id !== null) {
      if (row.enabled === false)
        return done({ status: 'skipped', reason: `${row.user_id} opted out of ${row.category} on ${row.channel}` });
      if (row.digest === true) return done({ status: 'deferred', reason: 'waiting for the digest', sendAfter: null });
    }
    if (row.channel !== 'IN_APP' && row.quiet_starts && row.quiet_ends && row.quiet_zone) {
      const until = quietUntil(new Date(), row.quiet_starts, row.quiet_ends, row.quiet_zone);
      if (until) {
        // The job ends here; a delayed one takes over when the window closes.
        await this.runtime.queue.add(
          QUEUE,
          'deliver',
          { id },
          { jobId: `${id}@${until.toISOString()}`, delayMs: until.getTime() - Date.now(), ...this.retries() },
        );
        return done({ status: 'deferred', reason: `quiet hours until ${until.toISOString()}`, sendAfter: until });
      }
    }

    const message: Message = { id, subject: row.subject, body: row.body, html: row.html, category: row.category };
    switch (row.channel) {
      case 'IN_APP': {
        const outcome = await done({ status: 'delivered', reason: null, provider: 'in-app' });
        this.runtime.pubsub.publish(
          NOTIFICATION_ADDED,
          {
            id,
            userId: row.user_id!,
            category: row.category,
            subject: row.subject,
            body: row.body,
            createdAt: new Date().toISOString(),
          },
          row.user_id!,
        );
        return outcome;
      }
      case 'EMAIL': {
        const to = row.address ?? row.email;
        if (!to)
          return done({
            status: 'skipped',
            reason: `no email address for ${row.user_id} in ${this.runtime.config.recipientsTable}`,
          });
        return this.viaProviders('EMAIL', [to], message, job, done);
      }
      case 'SMS': {
        if (!row.phone)
          return done({
            status: 'skipped',
            reason: `no phone number for ${row.user_id} in ${this.runtime.config.recipientsTable}`,
          });
        return this.viaProviders('SMS', [row.phone], message, job, done);
      }
      case 'PUSH': {
        const targets = row.push_targets ?? [];
        if (targets.length === 0) return done({ status: 'skipped', reason: `${row.user_id} has no push subscription` });
        return this.viaProviders('PUSH', targets, message, job, done);
      }
    }
  }

  /**
   * Sends to every target (a user's push subscriptions; one address otherwise), each through the
   * channel's providers in order. Sent when any target took it.
   */
  private async viaProviders<C extends ProviderChannel>(
    channel: C,
    targets: Targets[C][],
    message: Message,
    job: Attempt,
    done: (outcome: Omit<Outcome, 'id' | 'attempts'>) => Promise<Delivered>,
  ): Promise<Delivered> {
    const providers = this.providers()[channel] as Provider<C>[];
    if (providers.length === 0) {
      await done({ status: 'failed', reason: `${channel} has no enabled provider` });
      throw new PermanentJobError(`${channel} has no enabled provider`);
    }
    let sent: { provider: string; messageId: string | null } | undefined;
    let recipientError: DeliveryError | undefined;
    let providerError: DeliveryError | undefined;
    const gone: string[] = [];
    const used: string[] = [];
    for (const target of targets) {
      for (const provider of providers) {
        try {
          const messageId = await provider.send(target, message);
          sent ??= { provider: provider.name, messageId };
          if (channel === 'PUSH') used.push((target as PushTarget).id);
          break;
        } catch (error) {
          if (!(error instanceof DeliveryError)) throw error;
          if (error instanceof PushGoneError) gone.push(error.subscriptionId);
          if (error.blame === 'recipient') {
            recipientError = error;
            break;
          }
          providerError = error;
          this.runtime.log.warn(
            { provider: provider.name, notification: message.id, err: error.message },
            'provider failed; trying the next',
          );
        }
      }
    }
    if (gone.length > 0) await this.runtime.db.query(notificationsSql('push-subscriptions-forget'), [gone]);
    if (used.length > 0) await this.runtime.db.query(notificationsSql('push-subscriptions-used'), [used]);
    if (sent) return done({ status: 'sent', reason: null, provider: sent.provider, messageId: sent.messageId });
    if (!providerError) return done({ status: 'failed', reason: recipientError?.message ?? 'not sent' });
    if (job.attempt >= job.maxAttempts) {
      await done({ status: 'failed', reason: `gave up after ${job.attempt} attempts: ${providerError.message}` });
      throw new PermanentJobError(providerError.message, { cause: providerError });
    }
    await done({ status: 'queued', reason: `attempt ${job.attempt} failed: ${providerError.message}` });
    throw providerError;
  }

  /** Attempts and backoff of every deliver job. */
  retries(): { attempts: number; backoff: { type: 'exponential'; delayMs: number } } {
    return {
      attempts: this.runtime.config.maxAttempts,
      backoff: { type: 'exponential', delayMs: this.runtime.config.retryDelayMs },
    };
  }

  private async record(outcomes: Outcome[]): Promise<void> {
    await this.runtime.db.query(notificationsSql('record-outcomes'), [
      outcomes.map((o) => o.id),
      outcomes.map((o) => o.status),
      outcomes.map((o) => o.reason),
      outcomes.map((o) => o.provider ?? null),
      outcomes.map((o) => o.messageId ?? null),
      outcomes.map((o) => o.attempts),
      outcomes.map((o) => o.sendAfter ?? null),
    ]);
  }

  async close(): Promise<void> {
    await this.outcomes.flush();
  }
}

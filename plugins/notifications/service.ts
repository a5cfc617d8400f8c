/**
 * Everything the GraphQL fields, the CLI and the jobs do, in one place: enqueueing (render once
 * per channel, one set-based insert, one addBulk), templates, preferences, push subscriptions,
 * the recipient directory, digests, batches and stats. Errors a caller can fix are the SDK's
 * InputError, with code BAD_USER_INPUT or one of the plugin's own (NotificationErrorCode).
 */
import { randomUUID } from 'node:crypto';
import {
  type EnqueueOptions,
  ErrorCode,
  InputError,
  inTransaction,
  type PluginRuntime,
  type NotifyUsersJob,
  type SendEmailJob,
} from '../../gateway/sdk.ts';
import { CHANNELS, type Channel, type NotificationsConfig } from './config.ts';
import { DELIVERY_BATCH, QUEUE, type Deliverer, type Status } from './delivery.ts';
import { isTimeZone } from './quiet-hours.ts';
import { notificationsSql } from './sql.ts';
import { checkPushEndpoint, PushEndpointError } from './push-endpoints.ts';
import { TemplateError, TemplateLimitError, Templates, type Rendered, type TemplateRow } from './templates.ts';

/** The plugin's own `extensions.code`s (declared with their statuses in index.ts; README "Errors"). */
export const NotificationErrorCode = {
  /** A template with the given data takes too long, allocates too much, or is too long. */
  TEMPLATE_LIMIT: 'NOTIFICATIONS_TEMPLATE_LIMIT',
  /** A push endpoint is not https on an allowed push service, or resolves to a non-public address. */
  PUSH_ENDPOINT_REFUSED: 'NOTIFICATIONS_PUSH_ENDPOINT_REFUSED',
  /** The user has NOTIFICATIONS_PUSH_MAX_SUBSCRIPTIONS subscriptions already. */
  PUSH_SUBSCRIPTION_LIMIT: 'NOTIFICATIONS_PUSH_SUBSCRIPTION_LIMIT',
} as const;

/** A template error as the caller sees it: a limit has its own code. */
function inputError(error: TemplateError): InputError {
  return new InputError(
    error.message,
    error instanceof TemplateLimitError ? NotificationErrorCode.TEMPLATE_LIMIT : ErrorCode.BAD_USER_INPUT,
  );
}

export const MAX_BULK_RECIPIENTS = 100_000;
const JOB_CHUNK = 5_000;
/** Rows one sweep looks at (a job carries at most DELIVERY_BATCH of them). */
const SWEEP_ROWS = 1_000;

/** A stored notification and the key of the queue job that carries it (notifications.delivery_job). */
interface Carried {
  id: string;
  delivery_job: string;
}

/** The key prefix of the jobs of one insert: `<prefix>:<n>` carries its rows n × DELIVERY_BATCH onwards. */
const newSendKey = () => `batch:${randomUUID()}`;

/**
 * The jobs that carry `rows`, one per key the rows name: a row that is its own key gets a
 * `deliver` job, the rows of a shared key one `deliver-batch` job. The key is the job's
 * idempotency key, so adding these jobs again adds nothing while they exist.
 */
function deliveryJobs(
  rows: readonly Carried[],
  options: EnqueueOptions,
): { name: string; data: { id: string } | { ids: string[] }; options: EnqueueOptions }[] {
  const byKey = new Map<string, string[]>();
  for (const row of rows) {
    const ids = byKey.get(row.delivery_job);
    if (ids) ids.push(row.id);
    else byKey.set(row.delivery_job, [row.id]);
  }
  return [...byKey].map(([key, ids]) =>
    ids.length === 1 && ids[0] === key
      ? { name: 'deliver', data: { id: key }, options: { jobId: key, ...options } }
      : { name: 'deliver-batch', data: { ids }, options: { jobId: key, ...options } },
  );
}

export interface SendRequest {
  userIds: string[];
  template: string;
  data: Record<string, unknown>;
  channels?: Channel[] | null;
  category?: string | null;
  locale?: string | null;
  idempotencyKey?: string | null;
  requestedBy?: string | null;
}

export interface TemplateInput {
  name: string;
  channel: Channel | 'ANY';
  locale: string;
  subject: string | null;
  body: string;
  html: string | null;
}

export interface StoredTemplate extends TemplateRow {
  id: string;
  created_by: string | null;
  created_at: Date;
}

export interface BatchProgress {
  id: string;
  kind: 'bulk' | 'digest';
  template: string | null;
  category: string | null;
  total: number;
  created_at: Date;
  queued: number;
  deferred: number;
  sent: number;
  delivered: number;
  failed: number;
  skipped: number;
}

export interface PreferenceRow {
  channel: Channel;
  category: string;
  enabled: boolean;
  digest: boolean;
}

export interface QuietHours {
  starts: string;
  ends: string;
  time_zone: string;
}

/** The default digest when no `digest` template exists for the channel. */
const DIGEST_TEMPLATE: TemplateRow = {
  name: 'digest',
  channel: 'ANY',
  locale: 'en',
  version: 0,
  subject: '{{ count }} new {{ category }} notification{% if count != 1 %}s{% endif %}',
  body: '{% for item in items %}- {{ item.subject | default: item.body }}\n{% endfor %}',
  html: null,
};

const CATEGORY = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;

export class NotificationsService {
  private readonly runtime: PluginRuntime<NotificationsConfig>;
  private readonly deliverer: () => Deliverer;
  private readonly engine: Templates;

  constructor(runtime: PluginRuntime<NotificationsConfig>, deliverer: () => Deliverer) {
    this.runtime = runtime;
    this.deliverer = deliverer;
    this.engine = new Templates(runtime.config.templateLimits);
  }

  private sql(name: string): string {
    return notificationsSql(name, this.runtime.config.recipientsTable);
  }

  /** Channels with a configured provider (in-app always). */
  channelStatus(): { channel: Channel; enabled: boolean; providers: string[]; reason: string | null }[] {
    const providers = this.deliverer().providers();
    const { email, push, sms } = this.runtime.config;
    const reasons: Record<Channel, string | null> = {
      IN_APP: null,
      EMAIL: email ? null : 'set NOTIFICATIONS_SMTP_URL (or NOTIFICATIONS_EMAIL_HOST) to send email',
      PUSH: push ? null : 'set NOTIFICATIONS_PUSH_PROVIDER=webpush and the VAPID keys to send push',
      SMS: sms ? null : 'set NOTIFICATIONS_SMS_PROVIDER=twilio and its account to send SMS',
    };
    return CHANNELS.map((channel) => {
      const names = channel === 'IN_APP' ? ['in-app'] : providers[channel].map((p) => p.name);
      const reason =
        reasons[channel] ??
        (names.length === 0 ? `every ${channel} provider is disabled in notifications.providers` : null);
      return { channel, enabled: reason === null, providers: names, reason };
    });
  }

  /**
   * Enqueues a template for users on channels: renders each channel's variant once (the data is
   * the same for every recipient), inserts the rows in one statement and adds one job per row.
   * Returns after enqueueing. A missing variable or template fails here, before anything is stored.
   */
  async enqueue(
    request: SendRequest,
    batch?: { kind: 'bulk' },
    { addJobs = true } = {},
  ): Promise<{ ids: string[]; duplicate: boolean; batchId: string | null }> {
    const userIds = [...new Set(request.userIds)];
    if (userIds.length === 0) throw new InputError('userIds is empty');
    if (userIds.length > MAX_BULK_RECIPIENTS)
      throw new InputError(`At most ${MAX_BULK_RECIPIENTS} recipients per call (got ${userIds.length})`);
    if (userIds.some((id) => id.length === 0 || id.length > 200))
      throw new InputError('Every user id must be 1–200 characters');
    const category = request.category ?? 'general';
    if (!CATEGORY.test(category))
      throw new InputError(`category ${JSON.stringify(category)} must be letters, digits and _ . : - (at most 64)`);
    const rendered = await this.renderFor(
      request.template,
      request.data,
      request.channels ?? null,
      request.locale ?? 'en',
    );

    let batchId: string | null = null;
    if (batch) {
      const { rows } = await this.runtime.db.query<{ id: string }>(this.sql('batch-insert'), [
        batch.kind,
        request.template,
        category,
        userIds.length * rendered.length,
        request.requestedBy ?? null,
      ]);
      batchId = rows[0]!.id;
    }
    const { rows } = await this.runtime.db.query<Carried>(this.sql('notifications-insert'), [
      userIds,
      rendered.map((r) => r.channel),
      rendered.map((r) => r.version),
      rendered.map((r) => r.subject),
      rendered.map((r) => r.body),
      rendered.map((r) => r.html),
      category,
      request.template,
      // Bulk rows share the data; it is kept on single sends only.
      batch ? null : request.data,
      request.idempotencyKey ?? null,
      batchId,
      newSendKey(),
      DELIVERY_BATCH,
    ]);
    const ids = rows.map((row) => row.id);
    if (addJobs) await this.addDeliveries(rows, request.requestedBy ?? undefined);
    if (request.idempotencyKey && ids.length < rendered.length) {
      const existing = await this.runtime.db.query<{ id: string }>(this.sql('notifications-by-key'), [
        request.idempotencyKey,
      ]);
      return { ids: existing.rows.map((row) => row.id), duplicate: ids.length === 0, batchId };
    }
    return { ids, duplicate: false, batchId };
  }

  /**
   * An in-app notice in plain text (another plugin's, through the SDK's `notifyUsersJob`): one row
   * per user, no template; delivered like any notification, the users' preferences applying.
   */
  async notifyText(request: NotifyUsersJob): Promise<{ ids: string[] }> {
    const category = request.category ?? 'general';
    if (!CATEGORY.test(category))
      throw new InputError(`category ${JSON.stringify(category)} must be letters, digits and _ . : - (at most 64)`);
    const { rows } = await this.runtime.db.query<Carried>(this.sql('text-insert'), [
      [...new Set(request.userIds)],
      request.subject,
      request.body,
      category,
      request.idempotencyKey ?? null,
      newSendKey(),
      DELIVERY_BATCH,
    ]);
    if (rows.length > 0) await this.addDeliveries(rows);
    return { ids: rows.map((row) => row.id) };
  }

  /**
   * The jobs that carry stored notifications, by the key each row was stored with: one `deliver`
   * job for a single notification; `deliver-batch` jobs of DELIVERY_BATCH for more (a bulk send,
   * a digest run), so a 100,000-recipient send is 4,000 jobs, not 100,000.
   */
  async addDeliveries(rows: readonly Carried[], requestedBy?: string): Promise<void> {
    const jobs = deliveryJobs(rows, { ...this.deliverer().retries(), ...(requestedBy ? { requestedBy } : {}) });
    if (jobs.length === 1) {
      const [job] = jobs as [(typeof jobs)[number]];
      await this.runtime.queue.add(QUEUE, job.name, job.data, job.options);
      return;
    }
    for (let start = 0; start < jobs.length; start += JOB_CHUNK)
      await this.runtime.queue.addBulk(QUEUE, jobs.slice(start, start + JOB_CHUNK));
  }

  /** Where the next sweep goes on from (the last key it looked at); null starts from the oldest. */
  private sweptTo: { storedAt: string; job: string } | null = null;
  private sweeping: Promise<number> | null = null;

  /**
   * Enqueues again the jobs of notifications a process stored but died before enqueueing: rows
   * still queued and never attempted NOTIFICATIONS_SWEEP_AFTER after they were stored, whose job
   * does not exist. A job that exists (waiting in a backlog, running, retrying or failed) is left
   * alone, and a re-added job has its old key, so nothing is sent twice. Each sweep looks at up to
   * SWEEP_ROWS rows and the next goes on from there. Returns how many jobs it added.
   */
  resendUnsent(): Promise<number> {
    this.sweeping ??= this.sweep().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  /** Resolves once no sweep is running (at stop, before the pool closes). */
  async sweepDone(): Promise<void> {
    await this.sweeping?.catch(() => {});
  }

  private async sweep(): Promise<number> {
    const { rows } = await this.runtime.db.query<Carried & { stored_at: string }>(this.sql('unsent'), [
      this.runtime.config.sweep.afterSeconds,
      this.sweptTo?.storedAt ?? null,
      this.sweptTo?.job ?? null,
      SWEEP_ROWS,
    ]);
    let whole = rows;
    if (rows.length === SWEEP_ROWS) {
      // The last job's rows may go on past the limit: the next sweep takes that job whole.
      const cut = rows.at(-1)!.delivery_job;
      whole = rows.filter((row) => row.delivery_job !== cut);
    }
    const last = whole.at(-1);
    this.sweptTo = rows.length === SWEEP_ROWS && last ? { storedAt: last.stored_at, job: last.delivery_job } : null;
    const jobs = deliveryJobs(whole, this.deliverer().retries());
    const present = await Promise.all(jobs.map((job) => this.runtime.queue.getJob(QUEUE, job.options.jobId!)));
    const lost = jobs.filter((_, i) => present[i] === null);
    if (lost.length === 0) return 0;
    for (let start = 0; start < lost.length; start += JOB_CHUNK)
      await this.runtime.queue.addBulk(QUEUE, lost.slice(start, start + JOB_CHUNK));
    this.runtime.log.warn(
      {
        jobs: lost.length,
        notifications: lost.reduce((n, job) => n + ('ids' in job.data ? job.data.ids.length : 1), 0),
      },
      'notifications had lost their delivery job (a process died before enqueueing it); enqueued it again',
    );
    return lost.length;
  }

  /** Each requested (or, by default, each available) channel's variant, rendered with the data. */
  private async renderFor(
    name: string,
    data: Record<string, unknown>,
    channels: Channel[] | null,
    locale: string,
  ): Promise<(Rendered & { channel: Channel; version: number })[]> {
    const { rows: variants } = await this.runtime.db.query<TemplateRow>(this.sql('templates-newest'), [name, locale]);
    if (variants.length === 0) throw new InputError(`No template named ${JSON.stringify(name)}`);
    const status = new Map(this.channelStatus().map((s) => [s.channel, s]));
    const variantFor = (channel: Channel) =>
      variants.find((v) => v.channel === channel) ?? variants.find((v) => v.channel === 'ANY');
    let wanted: Channel[];
    if (channels && channels.length > 0) {
      wanted = [...new Set(channels)];
      for (const channel of wanted) {
        const state = status.get(channel)!;
        if (!state.enabled) throw new InputError(`${channel} is disabled: ${state.reason}`);
        if (!variantFor(channel))
          throw new InputError(`Template ${JSON.stringify(name)} has no ${channel} variant (and no ANY variant)`);
      }
    } else {
      wanted = CHANNELS.filter((channel) => status.get(channel)!.enabled && variantFor(channel));
      if (wanted.length === 0)
        throw new InputError(`Template ${JSON.stringify(name)} has no variant for an enabled channel`);
    }
    // One after another: each render holds the event loop for at most its own time limit.
    const rendered: (Rendered & { channel: Channel; version: number })[] = [];
    for (const channel of wanted) {
      const variant = variantFor(channel)!;
      try {
        rendered.push({ channel, version: variant.version, ...(await this.engine.render(variant, data)) });
      } catch (error) {
        if (error instanceof TemplateError) throw inputError(error);
        throw error;
      }
    }
    return rendered;
  }

  /** The jobs plugin's send-email: a rendered (or plain) email to an address, delivered in this job. */
  async emailAddress(key: string, payload: SendEmailJob, job: { attempt: number; maxAttempts: number }) {
    let content: Rendered & { version: number | null };
    if (payload.template) {
      const data = payload.data ?? {};
      const [variant] = await this.renderFor(payload.template, data, ['EMAIL'], 'en');
      content = { ...variant!, subject: payload.subject ?? variant!.subject };
    } else {
      content = {
        subject: payload.subject ?? null,
        body: payload.text ?? '',
        html: payload.html ?? null,
        version: null,
      };
    }
    const { rows } = await this.runtime.db.query<{ id: string }>(this.sql('notification-to-address'), [
      key,
      payload.to,
      payload.template ?? null,
      content.version,
      content.subject,
      content.body,
      content.html,
      payload.data ?? null,
    ]);
    return this.deliverer().deliver(rows[0]!.id, job);
  }

  async templates(name: string | null): Promise<StoredTemplate[]> {
    return (await this.runtime.db.query<StoredTemplate>(this.sql('templates-list'), [name])).rows;
  }

  /** A new template variant (`create`), or a new version of an existing one. */
  async saveTemplate(input: TemplateInput, mode: 'create' | 'update', by: string | null): Promise<StoredTemplate> {
    if (!/^[a-z0-9][a-z0-9_.-]{0,99}$/.test(input.name))
      throw new InputError('Template names are lower-case letters, digits and _ . - (at most 100)');
    if (!/^[a-z]{2}(-[A-Z]{2})?$/.test(input.locale))
      throw new InputError(`locale ${JSON.stringify(input.locale)} is not like "en" or "en-GB"`);
    if (input.body.trim() === '') throw new InputError('A template needs a body');
    try {
      this.engine.checkSyntax(input);
    } catch (error) {
      if (error instanceof TemplateError) throw inputError(error);
      throw error;
    }
    const { rows } = await this.runtime.db.query<StoredTemplate>(this.sql('template-insert'), [
      input.name,
      input.channel,
      input.locale,
      input.subject,
      input.body,
      input.html,
      mode === 'create',
      by,
    ]);
    if (rows.length === 0) {
      throw new InputError(
        mode === 'create'
          ? `Template ${input.name} (${input.channel}, ${input.locale}) exists; update it instead`
          : `No template ${input.name} (${input.channel}, ${input.locale}) to update; create it first`,
      );
    }
    return rows[0]!;
  }

  /** A template as it would render with `data`, stored nowhere (the console's preview). */
  async previewTemplate(input: TemplateInput, data: Record<string, unknown>): Promise<Rendered> {
    try {
      this.engine.checkSyntax(input);
      return await this.engine.render({ ...input, version: 0 }, data);
    } catch (error) {
      if (error instanceof TemplateError) throw inputError(error);
      throw error;
    }
  }

  async deleteTemplate(name: string): Promise<number> {
    return (await this.runtime.db.query(this.sql('template-delete'), [name])).rowCount ?? 0;
  }

  async batch(id: string): Promise<BatchProgress | null> {
    return (await this.runtime.db.query<BatchProgress>(this.sql('batch-progress'), [id])).rows[0] ?? null;
  }

  async stats(since: Date): Promise<{ channel: Channel; status: Status; count: number }[]> {
    return (
      await this.runtime.db.query<{ channel: Channel; status: Status; count: number }>(this.sql('stats'), [since])
    ).rows;
  }

  async markRead(userId: string, ids: string[] | null): Promise<number> {
    return (await this.runtime.db.query(this.sql('mark-read'), [userId, ids])).rowCount ?? 0;
  }

  async preferences(userId: string): Promise<{ preferences: PreferenceRow[]; quietHours: QuietHours | null }> {
    const [preferences, quiet] = await Promise.all([
      this.runtime.db.query<PreferenceRow>(this.sql('preferences-of'), [userId]),
      this.runtime.db.query<QuietHours>(this.sql('quiet-hours-of'), [userId]),
    ]);
    return { preferences: preferences.rows, quietHours: quiet.rows[0] ?? null };
  }

  async updatePreferences(
    userId: string,
    preferences: PreferenceRow[],
    quietHours: QuietHours | null | undefined,
  ): Promise<void> {
    for (const p of preferences) {
      if (p.category !== '*' && !CATEGORY.test(p.category))
        throw new InputError(`category ${JSON.stringify(p.category)} must be "*" or letters, digits and _ . : -`);
    }
    if (quietHours) {
      if (!CLOCK.test(quietHours.starts) || !CLOCK.test(quietHours.ends))
        throw new InputError('Quiet hours are "HH:MM" (24-hour), e.g. "22:00" to "07:00"');
      if (!isTimeZone(quietHours.time_zone))
        throw new InputError(`${JSON.stringify(quietHours.time_zone)} is not an IANA time zone (e.g. "Europe/Paris")`);
    }
    await inTransaction(this.runtime.db, async (client) => {
      if (preferences.length > 0) {
        await client.query(this.sql('preferences-upsert'), [
          userId,
          preferences.map((p) => p.channel),
          preferences.map((p) => p.category),
          preferences.map((p) => p.enabled),
          preferences.map((p) => p.digest),
        ]);
      }
      if (quietHours)
        await client.query(this.sql('quiet-hours-upsert'), [
          userId,
          quietHours.starts,
          quietHours.ends,
          quietHours.time_zone,
        ]);
      else if (quietHours === null) await client.query(this.sql('quiet-hours-clear'), [userId]);
    });
  }

  /**
   * Stores a subscription whose endpoint is on an allowed push service (resolved and checked
   * now, and again at each send), up to NOTIFICATIONS_PUSH_MAX_SUBSCRIPTIONS per user.
   */
  async registerPush(
    userId: string,
    endpoint: string,
    p256dh: string,
    auth: string,
  ): Promise<{ id: string; endpoint: string; created_at: Date }> {
    if (!/^[A-Za-z0-9_-]{80,100}={0,2}$/.test(p256dh))
      throw new InputError('p256dh is not a base64url P-256 public key');
    if (!/^[A-Za-z0-9_-]{16,24}={0,2}$/.test(auth)) throw new InputError('auth is not a base64url 16-byte secret');
    if (endpoint.length > 2048)
      throw new InputError('endpoint is longer than 2048 characters', NotificationErrorCode.PUSH_ENDPOINT_REFUSED);
    let checked: string;
    try {
      checked = await checkPushEndpoint(endpoint, this.runtime.config.pushEndpoints.allowed);
    } catch (error) {
      if (error instanceof PushEndpointError)
        throw new InputError(error.message, NotificationErrorCode.PUSH_ENDPOINT_REFUSED);
      throw error;
    }
    const { maxPerUser } = this.runtime.config.pushEndpoints;
    const stored = await inTransaction(this.runtime.db, async (client) => {
      // One registration of a user at a time, so two at once cannot both take the last place.
      await client.query(this.sql('push-subscription-lock'), [userId]);
      return (
        await client.query<{ id: string; endpoint: string; created_at: Date }>(this.sql('push-subscription-upsert'), [
          userId,
          checked,
          p256dh,
          auth,
          maxPerUser,
        ])
      ).rows[0];
    });
    if (!stored)
      throw new InputError(
        `A user has at most ${maxPerUser} push subscriptions (NOTIFICATIONS_PUSH_MAX_SUBSCRIPTIONS); unregister one first`,
        NotificationErrorCode.PUSH_SUBSCRIPTION_LIMIT,
      );
    return stored;
  }

  async unregisterPush(userId: string, endpoint: string): Promise<boolean> {
    // Stored in canonical form (registerPush), or as given before that; either form removes it.
    const forms = [endpoint, ...(URL.canParse(endpoint) ? [new URL(endpoint).href] : [])];
    return ((await this.runtime.db.query(this.sql('push-subscription-delete'), [userId, forms])).rowCount ?? 0) > 0;
  }

  async setRecipient(
    userId: string,
    email: string | null,
    phone: string | null,
  ): Promise<{ user_id: string; email: string | null; phone: string | null }> {
    if (this.runtime.config.recipientsTable !== 'notifications.recipients') {
      throw new InputError(
        `Recipients come from ${this.runtime.config.recipientsTable} (NOTIFICATIONS_RECIPIENTS_TABLE); change them there`,
      );
    }
    if (email !== null && !/^[^@\s]+@[^@\s]+$/.test(email))
      throw new InputError(`${JSON.stringify(email)} is not an email address`);
    if (phone !== null && !/^\+[1-9]\d{6,14}$/.test(phone))
      throw new InputError(`${JSON.stringify(phone)} is not an E.164 number (+15551234567)`);
    return (
      await this.runtime.db.query<{ user_id: string; email: string | null; phone: string | null }>(
        this.sql('recipient-upsert'),
        [userId, email, phone],
      )
    ).rows[0]!;
  }

  /**
   * Gathers what waits for the digest into one message per user × channel × category, in one
   * transaction (rows locked with SKIP LOCKED, so two instances never send one item twice), then
   * enqueues their delivery. Returns how many digests were made.
   */
  async sendDigests(before = new Date()): Promise<number> {
    const digests = await inTransaction(this.runtime.db, async (client) => {
      const { rows: groups } = await client.query<{
        user_id: string;
        channel: Channel;
        category: string;
        items: { id: string; subject: string | null; body: string; createdAt: string }[];
      }>(this.sql('digest-gather'), [before]);
      if (groups.length > 0) {
        const { rows: variants } = await client.query<TemplateRow>(this.sql('templates-newest'), ['digest', 'en']);
        const variantFor = (channel: Channel) =>
          variants.find((v) => v.channel === channel) ?? variants.find((v) => v.channel === 'ANY') ?? DIGEST_TEMPLATE;
        // One render at a time (each bounded); a digest that cannot render fails its items, not the run.
        const made: { group: (typeof groups)[number]; message: Rendered }[] = [];
        const failed: { id: string; reason: string }[] = [];
        for (const group of groups) {
          try {
            made.push({
              group,
              message: await this.engine.render(variantFor(group.channel), {
                category: group.category,
                count: group.items.length,
                items: group.items,
              }),
            });
          } catch (error) {
            if (!(error instanceof TemplateError)) throw error;
            failed.push(...group.items.map((item) => ({ id: item.id, reason: `digest not sent: ${error.message}` })));
          }
        }
        if (failed.length > 0)
          await client.query(this.sql('digest-items-failed'), [failed.map((f) => f.id), failed.map((f) => f.reason)]);
        if (made.length === 0) return [];
        const {
          rows: [batch],
        } = await client.query<{ id: string }>(this.sql('batch-insert'), ['digest', 'digest', null, made.length, null]);
        const { rows: digests } = await client.query<
          Carried & {
            user_id: string;
            channel: string;
            category: string;
          }
        >(this.sql('digest-insert'), [
          batch!.id,
          made.map((m) => m.group.user_id),
          made.map((m) => m.group.channel),
          made.map((m) => m.group.category),
          made.map((m) => m.message.subject),
          made.map((m) => m.message.body),
          newSendKey(),
          DELIVERY_BATCH,
        ]);
        const digestOf = new Map(digests.map((d) => [`${d.user_id}\n${d.channel}\n${d.category}`, d.id]));
        const items = made.flatMap(({ group: g }) =>
          g.items.map((item) => [item.id, digestOf.get(`${g.user_id}\n${g.channel}\n${g.category}`)!] as const),
        );
        await client.query(this.sql('digest-items-done'), [items.map(([id]) => id), items.map(([, digest]) => digest)]);
        return digests;
      }
      return [];
    });
    if (digests.length > 0) await this.addDeliveries(digests);
    return digests.length;
  }

  /** Enqueues the digest run of the next window (once, whichever instance asks). */
  async scheduleNextDigest(): Promise<void> {
    const intervalMs = this.runtime.config.batchIntervalSeconds * 1000;
    const next = (Math.floor(Date.now() / intervalMs) + 1) * intervalMs;
    await this.runtime.queue.add(
      QUEUE,
      'digest',
      { at: new Date(next).toISOString() },
      { jobId: `digest@${next}`, delayMs: next - Date.now() },
    );
  }
}

/**
 * Webhook ingress, shared by every plugin that receives webhooks. A delivery is verified by the
 * plugin, inserted into the plugin's durable log (`<schema>.events`, keyed by the provider's
 * event id) and only then acknowledged: a 2xx means "committed". Processing follows from the
 * log: the plugin applies a batch of events in one transaction, the events are marked processed
 * and published. A failed event is retried with backoff on the queue port and, after its last
 * attempt, marked failed (the dead letter) until someone replays it. Events acknowledged but
 * never processed (the process died in between) are picked up at start and every minute.
 *
 * Concurrent deliveries share one INSERT, and concurrent processing shares one transaction
 * (group commit): under load a batch forms while the previous statement runs. A log may be
 * partitioned by week (partitions.ts): its weeks ahead are made at start.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { escapeIdentifier, type PoolClient } from 'pg';
import type pg from 'pg';
import type { Logger } from 'pino';
import { ERRORS, isRefusedValue, isUnavailable, unavailableMessage } from '../errors.ts';
import { BodyTooLarge, readBody, sendError, sendJson } from '../http/replies.ts';
import type { QueueDefinition } from '../queue/job-types.ts';
import { topic, type PubSub } from '../pubsub.ts';
import { errorMessage, type QueuePort } from '../queue/port.ts';
import { gatewaySql, inTransaction, statementNames } from '../sql.ts';
import { ensurePartitions } from './partitions.ts';
import { withSpan } from '../tracing.ts';

/** A delivery the plugin has verified. */
export interface WebhookEvent {
  /** The provider's event id: the key that makes redeliveries no-ops. */
  id: string;
  type: string;
  /** The parsed event. */
  payload: unknown;
  /** The request body, when it is exactly the event's JSON (sent to Postgres as is, not encoded again). */
  body?: Buffer;
}

/** What a plugin provides to receive webhooks (`webhooks(runtime)` in definePlugin). */
export interface WebhookReceiver {
  /** Where the provider posts, e.g. `/webhooks/stripe`. */
  path: string;
  /** Checks the signature and parses the body; throws WebhookVerificationError when it is not genuine. */
  verify(body: Buffer, headers: IncomingHttpHeaders): WebhookEvent | Promise<WebhookEvent>;
  /**
   * Applies events to the plugin's tables inside the caller's transaction. Events may arrive in
   * any order and more than once across batches; a throw fails the whole batch (each event is
   * then tried on its own). It never calls the provider: an event it cannot settle without the
   * provider's current state is returned in `setAside`, left unapplied, and settled alone
   * through `fetchCurrent`; `fetched` then holds that state, by event id.
   */
  apply(
    events: WebhookEvent[],
    client: PoolClient,
    fetched: ReadonlyMap<string, unknown>,
    // biome-ignore lint/suspicious/noConfusingVoidType: an apply that never sets events aside returns nothing
  ): Promise<{ setAside?: readonly string[] } | void>;
  /**
   * What the provider says now about a set-aside event's object, fetched outside any transaction
   * (with the SDK's own retries). A throw counts as a failed attempt of that event only.
   */
  fetchCurrent?(event: WebhookEvent): Promise<unknown>;
  /**
   * For a receiver whose `apply` only writes the events' object states through the sync store
   * (no reads, no provider calls): the same writes as statements to run inside the one that logs
   * a batch (`SyncStore.withLog`), parameters numbered from `firstParam`. The batch is then
   * logged and applied in one statement and one commit, and acknowledged once applied. Null when
   * this batch cannot be (it is logged, acknowledged and applied as usual).
   */
  applyWithLog?(events: WebhookEvent[], firstParam: number): { statements: string[]; values: unknown[] } | null;
  /** Attempts before an event is marked failed. Default 5. */
  maxAttempts?: number;
  /** First retry delay in milliseconds, doubling each attempt. Default 2000. */
  retryDelayMs?: number;
}

/** The signature is missing, wrong or outside the tolerance: answered 400, nothing stored. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** What storing a delivery did: already logged (a redelivery), and applied with its insert. */
interface Stored {
  id: string;
  duplicate: boolean;
  applied: boolean;
}

export type WebhookStatus = 'received' | 'processed' | 'failed';

export interface StoredWebhookEvent {
  id: string;
  type: string;
  status: WebhookStatus;
  payload: unknown;
  received_at: Date;
  processed_at: Date | null;
  attempts: number;
  last_error: string | null;
}

/** Every processed event, published for subscriptions. */
export interface WebhookMessage {
  plugin: string;
  id: string;
  type: string;
  payload: unknown;
  processedAt: string;
}

export const webhookEventsTopic = topic<WebhookMessage>('webhook.events');

export const WEBHOOK_QUEUE = 'webhooks';
const PROCESS_JOB = 'process';
const MAX_BATCH = 500;
const CLOSE = Buffer.from('}');
const CLOSE_LAST = Buffer.from('}]');
/** Statement texts of batches applied with their insert that are prepared, at most. */
const MAX_NAMED = 50;
/** Batches stored at once: while one is logged (and applied), the next forms and runs beside it. */
const STORE_PARALLEL = 2;
const NOTHING_FETCHED: ReadonlyMap<string, unknown> = new Map();
const RECOVER_EVERY_MS = 60_000;
/** An event younger than this may still be on its way through another process. */
const RECOVER_AFTER_SECONDS = 30;
/** After the database was unavailable, the first look for events left waiting, doubling up to the last. */
const OUTAGE_RETRY_FIRST_MS = 500;
const OUTAGE_RETRY_LAST_MS = 5000;

export interface WebhookLogServices {
  db: pg.Pool;
  pubsub: PubSub;
  queue: QueuePort;
  log: Logger;
}

export interface WebhookPageFilter {
  status?: WebhookStatus | null;
  /** Glob over event types: `invoice.*`. */
  type?: string | null;
  /** Received at or after this time. */
  from?: Date | null;
  /** Received before this time. */
  until?: Date | null;
}

export interface WebhookStats {
  received: number;
  processed: number;
  failed: number;
  last_received_at: Date | null;
  oldest_waiting_at: Date | null;
}

export interface WebhookMinute {
  minute: Date;
  received: number;
  failed: number;
}

/** One plugin's webhook log: ingestion, processing, retries, listing and replay. */
export interface WebhookLog {
  readonly plugin: string;
  readonly path: string;
  /**
   * Stores the events (one INSERT with other concurrent callers); resolves once committed. With
   * `applyWithLog`, they are applied in that statement (`applied`); otherwise `process` applies them.
   */
  ingest(events: WebhookEvent[]): Promise<{ id: string; duplicate: boolean; applied: boolean }[]>;
  /** Applies stored, unprocessed events now (those another process holds are skipped). */
  process(ids: string[]): Promise<void>;
  /** Resolves when everything handed to processing so far is done (tests, shutdown). */
  drain(): Promise<void>;
  /** Processes events left unprocessed by a dead process. Returns how many it took. */
  recover(olderThanSeconds?: number): Promise<number>;
  page(
    filter: WebhookPageFilter,
    after: { at: string; id: string } | null,
    limit: number,
  ): Promise<(StoredWebhookEvent & { cursor_at: string })[]>;
  get(id: string): Promise<StoredWebhookEvent | null>;
  /** Counts by status, the newest delivery and the oldest event waiting to be applied. */
  stats(): Promise<WebhookStats>;
  /** Deliveries per minute over the last hour. */
  throughput(): Promise<WebhookMinute[]>;
  /** Puts an event back to unprocessed and processes it; false when there is no such event. */
  replay(id: string): Promise<boolean>;
  /** Replays up to `limit` failed events, oldest first; resolves with how many, once they are processed. */
  replayFailed(limit: number): Promise<number>;
  /** The webhook route: verify, store, acknowledge, process. */
  handle(request: IncomingMessage, response: ServerResponse, bodyLimit: number): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/** `invoice.*` → a LIKE pattern (`invoice.%`), other LIKE characters escaped. */
export function globToLike(glob: string): string {
  return glob.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
}

/** `invoice.*`, `*.deleted`, `*` → a matcher over event types. */
export function globMatcher(globs: readonly string[]): (type: string) => boolean {
  if (globs.length === 0) return () => true;
  const patterns = globs.map(
    (glob) => new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`),
  );
  return (type) => patterns.some((pattern) => pattern.test(type));
}

/**
 * Collects calls while `parallel` runs are in flight and hands them to the next run together:
 * callers arriving in the same turn of the event loop share a run, and those arriving while every
 * run is in flight share the following one. When a shared run fails with an error `retryAlone`
 * accepts, each item is run again on its own, so one bad item fails only its own caller.
 */
export function groupCommit<In, Out>(
  run: (items: In[]) => Promise<Out[]>,
  maxBatch: number,
  retryAlone: (error: unknown) => boolean = () => false,
  parallel = 1,
): (item: In) => Promise<Out> {
  let waiting: { item: In; resolve(out: Out): void; reject(error: unknown): void }[] = [];
  let running = 0;
  const next = async () => {
    if (running >= parallel || waiting.length === 0) return;
    running++;
    const batch = waiting.slice(0, maxBatch);
    waiting = waiting.slice(batch.length);
    try {
      const results = await run(batch.map((entry) => entry.item));
      for (const [i, entry] of batch.entries()) entry.resolve(results[i]!);
    } catch (error) {
      if (batch.length > 1 && retryAlone(error)) {
        for (const entry of batch) await run([entry.item]).then(([result]) => entry.resolve(result!), entry.reject);
      } else {
        for (const entry of batch) entry.reject(error);
      }
    } finally {
      running--;
      void next();
    }
  };
  // A run starts once the deliveries read in the same turn of the event loop are all waiting: a
  // caller arriving at an idle slot would otherwise run alone, and a statement costs Postgres
  // about half a millisecond on top of its rows.
  let scheduled = false;
  const startSoon = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void next();
    });
  };
  return (item) =>
    new Promise<Out>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      startSoon();
    });
}

/**
 * Whether the event holds U+0000 anywhere, which Postgres text and jsonb cannot store. The JSON
 * text can only carry it escaped, so the parsed event is walked only when that text has one.
 */
function holdsNul(event: WebhookEvent): boolean {
  if (event.id.includes('\0') || event.type.includes('\0')) return true;
  if (event.body !== undefined && !event.body.includes('\\u0000')) return false;
  // A loop, not recursion: a deeply nested body must not overflow the stack.
  const pending: unknown[] = [event.payload];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (value.includes('\0')) return true;
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes('\0')) return true;
        pending.push(item);
      }
    }
  }
  return false;
}

export function createWebhookLog(options: {
  plugin: string;
  schema: string;
  receiver: () => WebhookReceiver;
  services: () => WebhookLogServices;
}): WebhookLog {
  const { plugin } = options;
  const schema = escapeIdentifier(options.schema).slice(1, -1);
  const sql = (name: string) => gatewaySql(name).replaceAll('{schema}', schema);
  let receiverCache: WebhookReceiver | undefined;
  const receiver = () => (receiverCache ??= options.receiver());
  const services = () => options.services();
  const maxAttempts = () => receiver().maxAttempts ?? 5;

  /**
   * The events as one jsonb parameter in binary form (jsonb's format version, 1, then the JSON
   * text): node-postgres sends a Buffer as is, so a body goes from the request to Postgres without
   * being decoded, copied as a string or encoded again.
   */
  const eventsJsonb = (events: readonly WebhookEvent[]) =>
    Buffer.concat(
      events.flatMap((event, i) => [
        Buffer.from(
          `${i === 0 ? '\u0001[' : ','}{"id":${JSON.stringify(event.id)},"type":${JSON.stringify(event.type)},"payload":`,
        ),
        event.body ?? Buffer.from(JSON.stringify(event.payload)),
        i === events.length - 1 ? CLOSE_LAST : CLOSE,
      ]),
    );
  /** Per event: whether the log held it already, and whether it was applied with its insert. */
  const outcomes = (events: readonly WebhookEvent[], inserted: { id: string }[], applied: boolean) => {
    const fresh = new Set(inserted.map((row) => row.id));
    // The same event twice in one batch: the first is new, the second a duplicate.
    return events.map((event) => ({ id: event.id, duplicate: !fresh.delete(event.id), applied }));
  };

  const insertBatch = async (events: WebhookEvent[]): Promise<Stored[]> => {
    const { rows } = await services().db.query<{ id: string }>(sql('webhook-insert'), [eventsJsonb(events)]);
    return outcomes(events, rows, false);
  };

  // Named: planning the statement cost about half a millisecond a batch. One text per set of tables.
  const appliedStatementName = statementNames(`${schema}_webhook_applied`, MAX_NAMED);

  /** Logs and applies a batch in one statement (`applyWithLog`); null when the receiver cannot. */
  const insertApplied = async (events: WebhookEvent[]): Promise<Stored[] | null> => {
    const unique = new Map<string, WebhookEvent>();
    for (const event of events) if (!unique.has(event.id)) unique.set(event.id, event);
    const batch = [...unique.values()];
    const parts = receiver().applyWithLog?.(batch, 2);
    if (!parts) return null;
    const text = sql('webhook-insert-applied').replace(
      '{applied}',
      parts.statements.map((statement, i) => `, applied_${i} AS (${statement})`).join(''),
    );
    const values = [eventsJsonb(batch), ...parts.values];
    const { rows } = await withSpan(`webhook ${plugin} apply`, { 'plugboard.webhook.events': batch.length }, () =>
      services().db.query<{ id: string }>({ name: appliedStatementName(text), text, values }),
    );
    const stored = outcomes(events, rows, true);
    publish(events.filter((_, i) => !stored[i]!.duplicate));
    return stored;
  };

  /**
   * A batch applied in the statement that logs it when the receiver can; otherwise (or when that
   * statement fails for its content: the events are then applied from the log, each alone if need
   * be) only logged.
   */
  const storeBatch = async (events: WebhookEvent[]): Promise<Stored[]> => {
    if (receiver().applyWithLog) {
      try {
        const applied = await insertApplied(events);
        if (applied) return applied;
      } catch (error) {
        if (isUnavailable(error)) throw error;
        services().log.debug(
          { err: error, plugin },
          'webhook batch not applied with its insert; applying it from the log',
        );
      }
    }
    return insertBatch(events);
  };
  // A statement that fails for its content (not for want of a database) is retried event by event.
  const storeOne = groupCommit(storeBatch, MAX_BATCH, (error) => !isUnavailable(error), STORE_PARALLEL);

  /** Events in memory since their delivery, so processing need not read them back. */
  const inFlight = new Map<string, WebhookEvent>();

  const publish = (events: WebhookEvent[]) => {
    const processedAt = new Date().toISOString();
    const { pubsub } = services();
    for (const event of events)
      pubsub.publish(webhookEventsTopic, {
        plugin,
        id: event.id,
        type: event.type,
        payload: event.payload,
        processedAt,
      });
  };

  /**
   * One transaction: claim, apply, mark processed. Returns the events it applied and those the
   * plugin set aside (still unprocessed, to be settled alone once the transaction is over).
   */
  const applyBatch = (
    ids: string[],
    fetched: ReadonlyMap<string, unknown> = NOTHING_FETCHED,
  ): Promise<{ applied: WebhookEvent[]; setAside: WebhookEvent[] }> =>
    inTransaction(services().db, async (client) => {
      const needPayload = ids.some((id) => !inFlight.has(id));
      const { rows } = await client.query<{ id: string; type: string; payload: unknown }>(sql('webhook-claim'), [
        ids,
        needPayload,
      ]);
      const events = rows.map((row) => inFlight.get(row.id) ?? { id: row.id, type: row.type, payload: row.payload });
      if (events.length === 0) return { applied: [], setAside: [] };
      const outcome = await receiver().apply(events, client, fetched);
      const asideIds = new Set(outcome?.setAside);
      const applied = asideIds.size === 0 ? events : events.filter((event) => !asideIds.has(event.id));
      if (applied.length > 0) await client.query(sql('webhook-processed'), [applied.map((event) => event.id)]);
      return { applied, setAside: events.filter((event) => asideIds.has(event.id)) };
    });

  const retryDelay = (attempt: number) => (receiver().retryDelayMs ?? 2000) * 2 ** (attempt - 1);

  /** Records a failed attempt; schedules the next one on the queue, or marks the event failed. */
  const failed = async (id: string, error: unknown) => {
    const { db, queue, log } = services();
    const { rows } = await db.query<{ attempts: number }>(sql('webhook-attempt-failed'), [
      id,
      errorMessage(error),
      maxAttempts(),
    ]);
    const attempts = rows[0]?.attempts;
    if (attempts === undefined) return;
    if (attempts >= maxAttempts()) {
      log.warn(
        { plugin, eventId: id, err: error },
        'webhook event failed for good; replay it with `plugboard webhooks replay`',
      );
      return;
    }
    log.warn({ plugin, eventId: id, attempts, err: error }, 'webhook event failed; retrying on the queue');
    await queue.add(
      WEBHOOK_QUEUE,
      PROCESS_JOB,
      { plugin, id },
      { jobId: `${plugin}:${id}:${attempts}`, delayMs: retryDelay(attempts) },
    );
  };

  /**
   * Settles an event the plugin set aside: asks the provider outside any transaction, then
   * applies the event with that answer. Only this event waits for the provider; a failure is one
   * of its attempts (retried on the queue, dead-lettered after the last).
   */
  const settleAlone = async (event: WebhookEvent): Promise<void> => {
    const { fetchCurrent } = receiver();
    let current: unknown;
    try {
      if (!fetchCurrent) throw new Error(`The ${plugin} plugin set an event aside but cannot fetch its current state`);
      current = await fetchCurrent(event);
    } catch (error) {
      return failed(event.id, error);
    }
    try {
      inFlight.set(event.id, event);
      const { applied, setAside } = await applyBatch([event.id], new Map([[event.id, current]]));
      if (setAside.length > 0) throw new Error('Set aside again after fetching its current state');
      publish(applied);
    } catch (error) {
      if (isUnavailable(error)) throw error;
      await failed(event.id, error);
    } finally {
      inFlight.delete(event.id);
    }
  };

  // A group-committed batch's apply is in the trace of the delivery that started the batch.
  const applyAndPublish = (ids: string[]) =>
    withSpan(`webhook ${plugin} apply`, { 'plugboard.webhook.events': ids.length }, async () => {
      const { applied, setAside } = await applyBatch(ids);
      publish(applied);
      for (const event of setAside) track(settleAlone(event));
    });

  /** Applies the batch; when it fails, each event alone, so one bad event holds up no other. */
  const processIds = async (ids: string[]): Promise<void> => {
    try {
      await applyAndPublish(ids);
    } catch (error) {
      if (isUnavailable(error)) throw error;
      if (ids.length === 1) return failed(ids[0]!, error);
      for (const id of ids) {
        try {
          await applyAndPublish([id]);
        } catch (single) {
          if (isUnavailable(single)) throw single;
          await failed(id, single);
        }
      }
    } finally {
      for (const id of ids) inFlight.delete(id);
    }
  };

  const processOne = groupCommit(async (ids: string[]) => {
    await processIds(ids);
    return ids.map(() => undefined);
  }, MAX_BATCH);

  let pending = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    const tracked = work
      .catch((error: unknown) => {
        if (!isUnavailable(error)) return services().log.error({ err: error, plugin }, 'webhook processing failed');
        services().log.warn({ err: error, plugin }, 'webhook processing waits: the database is unavailable');
        recoverSoon();
      })
      .finally(() => pending.delete(tracked));
    pending.add(tracked);
  };

  let timer: NodeJS.Timeout | undefined;
  /**
   * While the database is away, events it acknowledged wait unprocessed (and a delivery whose
   * commit was not answered waits too, its redelivery being a duplicate). Rather than leave them
   * to the minutely recovery, look again soon, backing off while the database stays away.
   */
  let outageTimer: NodeJS.Timeout | undefined;
  let outageDelayMs = OUTAGE_RETRY_FIRST_MS;
  let stopped = false;
  const recoverSoon = () => {
    if (outageTimer || stopped) return;
    outageTimer = setTimeout(() => {
      track(
        log.recover(0).then(
          () => {
            outageTimer = undefined;
            outageDelayMs = OUTAGE_RETRY_FIRST_MS;
          },
          (error: unknown) => {
            outageTimer = undefined;
            outageDelayMs = Math.min(outageDelayMs * 2, OUTAGE_RETRY_LAST_MS);
            throw error;
          },
        ),
      );
    }, outageDelayMs);
    outageTimer.unref();
  };

  const log: WebhookLog = {
    plugin,
    get path() {
      return receiver().path;
    },
    async ingest(events) {
      return Promise.all(events.map((event) => storeOne(event)));
    },
    async process(ids) {
      await Promise.all(ids.map((id) => processOne(id)));
    },
    async drain() {
      while (pending.size > 0) await Promise.all(pending);
    },
    async recover(olderThanSeconds = RECOVER_AFTER_SECONDS) {
      let total = 0;
      for (;;) {
        const { rows } = await services().db.query<{ id: string }>(sql('webhook-unprocessed'), [
          olderThanSeconds,
          MAX_BATCH,
        ]);
        if (rows.length === 0) return total;
        await processIds(rows.map((row) => row.id));
        total += rows.length;
        if (rows.length < MAX_BATCH) return total;
      }
    },
    async page(filter, after, limit) {
      const type = filter.type ? globToLike(filter.type) : null;
      const { rows } = await services().db.query<StoredWebhookEvent & { cursor_at: string }>(sql('webhook-page'), [
        filter.status ?? null,
        type,
        after?.at ?? null,
        after?.id ?? null,
        limit,
        filter.from ?? null,
        filter.until ?? null,
      ]);
      return rows;
    },
    async get(id) {
      const { rows } = await services().db.query<StoredWebhookEvent>(sql('webhook-by-id'), [id]);
      return rows[0] ?? null;
    },
    async stats() {
      return (await services().db.query<WebhookStats>(sql('webhook-stats'))).rows[0]!;
    },
    async throughput() {
      return (await services().db.query<WebhookMinute>(sql('webhook-throughput'))).rows;
    },
    async replay(id) {
      const { rowCount } = await services().db.query(sql('webhook-replay'), [id]);
      if (!rowCount) return false;
      await processIds([id]);
      return true;
    },
    async replayFailed(limit) {
      const { rows } = await services().db.query<{ id: string }>(sql('webhook-replay-failed'), [limit]);
      if (rows.length > 0) await processIds(rows.map((row) => row.id));
      return rows.length;
    },
    async handle(request, response, bodyLimit) {
      if (request.method !== 'POST') {
        response.setHeader('allow', 'POST');
        return sendError(response, ERRORS.BAD_REQUEST, 'Webhooks are delivered with POST', { status: 405 });
      }
      const contentType = request.headers['content-type'] ?? '';
      if (!/^application\/json\b/i.test(contentType))
        return sendError(response, ERRORS.BAD_REQUEST, 'Webhooks must be sent as application/json', {
          status: 415,
        });
      let body: Buffer;
      try {
        body = await readBody(request, response, bodyLimit);
      } catch (error) {
        if (!(error instanceof BodyTooLarge)) throw error;
        return sendError(response, ERRORS.PAYLOAD_TOO_LARGE, `Webhook body is larger than ${bodyLimit} bytes`);
      }
      let event: WebhookEvent;
      try {
        event = await receiver().verify(body, request.headers);
      } catch (error) {
        if (error instanceof WebhookVerificationError)
          return sendError(response, ERRORS.WEBHOOK_SIGNATURE_INVALID, error.message);
        if (error instanceof SyntaxError)
          return sendError(response, ERRORS.BAD_REQUEST, 'Webhook body is not valid JSON');
        throw error;
      }
      if (holdsNul(event))
        return sendError(
          response,
          ERRORS.BAD_REQUEST,
          'Webhook event holds a \\u0000 character, which cannot be stored',
        );
      let stored: Stored;
      try {
        stored = await storeOne(event);
      } catch (error) {
        // A data exception (class 22, e.g. an unpaired \ud800 in jsonb) will fail every redelivery too.
        if (isRefusedValue(error))
          return sendError(response, ERRORS.BAD_REQUEST, 'Webhook event holds content that cannot be stored');
        if (!isUnavailable(error)) throw error;
        services().log.warn({ err: error, plugin }, 'webhook not stored: the database is unavailable');
        // The INSERT may have committed before the connection went: that event waits unprocessed.
        recoverSoon();
        return sendError(
          response,
          ERRORS.SERVICE_UNAVAILABLE,
          `The webhook could not be stored: ${unavailableMessage(error)}`,
        );
      }
      sendJson(response, 200, { received: true, duplicate: stored.duplicate });
      if (!stored.duplicate && !stored.applied) {
        inFlight.set(event.id, event);
        track(processOne(event.id));
      }
    },
    start() {
      stopped = false;
      // Weeks ahead are also made by every prune; this covers a gateway that never runs one.
      track(ensurePartitions(services().db, options.schema));
      track(log.recover(0));
      timer = setInterval(() => track(log.recover()), RECOVER_EVERY_MS);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(outageTimer);
      outageTimer = undefined;
      await log.drain();
      pending = new Set();
    },
  };
  // The receipt's span: the processing a delivery starts runs inside it, so its trace goes on to apply and fan-out.
  const receive = log.handle;
  log.handle = (request, response, bodyLimit) =>
    withSpan(`webhook ${plugin} receive`, {}, () => receive(request, response, bodyLimit));
  return log;
}

/** The gateway's `webhooks` queue: retries of failed events, for every plugin's log. */
export function webhookQueue(logs: () => ReadonlyMap<string, WebhookLog>): QueueDefinition {
  return {
    concurrency: 5,
    handlers: {
      [PROCESS_JOB]: async (data) => {
        const { plugin, id } = data as { plugin: string; id: string };
        const log = logs().get(plugin);
        if (!log) throw new Error(`No webhook log for plugin ${plugin} (is it enabled?)`);
        await log.process([id]);
      },
    },
  };
}

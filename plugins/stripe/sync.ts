/**
 * Syncing from the Stripe API with the SDK.
 *
 * Backfill lists every object of a resource (optionally created since a date), newest first, in
 * pages of 100, and upserts each page set-based; the next page is fetched while the current one
 * is written. After each page the cursor is checkpointed in `sync_state` in the same transaction
 * as the rows, so a killed backfill continues where it stopped, without duplicates.
 *
 * Incremental sync reads the events list since the newest event seen and feeds those events
 * through the webhook log (duplicates of delivered webhooks are no-ops), so the same ordering
 * rules apply. With no event seen yet, or events older than Stripe keeps (30 days), it backfills.
 */
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { inTransaction, type PluginRuntime, topic } from '../../gateway/sdk.ts';
import type { StripeConfig } from './config.ts';
import { API, LISTED_RESOURCES, type Resource, type StripeObject } from './resources.ts';
import { stripeSql } from './sql.ts';
import { writeStates } from './store.ts';

export type SyncKind = 'backfill' | 'incremental';

export interface SyncProgress {
  plugin: string;
  runId: string;
  resource: string;
  synced: number;
  done: boolean;
}

export const syncProgressTopic = topic<SyncProgress>('stripe.sync.progress');

export interface SyncRequest {
  resources?: Resource[];
  /** Backfill only objects created at or after this time. */
  since?: Date;
  /** Backfill even when an incremental sync is possible. */
  full?: boolean;
  onProgress?(progress: SyncProgress): void;
  /** Called with the run id once the run is recorded. */
  onStart?(runId: string): void;
}

export interface SyncRun {
  id: string;
  kind: SyncKind;
  status: 'running' | 'completed' | 'failed';
  counts: Record<string, number>;
  error: string | null;
}

const PAGE = 100;
/** Pages fetched ahead of the writer at most (memory stays bounded when Postgres is slower). */
const PAGES_AHEAD = 50;

interface FetchedPage {
  objects: StripeObject[];
  /** Whole seconds, like event times: an event of the same second is then a tie, settled by content. */
  fetchedAt: number;
}

/**
 * Lists pages one after another in the background, up to PAGES_AHEAD ahead of the writer, which
 * takes everything fetched so far at once. A failed fetch ends the list: the pages before it are
 * still taken (and checkpointed), then `take` throws.
 */
function readAhead(
  fetchPage: (after: string | null) => Promise<Stripe.ApiList<StripeObject>>,
  startAfter: string | null,
) {
  const buffered: FetchedPage[] = [];
  let done = false;
  let stopped = false;
  let failure: unknown;
  let wakeWriter: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  void (async () => {
    let after = startAfter;
    try {
      while (!stopped) {
        while (buffered.length >= PAGES_AHEAD && !stopped) await new Promise<void>((resolve) => (wakeReader = resolve));
        if (stopped) break;
        const page = await fetchPage(after);
        buffered.push({ objects: page.data, fetchedAt: Math.floor(Date.now() / 1000) });
        wakeWriter?.();
        const last = page.data.at(-1);
        if (!page.has_more || !last) break;
        after = last.id;
      }
    } catch (error) {
      failure = error;
    } finally {
      done = true;
      wakeWriter?.();
    }
  })();
  return {
    async take(): Promise<FetchedPage[] | null> {
      while (buffered.length === 0 && !done) await new Promise<void>((resolve) => (wakeWriter = resolve));
      if (buffered.length === 0) {
        if (failure) throw failure;
        return null;
      }
      const batch = buffered.splice(0);
      wakeReader?.();
      return batch;
    },
    finished: () => done && buffered.length === 0 && !failure,
    stop() {
      stopped = true;
      wakeReader?.();
    },
  };
}
/** Stripe keeps events for 30 days; older cursors cannot be caught up from the events list. */
const EVENT_RETENTION_SECONDS = 29 * 24 * 3600;

interface StateRow {
  resource: string;
  status: string;
  cursor: string | null;
  run_since: Date | null;
  last_event_at: Date | null;
}

export function createSyncer(runtime: PluginRuntime<StripeConfig>, stripe: () => Stripe) {
  const publish = (progress: SyncProgress, request: SyncRequest) => {
    request.onProgress?.(progress);
    runtime.pubsub.publish(syncProgressTopic, progress);
  };

  async function states(): Promise<Map<string, StateRow>> {
    const { rows } = await runtime.db.query<StateRow>(stripeSql('sync-states'));
    return new Map(rows.map((row) => [row.resource, row]));
  }

  /** Lists one resource page by page into its table, checkpointing the cursor after every page. */
  async function backfillResource(
    runId: string,
    resource: Exclude<Resource, 'events' | 'subscription_items'>,
    state: StateRow | undefined,
    request: SyncRequest,
  ): Promise<number> {
    // An interrupted backfill of the same scope continues from its cursor.
    const since = request.since ?? null;
    const resume = state?.status === 'running' || state?.status === 'failed' ? state : undefined;
    const sameScope = resume && (resume.run_since?.getTime() ?? null) === (since?.getTime() ?? null);
    let cursor = sameScope ? resume.cursor : null;
    await runtime.db.query(stripeSql('sync-start'), [resource, runId, since, cursor]);
    const list = API[resource].list;
    const pages = readAhead(
      (after) =>
        list(stripe(), {
          limit: PAGE,
          ...(after ? { starting_after: after } : {}),
          ...(since ? { created: { gte: Math.floor(since.getTime() / 1000) } } : {}),
        }),
      cursor,
    );
    let synced = 0;
    try {
      // Every page fetched while the previous write ran goes into the next write: one
      // transaction, one upsert per table, and the newest page's cursor as the checkpoint.
      for (let batch = await pages.take(); batch; batch = await pages.take()) {
        const states = batch.flatMap(({ objects, fetchedAt }) =>
          objects.map((object) => ({ object, deleted: object.deleted === true, stripeAt: fetchedAt, eventId: null })),
        );
        cursor = batch.at(-1)!.objects.at(-1)?.id ?? cursor;
        await inTransaction(runtime.db, async (client) => {
          // No wait for the WAL flush: a crash loses the newest batches together with their
          // checkpoint, and the next backfill simply lists them again.
          await client.query('SET LOCAL synchronous_commit = off');
          await writeStates(client, states, client);
          await client.query(stripeSql('sync-checkpoint'), [resource, cursor, states.length]);
        });
        synced += states.length;
        publish({ plugin: runtime.name, runId, resource, synced, done: pages.finished() }, request);
      }
    } finally {
      pages.stop();
    }
    return synced;
  }

  /** Reads the events list since the newest event seen and applies it through the webhook log. */
  async function catchUp(runId: string, after: Date, request: SyncRequest): Promise<number> {
    const log = runtime.webhooks.get(runtime.name);
    if (!log) throw new Error('The stripe webhook log is not running');
    let synced = 0;
    let newest = Math.floor(after.getTime() / 1000);
    // gte: events of the boundary second may not all have been seen; the ones seen are no-ops.
    for await (const event of stripe().events.list({ limit: PAGE, created: { gte: newest } })) {
      const stored = await log.ingest([{ id: event.id, type: event.type, payload: event }]);
      await log.process(stored.filter((s) => !s.duplicate).map((s) => s.id));
      newest = Math.max(newest, event.created);
      synced += 1;
      if (synced % PAGE === 0)
        publish({ plugin: runtime.name, runId, resource: 'events', synced, done: false }, request);
    }
    await runtime.db.query(stripeSql('sync-events-seen'), [new Date(newest * 1000)]);
    publish({ plugin: runtime.name, runId, resource: 'events', synced, done: true }, request);
    return synced;
  }

  async function run(request: SyncRequest = {}): Promise<SyncRun> {
    const id = randomUUID();
    const current = await states();
    const lastEventAt = current.get('events')?.last_event_at ?? null;
    const incremental =
      !request.full &&
      !request.since &&
      lastEventAt !== null &&
      Date.now() / 1000 - lastEventAt.getTime() / 1000 < EVENT_RETENTION_SECONDS;
    const kind: SyncKind = incremental ? 'incremental' : 'backfill';
    const resources = request.resources?.length ? request.resources : LISTED_RESOURCES;
    await runtime.db.query(stripeSql('sync-run-insert'), [id, kind, resources, request.since ?? null]);
    request.onStart?.(id);
    const counts: Record<string, number> = {};
    const startedAt = new Date();
    try {
      if (incremental) {
        counts['events'] = await catchUp(id, lastEventAt, request);
      } else {
        for (const resource of resources) {
          if (resource === 'events' || resource === 'subscription_items') continue;
          counts[resource] = await backfillResource(id, resource, current.get(resource), request);
          await runtime.db.query(stripeSql('sync-finish'), [resource, startedAt]);
        }
        // Later incremental syncs start from the backfill's start: what changed during it is replayed.
        await runtime.db.query(stripeSql('sync-events-seen'), [startedAt]);
      }
      await runtime.db.query(stripeSql('sync-run-finish'), [id, 'completed', counts, null]);
      return { id, kind, status: 'completed', counts, error: null };
    } catch (error) {
      const message = (error as Error).message;
      await runtime.db.query(stripeSql('sync-run-finish'), [id, 'failed', counts, message]).catch(() => {});
      await runtime.db.query(stripeSql('sync-failed'), [id, message]).catch(() => {});
      throw error;
    }
  }

  return { run, states };
}

export type Syncer = ReturnType<typeof createSyncer>;

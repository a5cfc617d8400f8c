/**
 * Backfill and incremental sync of a plugin's resources, resumable after a crash.
 *
 * A backfill lists every object of a resource page by page and writes each batch set-based; the
 * next pages are fetched while the current batch is written. After each batch the checkpoint
 * (the page cursor) is stored in `sync_state` in the same transaction as the rows, so a killed
 * backfill continues where it stopped, without duplicates. A plugin may catch up incrementally
 * its own way (Stripe: the events list); otherwise, once every resource asked for has completed a
 * sync, an incremental run lists each one since its last sync began (GitHub: `since`, or newest
 * first by update time).
 *
 * The provider is called only between transactions, never inside one. A plugin's runs go one at a
 * time across every process sharing the database (an advisory lock): asked while one runs, `run`
 * returns that run instead of starting another.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { topic, type PubSub, type Topic } from '../pubsub.ts';
import { inTransaction } from '../sql.ts';
import type { SyncedObject, SyncResource, SyncTables } from './resource.ts';
import { syncStatement } from './statements.ts';
import type { SyncStore } from './store.ts';

export type SyncKind = 'backfill' | 'incremental';

export interface SyncProgress {
  plugin: string;
  runId: string;
  resource: string;
  synced: number;
  done: boolean;
}

/** Every plugin's sync progress, published for the `syncProgress` subscription. */
export const syncProgressTopic: Topic<SyncProgress> = topic<SyncProgress>('sync.progress');

export interface SyncRequest {
  /** Only these resources (default: every listed one). */
  resources?: readonly string[];
  /** Backfill only objects created at or after this time. */
  since?: Date;
  /** Backfill even when an incremental sync is possible. */
  full?: boolean;
  /**
   * Only these parts of the provider's data (Shopify: shops), handed to the lists. Such a run is
   * a backfill of those parts beside the resources' own syncs: it neither resumes nor leaves a
   * checkpoint, and moves no resource's last sync, so the other parts lose nothing.
   */
  scopes?: readonly string[];
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

/** A run as `sync_runs` records it. */
export interface SyncRunRow {
  id: string;
  kind: string;
  resources: string[];
  status: string;
  counts: Record<string, number>;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

export interface SyncStateRow {
  resource: string;
  status: string;
  cursor: string | null;
  run_since: Date | null;
  last_sync_at: Date | null;
  last_event_at: Date | null;
  objects_synced: string;
  last_error: string | null;
  updated_at: Date;
}

/** What a catch-up is handed. */
export interface CatchUpContext {
  runId: string;
  states: ReadonlyMap<string, SyncStateRow>;
  report(progress: { resource: string; synced: number; done: boolean }): void;
  /** Records that incremental syncs of `resource` have caught up to `to` (provider-side time). */
  caughtUp(resource: string, to: Date): Promise<void>;
}

/** A plugin's own way to catch up since the last sync, when it has one. */
export interface CatchUp {
  /** Whether a catch-up can start from the sync states (e.g. the provider still keeps the events since then). */
  possible(states: ReadonlyMap<string, SyncStateRow>): boolean;
  /** Catches up; returns counts per resource. */
  run(context: CatchUpContext): Promise<Record<string, number>>;
  /** After a backfill that started at `startedAt`: where later catch-ups start from. */
  afterBackfill?(startedAt: Date, caughtUp: CatchUpContext['caughtUp']): Promise<void>;
}

export interface SyncerOptions {
  plugin: string;
  db: pg.Pool;
  pubsub: PubSub;
  tables: SyncTables;
  store: SyncStore;
  /** The provider-side time (epoch seconds) of an object listed at `fetchedAt` (epoch seconds). */
  versionOf(object: SyncedObject, fetchedAt: number): number;
  catchUp?: CatchUp;
}

/** Pages fetched ahead of the writer at most (memory stays bounded when Postgres is slower). */
const PAGES_AHEAD = 50;
/**
 * Raw JSON pages written per statement at most: a statement's text stays a few MB (Shopify's bulk
 * chunks are 1 MB, GitHub's pages ~300 KB), and a batch's checkpoint comes often enough to resume near.
 */
const JSON_PAGES_PER_BATCH = 6;
/**
 * Raw JSON batches written at once: Postgres does the parsing and writing of these, one core per
 * connection, so two writes keep two cores busy while the next pages are fetched.
 */
const JSON_WRITES_IN_FLIGHT = 2;

export interface PageReader<P> {
  /** The pages fetched so far, at most `limit` (waiting for one when there is none yet); null at the end. */
  take(limit?: number): Promise<(P & { fetchedAt: number })[] | null>;
  finished(): boolean;
  stop(): void;
}

/**
 * Lists pages one after another in the background, up to PAGES_AHEAD ahead of the writer, which
 * takes everything fetched so far at once (each page stamped with when it was fetched, in whole
 * seconds like webhook event times). A failed fetch ends the list: the pages before it are still
 * taken (and checkpointed), then `take` throws.
 */
export function readAhead<P extends { next: string | null }>(
  fetchPage: (cursor: string | null) => Promise<P>,
  cursor: string | null,
  isLast: (page: P) => boolean,
): PageReader<P> {
  type Fetched = P & { fetchedAt: number };
  const buffered: Fetched[] = [];
  let done = false;
  let stopped = false;
  let failure: unknown;
  let wakeWriter: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  void (async () => {
    let next = cursor;
    try {
      while (!stopped) {
        while (buffered.length >= PAGES_AHEAD && !stopped) await new Promise<void>((resolve) => (wakeReader = resolve));
        if (stopped) break;
        const page = await fetchPage(next);
        buffered.push({ ...page, fetchedAt: Math.floor(Date.now() / 1000) });
        wakeWriter?.();
        if (page.next === null || isLast(page)) break;
        next = page.next;
      }
    } catch (error) {
      failure = error;
    } finally {
      done = true;
      wakeWriter?.();
    }
  })();
  return {
    async take(limit = Number.POSITIVE_INFINITY): Promise<Fetched[] | null> {
      while (buffered.length === 0 && !done) await new Promise<void>((resolve) => (wakeWriter = resolve));
      if (buffered.length === 0) {
        if (failure) throw failure;
        return null;
      }
      const batch = buffered.splice(0, limit);
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

export function createSyncer(options: SyncerOptions) {
  const { plugin, db, store, tables } = options;
  const schema = tables.schema;
  const sql = (name: string) => syncStatement(name, { schema });
  const listed = tables.resources.filter((resource) => resource.list);

  const publish = (progress: SyncProgress, request: SyncRequest) => {
    request.onProgress?.(progress);
    options.pubsub.publish(syncProgressTopic, progress);
  };

  const caughtUp = async (resource: string, to: Date): Promise<void> => {
    await db.query(sql('sync-caught-up'), [resource, to]);
  };

  async function states(): Promise<Map<string, SyncStateRow>> {
    const { rows } = await db.query<SyncStateRow>(sql('sync-states'));
    return new Map(rows.map((row) => [row.resource, row]));
  }

  /** Lists one resource page by page into its table, checkpointing the cursor after every batch. */
  async function backfillResource(
    runId: string,
    resource: SyncResource,
    state: SyncStateRow | undefined,
    request: SyncRequest,
  ): Promise<number> {
    // An interrupted backfill of the same scope continues from its cursor.
    const since = request.since ?? null;
    const { scopes } = request;
    const resume = state?.status === 'running' || state?.status === 'failed' ? state : undefined;
    const sameScope = resume && (resume.run_since?.getTime() ?? null) === (since?.getTime() ?? null);
    let cursor = sameScope && !scopes ? resume.cursor : null;
    if (!scopes) {
      await db.query(sql('sync-start'), [resource.table, runId, since, cursor]);
      resource.started?.();
    }
    /**
     * Every page fetched while the previous write ran goes into the next write: one transaction,
     * set-based writes, and the newest page's cursor as the checkpoint. With `inFlight` above 1,
     * that many writes run at once (Postgres then uses that many cores); a batch's checkpoint is
     * stored only once it and every batch before it have committed, so a crash never skips one.
     */
    const writeAll = async <P extends { next: string | null }>(
      pages: PageReader<P>,
      write: (client: pg.PoolClient, batch: (P & { fetchedAt: number })[]) => Promise<number>,
      options: { pagesPerBatch?: number; inFlight?: number } = {},
    ) => {
      const inFlight = options.inFlight ?? 1;
      // No wait for the WAL flush: a crash loses the newest batches together with their
      // checkpoint, and the next backfill simply lists them again.
      const quick = 'BEGIN; SET LOCAL synchronous_commit = off';
      let synced = 0;
      const writing: { done: Promise<number>; reached: string | null }[] = [];
      /** Waits for the oldest write, then records its checkpoint (in order, after every earlier one). */
      const settleOldest = async () => {
        const { done, reached } = writing.shift()!;
        const written = await done;
        if (!scopes)
          await inTransaction(
            db,
            (client) => client.query(sql('sync-checkpoint'), [resource.table, reached, written]),
            quick,
          );
        synced += written;
        publish(
          { plugin, runId, resource: resource.table, synced, done: pages.finished() && writing.length === 0 },
          request,
        );
      };
      try {
        for (
          let batch = await pages.take(options.pagesPerBatch);
          batch;
          batch = await pages.take(options.pagesPerBatch)
        ) {
          const taken = batch;
          cursor = batch.at(-1)!.next ?? cursor;
          if (inFlight === 1 && !scopes) {
            // One write at a time: its checkpoint goes in the same transaction.
            const reached = cursor;
            await inTransaction(
              db,
              async (client) => {
                const written = await write(client, taken);
                await client.query(sql('sync-checkpoint'), [resource.table, reached, written]);
                synced += written;
              },
              quick,
            );
            publish({ plugin, runId, resource: resource.table, synced, done: pages.finished() }, request);
            continue;
          }
          const done = inTransaction(db, (client) => write(client, taken), quick);
          // A failure surfaces when this write is settled, in order.
          done.catch(() => {});
          writing.push({ done, reached: cursor });
          if (writing.length >= inFlight) await settleOldest();
        }
        while (writing.length > 0) await settleOldest();
      } finally {
        pages.stop();
        // Writes still running when one failed end before the run is reported failed.
        await Promise.allSettled(writing.map((entry) => entry.done));
      }
      return synced;
    };
    const json = since === null ? resource.listJson : undefined;
    if (json)
      return writeAll(
        readAhead(
          (from) => json.list({ cursor: from, scopes }),
          cursor,
          () => false,
        ),
        async (client, batch) => {
          const listedAt = batch[0]!.fetchedAt;
          if (json.states) {
            const written = await store.write(client, json.states(batch, listedAt), client);
            return Object.values(written).reduce((sum, rows) => sum + rows, 0);
          }
          return store.writeJsonPages(
            client,
            resource.table,
            batch.map((page) => page.json),
            json,
            listedAt,
          );
        },
        { pagesPerBatch: JSON_PAGES_PER_BATCH, inFlight: JSON_WRITES_IN_FLIGHT },
      );
    return writeAll(
      readAhead(
        (from) => resource.list!({ cursor: from, since, scopes }),
        cursor,
        (page) => page.objects.length === 0,
      ),
      async (client, batch) => {
        const states = batch.flatMap(({ objects, fetchedAt }) =>
          objects.map((object) => ({
            table: resource.table,
            object,
            deleted: object['deleted'] === true,
            versionAt: options.versionOf(object, fetchedAt),
            eventId: null,
          })),
        );
        await store.write(client, states, client);
        return states.length;
      },
    );
  }

  /**
   * Runs `start` (which records the run) only when no other run of this plugin is going on in any
   * process sharing the database: the claim's own connection then holds an advisory lock until
   * `release`. Otherwise `start` is not called and the running run is returned.
   */
  async function claim(
    start: (client: pg.PoolClient) => Promise<void>,
  ): Promise<{ running: SyncRunRow } | { release(): Promise<void> }> {
    const client = await db.connect();
    // A connection lost while held arrives as an 'error' event (see inTransaction); it is destroyed.
    let lost: Error | undefined;
    const onLost = (error: Error) => (lost = error);
    client.on('error', onLost);
    const done = (destroy: boolean) => {
      client.off('error', onLost);
      client.release(destroy || lost);
    };
    let locked = false;
    try {
      await client.query('BEGIN');
      await client.query(sql('sync-lock-start'), [schema]);
      locked = (await client.query<{ locked: boolean }>(sql('sync-lock'), [schema])).rows[0]!.locked;
      if (locked) await start(client);
      const running = locked ? undefined : (await client.query<SyncRunRow>(sql('sync-run-running'))).rows[0];
      await client.query('COMMIT');
      if (!locked) {
        done(false);
        // The holder marks its run finished only after letting go of the lock, so it is listed.
        if (!running) throw new Error(`${plugin} sync: the lock is held but no run is recorded as running`);
        return { running };
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      // Destroyed, not returned to the pool, when it may still hold the session lock.
      done(locked);
      throw error;
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        const unlocked = await client.query(sql('sync-unlock'), [schema]).then(
          () => true,
          () => false,
        );
        done(!unlocked);
      },
    };
  }

  async function run(request: SyncRequest = {}): Promise<SyncRun> {
    const id = randomUUID();
    const resources = request.resources?.length
      ? listed.filter((resource) => request.resources!.includes(resource.table))
      : listed;
    let current = new Map<string, SyncStateRow>();
    let kind: SyncKind = 'backfill';
    let incremental = false;
    // Read once no other run can change them: this run starts where the last one left off.
    const start = async (client: pg.PoolClient | pg.Pool) => {
      current = await states();
      // Without a catch-up of its own, a plugin gets current by listing what changed since each
      // resource's last completed sync began (its lists filter by update time where they can).
      const listSince = !options.catchUp && resources.every((resource) => current.get(resource.table)?.last_sync_at);
      incremental =
        !request.full &&
        !request.since &&
        !request.scopes &&
        (options.catchUp ? options.catchUp.possible(current) : listSince);
      kind = incremental ? 'incremental' : 'backfill';
      await client.query(sql('sync-run-insert'), [id, kind, resources.map((r) => r.table), request.since ?? null]);
    };
    // A run of some parts of the data (scopes) keeps no checkpoint, so it runs beside the others;
    // every other run is one per plugin at a time, across instances.
    let release = async () => {};
    if (request.scopes) await start(db);
    else {
      const claimed = await claim(start);
      if ('running' in claimed) {
        const { running } = claimed;
        request.onStart?.(running.id);
        return {
          id: running.id,
          kind: running.kind as SyncKind,
          status: 'running',
          counts: running.counts,
          error: null,
        };
      }
      release = claimed.release;
    }
    request.onStart?.(id);
    let counts: Record<string, number> = {};
    const startedAt = new Date();
    try {
      if (incremental && !options.catchUp) {
        for (const resource of resources) {
          const state = current.get(resource.table);
          const since = state!.last_sync_at!;
          counts[resource.table] = await backfillResource(id, resource, state, { ...request, since });
          await db.query(sql('sync-finish'), [resource.table, startedAt]);
          await resource.completed?.();
        }
      } else if (incremental) {
        counts = await options.catchUp!.run({
          runId: id,
          states: current,
          report: (progress) => publish({ plugin, runId: id, ...progress }, request),
          caughtUp,
        });
      } else if (request.scopes) {
        for (const resource of resources)
          counts[resource.table] = await backfillResource(id, resource, current.get(resource.table), request);
      } else {
        for (const resource of resources) {
          counts[resource.table] = await backfillResource(id, resource, current.get(resource.table), request);
          await db.query(sql('sync-finish'), [resource.table, startedAt]);
          await resource.completed?.();
        }
        await options.catchUp?.afterBackfill?.(startedAt, caughtUp);
      }
      await release();
      await db.query(sql('sync-run-finish'), [id, 'completed', counts, null]);
      return { id, kind, status: 'completed', counts, error: null };
    } catch (error) {
      const message = (error as Error).message;
      await release();
      await db.query(sql('sync-run-finish'), [id, 'failed', counts, message]).catch(() => {});
      await db.query(sql('sync-failed'), [id, message]).catch(() => {});
      throw error;
    }
  }

  /** A run as recorded. */
  async function runById(runId: string): Promise<SyncRunRow | null> {
    const { rows } = await db.query<SyncRunRow>(sql('sync-run-by-id'), [runId]);
    return rows[0] ?? null;
  }

  return { run, states, runById, resources: listed.map((resource) => resource.table) };
}

export type Syncer = ReturnType<typeof createSyncer>;

/**
 * Writing object states into a plugin's synced tables: one set-based upsert per table, where a
 * row holding a newer state is kept ("newer state wins" in SQL, whatever order writes come in),
 * and each parent's children kept in step with it. A state whose object is in a webhook payload
 * the log already holds is taken from there in SQL (a 10 KB object is not sent and parsed
 * again). A bulk write (a backfill batch) whose rows of a table are all new is streamed in with
 * COPY instead, about twice as fast as the upsert. Pages kept as the provider's JSON text (a full
 * backfill's fast path) go to Postgres as they arrived, in one statement per batch.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { tablesOf, type ObjectState, type Queryable, type SyncedObject, type SyncTables } from './resource.ts';
import { fillPlaceholders, syncStatement } from './statements.ts';

/**
 * Below this many rows of a table an upsert costs about what COPY does (COPY's extra round trips:
 * the check, the savepoint). A page of 100 is COPYed: in Postgres the upsert's JSON costs about
 * 1.7× what COPY's text does.
 */
const COPY_MIN_ROWS = 50;
/** COPY data is sent in messages of about this many characters, not one per row. */
const COPY_CHUNK = 64 * 1024;
const UNIQUE_VIOLATION = '23505';

interface Row {
  id: string;
  /** The object; with `path`, only the fields laid over the object in the event's payload. */
  data: SyncedObject | null;
  is_deleted: boolean;
  version_at: number;
  event_id: string | null;
  path?: readonly string[];
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
/** A field in COPY's text format. */
const copyField = (value: string) => value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!);
/**
 * JSON text as a COPY field: JSON.stringify writes tabs, newlines and carriage returns inside
 * strings as escapes, never raw, so only its backslashes need doubling (a native replaceAll, not
 * a callback per match: object bodies are full of `\n` escapes).
 */
const copyJson = (value: unknown) => JSON.stringify(value).replaceAll('\\', '\\\\');
const copyLine = (row: Row) =>
  `${copyField(row.id)}\t${copyJson(row.data)}\t${row.is_deleted ? 't' : 'f'}\t${new Date(row.version_at * 1000).toISOString()}\t${row.event_id === null ? '\\N' : copyField(row.event_id)}\n`;
/** The rows as COPY text, a chunk of about COPY_CHUNK characters at a time (made as it is sent). */
function* copyChunks(rows: readonly Row[]): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += copyLine(row);
    if (chunk.length >= COPY_CHUNK) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/**
 * Pages of JSON text as one jsonb parameter in binary form (jsonb's format version, 1, then the
 * text): node-postgres sends a Buffer as is, so the pages are never decoded or copied as strings.
 */
function jsonbArrayOf(pages: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([1, 0x5b])]; // version 1, '['
  for (const [i, page] of pages.entries()) parts.push(...(i === 0 ? [page] : [COMMA, page]));
  parts.push(Buffer.from(']'));
  return Buffer.concat(parts);
}
const COMMA = Buffer.from(',');

export interface SyncStore {
  /**
   * Upserts states table by table (children with their parents); returns rows written per table.
   * With `bulk` (a client inside a transaction), a table's rows that are all new are COPYed in.
   */
  write(db: Queryable, states: Iterable<ObjectState>, bulk?: pg.PoolClient): Promise<Record<string, number>>;
  /**
   * Upserts the objects of pages of the provider's JSON text (see `JsonListing`'s default) listed at
   * `listedAt` (epoch seconds); returns the rows written.
   */
  writeJsonPages(
    db: Queryable,
    table: string,
    pages: readonly Buffer[],
    listing: { versionKey: string; skipKey?: string | undefined },
    listedAt: number,
  ): Promise<number>;
  /**
   * The upserts of `write`, as statements to run inside the one that stores their webhook events
   * (`WITH input (id, payload) …, fresh (id) …`): a row is written only when its event is `fresh`
   * (newly logged), taking its object from that event's payload in `input`. Parameters are
   * numbered from `firstParam`. Null when a state carries children: their removal needs
   * statements of its own.
   */
  withLog(states: Iterable<ObjectState>, firstParam: number): { statements: string[]; values: string[] } | null;
  /** Marks rows deleted whose objects the provider says are gone. */
  markDeleted(db: Queryable, table: string, ids: string[]): Promise<number>;
  /** The object's id as text. */
  idOf(object: SyncedObject): string;
}

export function createSyncStore(tables: SyncTables): SyncStore {
  const { schema, versionColumn: version } = tables;
  const known = tablesOf(tables);
  const idOf = tables.idOf ?? ((object: SyncedObject) => String(object['id']));
  const names = (table: string) => ({ schema, table, version, idType: known.get(table)?.idType ?? 'text' });
  const childrenOf = new Map(tables.resources.map((resource) => [resource.table, resource.children ?? []]));
  /** A child table's parent column holds its parent's ids (text or bigint). */
  const parentIdType = new Map(
    tables.resources.flatMap((resource) =>
      (resource.children ?? []).map((child) => [child.table, resource.idType ?? 'text'] as const),
    ),
  );

  /**
   * States grouped by table (children added beside their parents), the last state of an id
   * kept, rows in id order; and the child sets whose missing children are to be marked deleted.
   */
  function planWrite(states: Iterable<ObjectState>) {
    const byTable = new Map<string, ObjectState[]>();
    const add = (table: string, state: ObjectState) => {
      const list = byTable.get(table);
      if (list) list.push(state);
      else byTable.set(table, [state]);
    };
    const childSets = new Map<string, { parent: string; children: string[]; version_at: number }[]>();
    for (const state of states) {
      const { table } = state;
      if (!known.has(table)) throw new Error(`${table} is not a synced table of ${schema}`);
      add(table, state);
      for (const child of childrenOf.get(table) ?? []) {
        const carried = child.of(state.object);
        if (!carried) continue;
        for (const object of carried.objects)
          add(child.table, {
            table: child.table,
            object,
            deleted: state.deleted,
            versionAt: state.versionAt,
            eventId: state.eventId,
          });
        if (carried.complete) {
          const sets = childSets.get(child.table) ?? [];
          sets.push({ parent: idOf(state.object), children: carried.objects.map(idOf), version_at: state.versionAt });
          childSets.set(child.table, sets);
        }
      }
    }
    const tables = new Map<string, { rows: Row[]; inPayload: boolean }>();
    for (const [table, list] of byTable) {
      // The last state of an id wins within one statement (ON CONFLICT cannot touch a row twice).
      const latest = new Map<string, ObjectState>();
      for (const state of list) {
        const id = idOf(state.object);
        const seen = latest.get(id);
        if (!seen || seen.versionAt <= state.versionAt) latest.set(id, state);
      }
      let inPayload = false;
      // In id order: concurrent writers (webhooks, retries, a backfill) lock shared rows in one
      // order and cannot deadlock on them.
      const rows: Row[] = [...latest]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([id, s]) => {
          const row: Row = { id, data: s.object, is_deleted: s.deleted, version_at: s.versionAt, event_id: s.eventId };
          if (s.inPayload && s.eventId !== null) {
            inPayload = true;
            row.data = s.inPayload.merge ?? null;
            row.path = s.inPayload.path;
          }
          return row;
        });
      tables.set(table, { rows, inPayload });
    }
    return { tables, childSets };
  }

  /**
   * COPYs the rows in when none of them is stored yet; false (and nothing written) otherwise.
   * Runs inside the caller's transaction, under a savepoint: a row someone else inserts meanwhile
   * makes COPY fail on the primary key, and the caller upserts instead. The savepoint is left for
   * the commit to release (a round trip fewer).
   */
  async function copyIfAllNew(client: pg.PoolClient, table: string, rows: Row[]): Promise<boolean> {
    const { rows: found } = await client.query<{ any: boolean }>(syncStatement('any-stored', names(table)), [
      rows.map((row) => row.id),
    ]);
    if (found[0]!.any) return false;
    await client.query('SAVEPOINT copy_in');
    try {
      await pipeline(Readable.from(copyChunks(rows)), client.query(copyFrom(syncStatement('copy-in', names(table)))));
      return true;
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT copy_in');
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return false;
      throw error;
    }
  }

  return {
    idOf,
    async write(db, states, bulk) {
      const { tables: byTable, childSets } = planWrite(states);
      const written: Record<string, number> = {};
      for (const [table, { rows, inPayload }] of byTable) {
        if (bulk && !inPayload && rows.length >= COPY_MIN_ROWS && (await copyIfAllNew(bulk, table, rows))) {
          written[table] = rows.length;
          continue;
        }
        const statement = syncStatement(inPayload ? 'upsert-from-events' : 'upsert', names(table));
        const result = await db.query(statement, [JSON.stringify(rows)]);
        written[table] = result.rowCount ?? 0;
      }
      for (const [table, sets] of childSets)
        await db.query(
          syncStatement('children-removed', {
            ...names(table),
            parent: known.get(table)!.parentColumn,
            idType: parentIdType.get(table),
          }),
          [JSON.stringify(sets)],
        );
      return written;
    },
    withLog(states, firstParam) {
      const { tables: byTable, childSets } = planWrite(states);
      if (childSets.size > 0 || [...byTable.keys()].some((table) => childrenOf.get(table)?.length)) return null;
      const statements: string[] = [];
      const values: string[] = [];
      // Tables in one order: two batches in flight take their rows' locks in the same order.
      for (const [table, { rows }] of [...byTable].sort(([a], [b]) => (a < b ? -1 : 1))) {
        statements.push(
          fillPlaceholders(
            syncStatement('upsert-with-log', names(table)),
            /\{(rows)\}/g,
            {
              rows: `$${firstParam + values.length}`,
            },
            'upsert-with-log',
          ),
        );
        values.push(JSON.stringify(rows));
      }
      return { statements, values };
    },
    async writeJsonPages(db, table, pages, listing, listedAt) {
      if (!known.has(table)) throw new Error(`${table} is not a synced table of ${schema}`);
      const result = await db.query(syncStatement('upsert-json-pages', names(table)), [
        jsonbArrayOf(pages),
        listing.versionKey,
        listing.skipKey ?? null,
        listedAt,
      ]);
      return result.rowCount ?? 0;
    },
    async markDeleted(db, table, ids) {
      if (ids.length === 0) return 0;
      return (await db.query(syncStatement('mark-deleted', names(table)), [ids])).rowCount ?? 0;
    },
  };
}

/**
 * Writing object states into the resource tables: one set-based upsert per table, with a
 * subscription's items kept in step with it. A bulk write (a backfill page batch) whose rows are
 * all new is streamed in with COPY instead, about twice as fast as the upsert.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { TABLE_OF_OBJECT, type ObjectResource, type StripeObject } from './resources.ts';
import { tableSql } from './sql.ts';

/** One object's state as of `stripeAt` (epoch seconds, Stripe-side). */
export interface ObjectState {
  object: StripeObject;
  deleted: boolean;
  stripeAt: number;
  eventId: string | null;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

/** Below this many rows of a table an upsert costs about what COPY does. */
const COPY_MIN_ROWS = 200;
const UNIQUE_VIOLATION = '23505';

interface Row {
  id: string;
  data: StripeObject;
  is_deleted: boolean;
  stripe_at: number;
  event_id: string | null;
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
/** A field in COPY's text format. */
const copyField = (value: string) => value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!);
const copyLine = (row: Row) =>
  `${copyField(row.id)}\t${copyField(JSON.stringify(row.data))}\t${row.is_deleted ? 't' : 'f'}\t${new Date(row.stripe_at * 1000).toISOString()}\t${row.event_id === null ? '\\N' : copyField(row.event_id)}\n`;

/**
 * COPYs the rows in when none of them is stored yet; false (and nothing written) otherwise.
 * Runs inside the caller's transaction, under a savepoint: a row someone else inserts meanwhile
 * makes COPY fail on the primary key, and the caller upserts instead.
 */
async function copyIfAllNew(client: pg.PoolClient, table: ObjectResource, rows: Row[]): Promise<boolean> {
  const { rows: found } = await client.query<{ any: boolean }>(tableSql('any-stored', table), [
    rows.map((row) => row.id),
  ]);
  if (found[0]!.any) return false;
  await client.query('SAVEPOINT copy_in');
  try {
    await pipeline(Readable.from(rows.map(copyLine)), client.query(copyFrom(tableSql('copy-in', table))));
    await client.query('RELEASE SAVEPOINT copy_in');
    return true;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT copy_in');
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) return false;
    throw error;
  }
}

interface ItemList {
  data?: StripeObject[];
  has_more?: boolean;
}

/** The items a subscription object carries, as stored (each naming its subscription); `complete` when none were left out. */
export function itemsOf(subscription: StripeObject): { data: StripeObject[]; complete: boolean } | undefined {
  const items = subscription['items'] as ItemList | undefined;
  if (!items?.data) return undefined;
  return {
    data: items.data.map((item) => ({ ...item, subscription: item['subscription'] ?? subscription.id })),
    complete: !items.has_more,
  };
}

/**
 * Upserts states (newer-wins in SQL as well), table by table; returns rows written per table.
 * With `bulk` (a client inside a transaction), a table's rows that are all new are COPYed in.
 */
export async function writeStates(
  db: Queryable,
  states: Iterable<ObjectState>,
  bulk?: pg.PoolClient,
): Promise<Partial<Record<ObjectResource, number>>> {
  const byTable = new Map<ObjectResource, ObjectState[]>();
  const add = (table: ObjectResource, state: ObjectState) => {
    let list = byTable.get(table);
    if (!list) {
      list = [];
      byTable.set(table, list);
    }
    list.push(state);
  };
  const itemSets: { subscription: string; items: string[]; stripe_at: number }[] = [];
  for (const state of states) {
    const table = TABLE_OF_OBJECT[state.object.object];
    if (!table) continue;
    add(table, state);
    // A subscription carries its items: they are synced with it, and items it no longer lists are gone.
    const items = table === 'subscriptions' ? itemsOf(state.object) : undefined;
    if (items) {
      for (const item of items.data)
        add('subscription_items', {
          object: item,
          deleted: state.deleted,
          stripeAt: state.stripeAt,
          eventId: state.eventId,
        });
      if (items.complete)
        itemSets.push({
          subscription: state.object.id,
          items: items.data.map((item) => item.id),
          stripe_at: state.stripeAt,
        });
    }
  }
  const written: Partial<Record<ObjectResource, number>> = {};
  for (const [table, list] of byTable) {
    // The last state of an id wins within one statement (ON CONFLICT cannot touch a row twice).
    const latest = new Map<string, ObjectState>();
    for (const state of list) {
      const seen = latest.get(state.object.id);
      if (!seen || seen.stripeAt <= state.stripeAt) latest.set(state.object.id, state);
    }
    const rows: Row[] = [...latest.values()].map((s) => ({
      id: s.object.id,
      data: s.object,
      is_deleted: s.deleted,
      stripe_at: s.stripeAt,
      event_id: s.eventId,
    }));
    if (bulk && rows.length >= COPY_MIN_ROWS && (await copyIfAllNew(bulk, table, rows))) {
      written[table] = rows.length;
      continue;
    }
    const result = await db.query(tableSql('upsert', table), [JSON.stringify(rows)]);
    written[table] = result.rowCount ?? 0;
  }
  if (itemSets.length > 0) await db.query(tableSql('items-removed', 'subscription_items'), [JSON.stringify(itemSets)]);
  return written;
}

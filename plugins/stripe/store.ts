/**
 * Writing object states into the resource tables: one set-based upsert per table, with a
 * subscription's items kept in step with it.
 */
import type pg from 'pg';
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

interface ItemList {
  data?: StripeObject[];
  has_more?: boolean;
}

/** The items a subscription object carries, as stored (each naming its subscription); `complete` when none were left out. */
export function itemsOf(subscription: StripeObject): { data: StripeObject[]; complete: boolean } | undefined {
  const items = subscription['items'] as ItemList | undefined;
  if (!items?.data) return undefined;
  return { data: items.data.map((item) => ({ ...item, subscription: item['subscription'] ?? subscription.id })), complete: !items.has_more };
}

/** Upserts states (newer-wins in SQL as well), table by table; returns rows written per table. */
export async function writeStates(db: Queryable, states: Iterable<ObjectState>): Promise<Partial<Record<ObjectResource, number>>> {
  const byTable = new Map<ObjectResource, ObjectState[]>();
  const add = (table: ObjectResource, state: ObjectState) => {
    let list = byTable.get(table);
    if (!list) byTable.set(table, (list = []));
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
      for (const item of items.data) add('subscription_items', { object: item, deleted: state.deleted, stripeAt: state.stripeAt, eventId: state.eventId });
      if (items.complete) itemSets.push({ subscription: state.object.id, items: items.data.map((item) => item.id), stripe_at: state.stripeAt });
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
    const rows = [...latest.values()].map((s) => ({ id: s.object.id, data: s.object, is_deleted: s.deleted, stripe_at: s.stripeAt, event_id: s.eventId }));
    const result = await db.query(tableSql('upsert', table), [JSON.stringify(rows)]);
    written[table] = result.rowCount ?? 0;
  }
  if (itemSets.length > 0) await db.query(tableSql('items-removed', 'subscription_items'), [JSON.stringify(itemSets)]);
  return written;
}

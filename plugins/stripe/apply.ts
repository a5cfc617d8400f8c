/**
 * Applying Stripe events to the synced tables, safe against any delivery order.
 *
 * Each object's stored row remembers the Stripe-side time of its state (`stripe_at`). An event
 * newer than that is applied, an older one is not. Stripe's `created` has one-second
 * resolution, so two events about one object often share a second; the peer engine then keeps
 * whichever arrived first. Here a tie is decided by what the events say:
 *   - a `*.deleted` event wins, and nothing at the same second undoes a deletion;
 *   - a `*.created` event never replaces a state of the same second (creation comes first);
 *   - an update whose `previous_attributes` match the stored state is the change made to that
 *     state, so it is newer; an update the stored state already reflects, or whose result is
 *     what the stored state's own event changed from, is older;
 *   - when neither holds (a third event in the same second went missing), the object is
 *     fetched from the API, which is always current.
 */
import { isDeepStrictEqual } from 'node:util';
import type pg from 'pg';
import type { ObjectState, SyncStore, WebhookEvent } from '../../gateway/sdk.ts';
import { TABLE_OF_OBJECT, type ObjectResource, type StripeObject } from './resources.ts';
import { tableSql } from './sql.ts';

export interface StripeEvent {
  id: string;
  type: string;
  created: number;
  data: { object: StripeObject; previous_attributes?: Record<string, unknown> };
}

export interface Stored {
  data: StripeObject;
  is_deleted: boolean;
  stripe_at: number;
  last_event_id: string | null;
  /** previous_attributes of the event that produced this state, if it was an update. */
  last_previous: Record<string, unknown> | null;
}

/** What the API said of an object (null: it is gone), and when it was asked (epoch seconds). */
export interface Fetched {
  object: StripeObject | null;
  askedAt: number;
}

/** The table and id of the object an event is about; undefined when this plugin does not sync it. */
export function objectOf(event: StripeEvent): { table: ObjectResource; id: string } | undefined {
  const object = event.data?.object;
  const table = object ? TABLE_OF_OBJECT[object.object] : undefined;
  return table && typeof object.id === 'string' ? { table, id: object.id } : undefined;
}

/** `partial` holds (deeply) in `whole`: nested hashes in previous_attributes list only changed keys. */
export function includes(whole: unknown, partial: unknown): boolean {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial))
    return isDeepStrictEqual(whole ?? null, partial);
  if (whole === null || typeof whole !== 'object' || Array.isArray(whole)) return false;
  return Object.entries(partial).every(([key, value]) => includes((whole as Record<string, unknown>)[key], value));
}

const isDeletion = (event: StripeEvent) =>
  event.type.endsWith('.deleted') && event.data.object.object !== 'subscription';
const isCreation = (event: StripeEvent) => event.type.endsWith('.created');

export type Verdict = 'apply' | 'skip' | 'unsure';

/** Whether `event` is newer than the state `current` (stored or produced by an earlier event). */
export function compare(event: StripeEvent, current: Stored): Verdict {
  if (event.created > current.stripe_at) return 'apply';
  if (event.created < current.stripe_at) return 'skip';
  if (event.id === current.last_event_id) return 'skip';
  if (current.is_deleted) return 'skip';
  if (isDeletion(event)) return 'apply';
  if (isCreation(event)) return 'skip';
  const previous = event.data.previous_attributes;
  if (!previous) return isDeepStrictEqual(current.data, event.data.object) ? 'skip' : 'unsure';
  if (includes(current.data, previous)) return 'apply';
  const after = Object.fromEntries(Object.keys(previous).map((key) => [key, event.data.object[key] ?? null]));
  if (includes(current.data, after)) return 'skip';
  // The stored state was changed from exactly what this event produced: this event came first.
  if (current.last_previous && includes(event.data.object, current.last_previous)) return 'skip';
  return 'unsure';
}

export const stateOf = (event: StripeEvent): Stored => ({
  data: event.data.object,
  is_deleted: isDeletion(event) || event.data.object.deleted === true,
  stripe_at: event.created,
  last_event_id: event.id,
  last_previous: event.data.previous_attributes ?? null,
});

/**
 * One object's events over its stored state (if any): the newest state when some event changed
 * it, null when none did, or 'refetch' when a tie in one second cannot be settled by the events.
 */
export function resolveEvents(stored: Stored | undefined, events: StripeEvent[]): Stored | null | 'refetch' {
  let current = stored;
  let changed = false;
  // Oldest first; within a second, keep offering the remaining events until none applies.
  const remaining = [...events].sort((a, b) => a.created - b.created);
  while (remaining.length > 0) {
    let progressed = false;
    for (let i = 0; i < remaining.length; i++) {
      const event = remaining[i]!;
      if (remaining.some((other) => other.created < event.created)) continue;
      const verdict = current ? compare(event, current) : 'apply';
      if (verdict === 'unsure') continue;
      if (verdict === 'apply') {
        current = stateOf(event);
        changed = true;
      }
      remaining.splice(i, 1);
      progressed = true;
      break;
    }
    if (!progressed) return 'refetch';
  }
  return changed && current ? current : null;
}

/**
 * The state written after a refetch: the API's answer (none: deleted), as of when the API was
 * asked and at least as new as the events. (Asked before an event of a later second was applied,
 * the answer must not overwrite that event's state.)
 */
export function refetchedState(
  table: ObjectResource,
  events: StripeEvent[],
  fresh: StripeObject | null,
  askedAt: number,
): ObjectState {
  const newest = Math.max(...events.map((event) => event.created));
  return {
    table,
    object: fresh ?? events[0]!.data.object,
    deleted: fresh === null || fresh.deleted === true,
    versionAt: Math.max(newest, askedAt),
    eventId: null,
  };
}

/**
 * Applies a batch of events inside the caller's transaction: reads (and locks) the stored rows
 * the batch touches, works out each object's newest state, and writes all of them set-based.
 * An object whose events tie in a way only the API can settle is left alone: its events are
 * returned as set aside, unless `fetched` already holds the API's answer for one of them.
 */
export async function applyEvents(
  store: SyncStore,
  client: pg.PoolClient,
  webhookEvents: WebhookEvent[],
  fetched: ReadonlyMap<string, unknown>,
): Promise<{ setAside: string[] }> {
  const byObject = new Map<string, { table: ObjectResource; events: StripeEvent[] }>();
  for (const { payload } of webhookEvents) {
    const event = payload as StripeEvent;
    const object = objectOf(event);
    if (!object) continue; // not an object this plugin syncs
    const key = `${object.table}/${object.id}`;
    const entry = byObject.get(key) ?? { table: object.table, events: [] };
    entry.events.push(event);
    byObject.set(key, entry);
  }
  const setAside: string[] = [];
  if (byObject.size === 0) return { setAside };

  const stored = new Map<string, Stored>();
  const idsByTable = new Map<ObjectResource, string[]>();
  for (const { table, events } of byObject.values())
    idsByTable.set(table, [...(idsByTable.get(table) ?? []), events[0]!.data.object.id]);
  for (const [table, ids] of idsByTable) {
    const { rows } = await client.query<Stored & { id: string }>(tableSql('current-states', table), [ids]);
    for (const row of rows) stored.set(`${table}/${row.id}`, row);
  }

  const states: ObjectState[] = [];
  for (const [key, { table, events }] of byObject) {
    const resolved = resolveEvents(stored.get(key), events);
    if (resolved === 'refetch') {
      const answer = events.map((event) => fetched.get(event.id) as Fetched | undefined).find(Boolean);
      if (answer) states.push(refetchedState(table, events, answer.object, answer.askedAt));
      else setAside.push(...events.map((event) => event.id));
    } else if (resolved) {
      states.push({
        table,
        object: resolved.data,
        deleted: resolved.is_deleted,
        versionAt: resolved.stripe_at,
        eventId: resolved.last_event_id,
      });
    }
  }
  await store.write(client, states);
  return { setAside };
}

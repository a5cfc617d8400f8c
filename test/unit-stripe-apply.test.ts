/**
 * The tie rules of plugins/stripe/apply.ts, without a database: which of two states of one object
 * is newer (`compare`), how a batch of events about one object ends (`resolveEvents`), and the
 * state written when only the API can settle it (`refetchedState`).
 */
import { describe, expect, it } from 'vitest';
import {
  compare,
  includes,
  refetchedState,
  resolveEvents,
  stateOf,
  type Stored,
  type StripeEvent,
  type Verdict,
} from '../plugins/stripe/apply.ts';
import type { StripeObject } from '../plugins/stripe/resources.ts';

const T = 1_700_000_000;

const customer = (fields: Record<string, unknown> = {}): StripeObject => ({
  id: 'cus_1',
  object: 'customer',
  name: 'A',
  email: 'a@example.test',
  ...fields,
});

let ids = 0;
function event(
  type: string,
  object: StripeObject,
  created: number,
  previous?: Record<string, unknown>,
  id = `evt_${++ids}`,
): StripeEvent {
  return { id, type, created, data: { object, ...(previous ? { previous_attributes: previous } : {}) } };
}

function stored(fields: Partial<Stored> = {}): Stored {
  return {
    data: customer(),
    is_deleted: false,
    stripe_at: T,
    last_event_id: 'evt_stored',
    last_previous: null,
    ...fields,
  };
}

describe('includes: previous_attributes hold in a state', () => {
  it.each<[string, unknown, unknown, boolean]>([
    ['equal scalars', 'a', 'a', true],
    ['different scalars', 'a', 'b', false],
    ['null matches a missing value', undefined, null, true],
    ['null does not match a value', 'a', null, false],
    ['a subset of keys', { a: 1, b: 2 }, { a: 1 }, true],
    ['a key with another value', { a: 1, b: 2 }, { a: 2 }, false],
    ['a key the whole lacks', { a: 1 }, { c: 1 }, false],
    ['nested keys only list changes', { m: { x: 1, y: 2 } }, { m: { x: 1 } }, true],
    ['nested key differs', { m: { x: 1, y: 2 } }, { m: { x: 2 } }, false],
    ['arrays compare whole', { l: [1, 2] }, { l: [1, 2] }, true],
    ['arrays are not subsets', { l: [1, 2] }, { l: [1] }, false],
    ['an object against a scalar', 'a', { a: 1 }, false],
    ['an object against an array', [1], { 0: 1 }, false],
    ['an empty partial holds in any object', { a: 1 }, {}, true],
  ])('%s', (_name, whole, partial, expected) => {
    expect(includes(whole, partial)).toBe(expected);
  });
});

describe('compare: is the event newer than the current state?', () => {
  const rows: [string, StripeEvent, Stored, Verdict][] = [
    ['a later second applies', event('customer.updated', customer({ name: 'B' }), T + 1), stored(), 'apply'],
    ['an earlier second is skipped', event('customer.updated', customer({ name: 'B' }), T - 1), stored(), 'skip'],
    [
      'a later second applies even to a deleted object',
      event('customer.created', customer(), T + 1),
      stored({ is_deleted: true }),
      'apply',
    ],
    [
      'the event that produced the state is skipped',
      event('customer.updated', customer({ name: 'B' }), T, { name: 'A' }, 'evt_same'),
      stored({ last_event_id: 'evt_same' }),
      'skip',
    ],
    [
      'nothing in the same second undoes a deletion',
      event('customer.updated', customer({ name: 'B' }), T, { name: 'A' }),
      stored({ is_deleted: true }),
      'skip',
    ],
    ['a deletion in the same second wins', event('customer.deleted', customer(), T), stored(), 'apply'],
    [
      'a deleted subscription is a state like any other (not a deletion)',
      event('customer.subscription.deleted', { id: 'sub_1', object: 'subscription', status: 'canceled' }, T),
      stored({ data: { id: 'sub_1', object: 'subscription', status: 'active' } }),
      'unsure',
    ],
    ['a creation never replaces a state of its second', event('customer.created', customer(), T), stored(), 'skip'],
    [
      'an update whose previous attributes match the state is the next change',
      event('customer.updated', customer({ name: 'B' }), T, { name: 'A' }),
      stored(),
      'apply',
    ],
    [
      'an update the state already reflects is older',
      event('customer.updated', customer({ name: 'B' }), T, { name: 'A' }),
      stored({ data: customer({ name: 'B' }) }),
      'skip',
    ],
    [
      'an update to a key the object lost compares with null',
      event('customer.updated', customer({ name: 'B' }), T, { description: 'old' }),
      stored({ data: customer({ description: null }) }),
      'skip',
    ],
    [
      'an update whose result the stored state changed from came first',
      event('customer.updated', customer({ name: 'B', email: 'b@example.test' }), T, { name: 'A' }),
      stored({ data: customer({ name: 'C', email: 'c@example.test' }), last_previous: { name: 'B' } }),
      'skip',
    ],
    [
      'an update from a state never seen (a missing third event) is unsure',
      event('customer.updated', customer({ name: 'C' }), T, { name: 'X' }),
      stored({ data: customer({ name: 'B' }), last_previous: { name: 'A' } }),
      'unsure',
    ],
    [
      'an update without previous attributes, equal to the state, is skipped',
      event('customer.updated', customer(), T),
      stored(),
      'skip',
    ],
    [
      'an update without previous attributes, different from the state, is unsure',
      event('customer.updated', customer({ name: 'B' }), T),
      stored(),
      'unsure',
    ],
  ];
  it.each(rows)('%s', (_name, e, current, verdict) => {
    expect(compare(e, current)).toBe(verdict);
  });
});

describe('stateOf: the state an event produces', () => {
  it.each<[string, StripeEvent, boolean]>([
    ['an update is not deleted', event('customer.updated', customer(), T), false],
    ['a *.deleted event deletes', event('customer.deleted', customer(), T), true],
    ['an object saying deleted: true is deleted', event('customer.updated', customer({ deleted: true }), T), true],
    [
      'a deleted subscription stays (it is canceled, not gone)',
      event('customer.subscription.deleted', { id: 'sub_1', object: 'subscription' }, T),
      false,
    ],
  ])('%s', (_name, e, deleted) => {
    const state = stateOf(e);
    expect(state).toEqual({
      data: e.data.object,
      is_deleted: deleted,
      stripe_at: e.created,
      last_event_id: e.id,
      last_previous: e.data.previous_attributes ?? null,
    });
  });
});

describe('resolveEvents: the newest state of one object from a batch, in any order', () => {
  const created = event('customer.created', customer(), T);
  const toB = event('customer.updated', customer({ name: 'B' }), T, { name: 'A' });
  const toC = event('customer.updated', customer({ name: 'C' }), T, { name: 'B' });
  const later = event('customer.updated', customer({ name: 'D' }), T + 5, { name: 'C' });
  const deleted = event('customer.deleted', customer({ name: 'C' }), T);
  const gap = event('customer.updated', customer({ name: 'Z' }), T, { name: 'Y' });

  it.each<[string, Stored | undefined, StripeEvent[], string | null | 'refetch']>([
    ['a new object takes its only event', undefined, [created], created.id],
    ['a new object: created then updated in one second', undefined, [created, toB], toB.id],
    ['a new object: the update delivered first still wins', undefined, [toB, created], toB.id],
    ['a chain of updates in one second, reversed', undefined, [toC, toB, created], toC.id],
    ['a chain of updates in one second, shuffled', undefined, [toB, toC, created], toC.id],
    ['a later second wins over the chain', undefined, [later, toC, created, toB], later.id],
    ['a deletion in the same second wins over updates', undefined, [toB, deleted, toC], deleted.id],
    ['the stored state reflects the update: nothing changes', stored({ data: customer({ name: 'B' }) }), [toB], null],
    ['an older event over a newer stored state: nothing changes', stored({ stripe_at: T + 10 }), [toB], null],
    ['a redelivery of the stored event: nothing changes', stored({ last_event_id: toB.id }), [toB], null],
    ['an update from the stored state applies', stored(), [toB], toB.id],
    ['a missing event in the chain: only the API can say', stored(), [gap], 'refetch'],
    ['the gap is not closed by the others', stored(), [toB, gap], 'refetch'],
    ['a later second after the gap is still offered after it', stored(), [later, gap], 'refetch'],
    ['no events: nothing changes', stored(), [], null],
  ])('%s', (_name, current, events, expected) => {
    const result = resolveEvents(current, events);
    if (expected === null || expected === 'refetch') expect(result).toBe(expected);
    else
      expect(result).toMatchObject({
        last_event_id: expected,
        stripe_at: events.find((e) => e.id === expected)!.created,
      });
  });

  it('does not reorder the caller’s array', () => {
    const events = [toC, created, toB];
    resolveEvents(undefined, events);
    expect(events).toEqual([toC, created, toB]);
  });
});

describe('refetchedState: what a tie settled by the API writes', () => {
  const a = event('customer.updated', customer({ name: 'B' }), T, { name: 'X' });
  const b = event('customer.updated', customer({ name: 'C' }), T + 2, { name: 'Y' });

  it.each<[string, StripeEvent[], StripeObject | null, number, { deleted: boolean; versionAt: number; name: unknown }]>(
    [
      [
        'the fresh object, at the clock when it is later',
        [a, b],
        customer({ name: 'API' }),
        T + 60,
        {
          deleted: false,
          versionAt: T + 60,
          name: 'API',
        },
      ],
      [
        'the newest event time when the clock is behind',
        [a, b],
        customer({ name: 'API' }),
        T - 60,
        {
          deleted: false,
          versionAt: T + 2,
          name: 'API',
        },
      ],
      [
        'gone from the API: the first event object, deleted',
        [a, b],
        null,
        T + 60,
        {
          deleted: true,
          versionAt: T + 60,
          name: 'B',
        },
      ],
      [
        'the API answers deleted: true',
        [a],
        customer({ name: 'API', deleted: true }),
        T,
        {
          deleted: true,
          versionAt: T,
          name: 'API',
        },
      ],
    ],
  )('%s', (_name, events, fresh, now, expected) => {
    const state = refetchedState('customers', events, fresh, now);
    expect({ deleted: state.deleted, versionAt: state.versionAt, name: state.object['name'] }).toEqual(expected);
    expect(state.table).toBe('customers');
    // No event produced it: a later redelivery of any of them is compared by time again.
    expect(state.eventId).toBeNull();
  });
});

/** Which operations the gateway may refuse while it lags (gateway/http/load-shedding.ts). */
import { GraphQLBoolean, GraphQLObjectType, GraphQLSchema, parse } from 'graphql';
import { describe, expect, test } from 'vitest';
import { createLoadShedder, isSheddable, SHEDDABLE, shedShare } from '../gateway/http/load-shedding.ts';

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ping: { type: GraphQLBoolean } } }),
  mutation: new GraphQLObjectType({
    name: 'Mutation',
    fields: {
      startTyping: { type: GraphQLBoolean, extensions: { [SHEDDABLE]: true } },
      blink: { type: GraphQLBoolean, extensions: { [SHEDDABLE]: true } },
      setPresence: { type: GraphQLBoolean },
    },
  }),
});

describe('isSheddable', () => {
  test.each([
    ['mutation { startTyping }', undefined, true],
    ['mutation { a: startTyping b: blink __typename }', undefined, true],
    ['mutation { startTyping setPresence }', undefined, false],
    ['mutation { setPresence }', undefined, false],
    ['mutation { __typename }', undefined, false],
    ['query { ping }', undefined, false],
    ['mutation T { startTyping } mutation P { setPresence }', 'T', true],
    ['mutation T { startTyping } mutation P { setPresence }', 'P', false],
    ['mutation T { startTyping } mutation P { setPresence }', undefined, false],
    ['mutation { ...F } fragment F on Mutation { startTyping }', undefined, false],
  ])('%s (%s): %s', (query, operationName, expected) => {
    const document = parse(query);
    expect(isSheddable(schema, document, operationName)).toBe(expected);
    // Cached per document and name: the same answer again.
    expect(isSheddable(schema, document, operationName)).toBe(expected);
  });
});

describe('shedShare: the share of sheddable operations refused at a smoothed lag', () => {
  test.each([
    [0, 50, 0],
    [50, 50, 0],
    [75, 50, 0.5],
    [100, 50, 1],
    [400, 50, 1],
    [1000, 0, 0],
  ])('lag %d ms, limit %d ms: %d', (lag, limit, share) => {
    expect(shedShare(lag, limit)).toBe(share);
  });
});

describe('createLoadShedder', () => {
  test('refuses sheddable operations while PLUGBOARD_SHED_IN_FLIGHT of them are under way', () => {
    const shedder = createLoadShedder({ lagMs: 0, inFlight: 2 }, schema);
    try {
      expect(shedder.isSheddable('mutation { startTyping }', undefined)).toBe(true);
      expect(shedder.isSheddable('mutation { setPresence }', undefined)).toBe(false);
      expect(shedder.isSheddable('not a document', undefined)).toBe(false);
      expect(shedder.refuses()).toBeUndefined();
      shedder.started();
      shedder.started();
      expect(shedder.refuses()).toBe('in_flight');
      shedder.finished();
      expect(shedder.refuses()).toBeUndefined();
    } finally {
      shedder.stop();
    }
  });
});

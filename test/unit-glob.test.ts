/**
 * Event-type globs (gateway/webhooks.ts), without a database: `globMatcher` filters the
 * webhookEvents subscriptions (core and Stripe), `globToLike` turns the webhookEvents(type:)
 * filter and `plugboard webhooks --type` into a LIKE pattern.
 */
import { describe, expect, it } from 'vitest';
import { globMatcher, globToLike } from '../gateway/webhooks/receiver.ts';

describe('globMatcher', () => {
  it.each<[string[], string, boolean]>([
    // No globs: everything.
    [[], 'invoice.paid', true],
    [[], '', true],
    // Exact names.
    [['invoice.paid'], 'invoice.paid', true],
    [['invoice.paid'], 'invoice.paid.extra', false],
    [['invoice.paid'], 'xinvoice.paid', false],
    [['invoice.paid'], 'Invoice.paid', false],
    // A trailing star: any suffix, the empty one too, dots included.
    [['invoice.*'], 'invoice.paid', true],
    [['invoice.*'], 'invoice.', true],
    [['invoice.*'], 'invoice.payment.failed', true],
    [['invoice.*'], 'invoice', false],
    [['invoice.*'], 'invoiceitem.created', false],
    [['invoice*'], 'invoiceitem.created', true],
    // A leading star.
    [['*.deleted'], 'customer.deleted', true],
    [['*.deleted'], 'customer.subscription.deleted', true],
    [['*.deleted'], 'customer.deleted.late', false],
    [['*.deleted'], 'deleted', false],
    // A star in the middle, and several.
    [['customer.*.deleted'], 'customer.subscription.deleted', true],
    [['customer.*.deleted'], 'customer.deleted', false],
    [['*.*'], 'a.b', true],
    [['*.*'], 'ab', false],
    [['*'], '', true],
    [['*'], 'anything.at.all', true],
    // The dot is a dot, not "any character".
    [['invoice.paid'], 'invoiceXpaid', false],
    [['a.*'], 'ab', false],
    // Other regular-expression characters are literal.
    [['a+b'], 'a+b', true],
    [['a+b'], 'aab', false],
    [['a?'], 'a', false],
    [['a?'], 'a?', true],
    [['(a|b)'], 'a', false],
    [['(a|b)'], '(a|b)', true],
    [['[ab]'], 'a', false],
    [['[ab]'], '[ab]', true],
    [['a{2}'], 'aa', false],
    [['^a$'], '^a$', true],
    [['a\\d'], 'a1', false],
    [['a\\d'], 'a\\d', true],
    // Any of several globs.
    [['invoice.*', 'customer.created'], 'customer.created', true],
    [['invoice.*', 'customer.created'], 'invoice.paid', true],
    [['invoice.*', 'customer.created'], 'customer.updated', false],
    // Anchored at both ends.
    [['paid'], 'invoice.paid', false],
    [['invoice'], 'invoice.paid', false],
  ])('%j matches %j: %s', (globs, type, expected) => {
    expect(globMatcher(globs)(type)).toBe(expected);
  });
});

describe('globToLike', () => {
  it.each<[string, string]>([
    ['invoice.paid', 'invoice.paid'],
    ['invoice.*', 'invoice.%'],
    ['*.deleted', '%.deleted'],
    ['*', '%'],
    ['a*b*c', 'a%b%c'],
    // LIKE's own wildcards and its escape character are literal in a glob.
    ['invoice_paid', 'invoice\\_paid'],
    ['100%', '100\\%'],
    ['a\\b', 'a\\\\b'],
    ['_*%', '\\_%\\%'],
    ['', ''],
  ])('%j → %j', (glob, like) => {
    expect(globToLike(glob)).toBe(like);
  });
});

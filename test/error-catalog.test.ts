/**
 * The error catalog: the gateway's codes and the registered plugins' own, each with an HTTP
 * status the routes answer with (README "Errors" lists them; test/docs.test.ts checks that).
 */
import { describe, expect, it } from 'vitest';
import { ERRORS, statusOf } from '../gateway/errors.ts';
import { selectAll } from '../gateway/plugin/selection.ts';
import { registry } from '../plugins/registry.ts';

const entries = [
  ...Object.entries(ERRORS).map(([key, entry]) => ({ owner: 'gateway', key, ...entry })),
  ...selectAll(registry).flatMap(({ manifest, plugin }) =>
    Object.entries(plugin.errors ?? {}).map(([key, entry]) => ({ owner: manifest.name, key, code: key, ...entry })),
  ),
];

describe('the error catalog', () => {
  it.each(entries)('$owner $key: UPPER_SNAKE, a 4xx or 5xx status and a description', (entry) => {
    expect(entry.code).toBe(entry.key);
    expect(entry.code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
    expect(Number.isInteger(entry.status) && entry.status >= 400 && entry.status <= 599, `${entry.status}`).toBe(true);
    expect(entry.description.length).toBeGreaterThan(0);
  });

  it('holds each code once, across the gateway and every plugin', () => {
    const codes = entries.map((entry) => entry.code);
    expect(codes.filter((code, index) => codes.indexOf(code) !== index)).toEqual([]);
  });

  it.each([
    ['NOT_FOUND', 404],
    ['RATE_LIMITED', 429],
    ['SERVICE_UNAVAILABLE', 503],
    ['IDME_SUBJECT_IN_USE', 403],
    ['NO_ONE_DECLARES_THIS', 400],
  ])('gives %s the status %i (a code no one declares: 400)', (code, status) => {
    const catalog = new Map(entries.map((entry) => [entry.code, entry]));
    expect(statusOf(catalog, code)).toBe(status);
  });
});

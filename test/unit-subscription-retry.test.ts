/** The typed client's reconnect delays (client/subscriptions.ts): jittered, doubling, capped. */
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../client/subscriptions.ts';

describe('retryDelayMs', () => {
  it.each([
    [0, 0, 500],
    [0, 1, 1000],
    [1, 0, 1000],
    [1, 0.5, 1500],
    [2, 1, 4000],
    [4, 1, 16_000],
    [5, 0, 15_000],
    [5, 1, 30_000],
    [20, 1, 30_000],
  ])('after %i retries, with random %f, waits %i ms', (retries, random, expected) => {
    expect(retryDelayMs(retries, random)).toBe(expected);
  });
});

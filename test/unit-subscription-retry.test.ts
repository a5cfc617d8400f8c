/** The typed client's reconnect delays (client/subscriptions.ts): jittered, doubling, capped. */
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../client/subscriptions.ts';

describe('retryDelayMs', () => {
  it.each([
    [0, 0, 750],
    [0, 1, 3000],
    [1, 0, 1500],
    [1, 0.5, 3750],
    [2, 1, 12_000],
    [3, 1, 24_000],
    [4, 0, 7500],
    [4, 1, 30_000],
    [20, 1, 30_000],
  ])('after %i retries, with random %f, waits %i ms', (retries, random, expected) => {
    expect(retryDelayMs(retries, random)).toBe(expected);
  });
});

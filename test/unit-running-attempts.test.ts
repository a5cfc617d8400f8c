/**
 * RunningAttempts (gateway/queue/port.ts), without a queue: the deadlines one timer serves, ends
 * by job id (cancels), and how a handler's outcome becomes the attempt's. The queue contract
 * (test/queue-contract.test.ts) checks the same through both adapters end to end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { JobTimeoutError, RunningAttempts, type JobContext, type JobHandler } from '../gateway/queue/port.ts';

const context = (id: string): Omit<JobContext, 'signal'> => ({
  id,
  queue: 'q',
  name: 'noop',
  attempt: 1,
  maxAttempts: 1,
  progress: async () => {},
});

/** A handler that ignores its signal and never settles, keeping the signal it was given. */
function hanging() {
  const signals = new Map<string, AbortSignal>();
  const handler: JobHandler = (_data, job) => {
    signals.set(job.id, job.signal);
    return new Promise(() => {});
  };
  return { handler, signals };
}

/** Tracks when a promise settled, so a test can ask whether it has yet. */
function watch(promise: Promise<unknown>) {
  const state: { settledAt?: number; error?: unknown } = {};
  promise.then(
    () => (state.settledAt = performance.now()),
    (error: unknown) => {
      state.settledAt = performance.now();
      state.error = error;
    },
  );
  return state;
}

describe('RunningAttempts', () => {
  it('times out each attempt at its own deadline, oldest first, while later ones keep running', async () => {
    const { handler, signals } = hanging();
    const attempts = new RunningAttempts(handler, 300);
    const startedA = performance.now();
    const a = watch(attempts.run({}, context('a')));
    await sleep(150); // B starts half a deadline after A
    const startedB = performance.now();
    const b = watch(attempts.run({}, context('b')));

    await expect.poll(() => a.settledAt).toBeDefined();
    expect(a.error).toBeInstanceOf(JobTimeoutError);
    expect(signals.get('a')?.aborted).toBe(true);
    expect(signals.get('a')?.reason).toBe(a.error);
    expect(a.settledAt! - startedA).toBeGreaterThanOrEqual(299);
    expect(b.settledAt).toBeUndefined();
    expect(signals.get('b')?.aborted).toBe(false);

    await expect.poll(() => b.settledAt).toBeDefined();
    expect(b.error).toBeInstanceOf(JobTimeoutError);
    expect(b.settledAt! - startedB).toBeGreaterThanOrEqual(299);
  });

  it('keeps the deadline of a later attempt when the oldest finishes first', async () => {
    let finishFirst!: () => void;
    const handler: JobHandler = (_data, job) =>
      job.id === 'first' ? new Promise<void>((resolve) => (finishFirst = resolve)) : new Promise(() => {});
    const attempts = new RunningAttempts(handler, 200);
    const first = attempts.run({}, context('first'));
    await sleep(100);
    const startedSecond = performance.now();
    const second = watch(attempts.run({}, context('second')));
    finishFirst();
    await expect(first).resolves.toBeUndefined();

    await expect.poll(() => second.settledAt).toBeDefined();
    expect(second.error).toBeInstanceOf(JobTimeoutError);
    expect(second.settledAt! - startedSecond).toBeGreaterThanOrEqual(199);
  });

  it("ends a job's attempts by id: the attempt fails with the reason, the others run on", async () => {
    let finishOther!: (value: string) => void;
    const signals = new Map<string, AbortSignal>();
    const handler: JobHandler = (_data, job) => {
      if (job.id === 'other') return new Promise((resolve) => (finishOther = resolve));
      signals.set(job.id, job.signal);
      return new Promise(() => {});
    };
    const attempts = new RunningAttempts(handler, 60_000);
    const cancelled = attempts.run({}, context('cancelled'));
    const other = attempts.run({}, context('other'));

    expect(attempts.end('cancelled', 'Cancelled')).toBe(true);
    await expect(cancelled).rejects.toBe('Cancelled');
    expect(signals.get('cancelled')?.reason).toBe('Cancelled');
    expect(attempts.end('cancelled', 'Cancelled')).toBe(false);
    expect(attempts.end('unknown', 'Cancelled')).toBe(false);

    finishOther('done');
    await expect(other).resolves.toBe('done');
  });

  it('aborts a signal the handler reads only after its attempt ended', async () => {
    let readSignal!: () => AbortSignal;
    const attempts = new RunningAttempts((_data, job) => {
      readSignal = () => job.signal;
      return new Promise(() => {});
    }, 60_000);
    const running = attempts.run({}, context('late'));
    attempts.end('late', 'Cancelled');
    await expect(running).rejects.toBe('Cancelled');
    expect(readSignal().aborted).toBe(true);
    expect(readSignal().reason).toBe('Cancelled');
  });

  it("makes the handler's signal follow the adapter's signal, without ending the attempt", async () => {
    const outer = new AbortController();
    let signal!: AbortSignal;
    let finish!: (value: string) => void;
    const attempts = new RunningAttempts((_data, job) => {
      signal = job.signal;
      return new Promise((resolve) => (finish = resolve));
    }, 60_000);
    const running = attempts.run({}, context('claimed'), outer.signal);
    outer.abort('claim lost');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('claim lost');
    finish('still done');
    await expect(running).resolves.toBe('still done');
  });

  const failure = new Error('handler failed');
  it.each<[string, JobHandler, 'resolves' | 'rejects', unknown]>([
    ['a value', async () => 42, 'resolves', 42],
    ['a value without a promise', (() => 'plain') as unknown as JobHandler, 'resolves', 'plain'],
    ['a rejection', async () => Promise.reject(failure), 'rejects', failure],
    [
      'a synchronous throw',
      () => {
        throw failure;
      },
      'rejects',
      failure,
    ],
    ['a rejection with undefined', async () => Promise.reject(undefined), 'rejects', undefined],
  ])('settles with the handler: %s', async (_label, handler, how, expected) => {
    const running = new RunningAttempts(handler, 60_000).run({}, context('x'));
    if (how === 'resolves') await expect(running).resolves.toBe(expected);
    else await expect(running).rejects.toBe(expected);
  });
});

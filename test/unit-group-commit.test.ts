/**
 * The webhook log's group commit (gateway/webhooks/receiver.ts), without a database: which calls
 * share a run. Each run is one statement and one commit, so deliveries read in the same turn of the
 * event loop must not each start their own.
 */
import { describe, expect, it } from 'vitest';
import { groupCommit } from '../gateway/webhooks/receiver.ts';

/** Runs that record their batches and finish, oldest first, at each `finishNext()`. */
function recordingRun() {
  const batches: number[][] = [];
  const pending: (() => void)[] = [];
  const run = (items: number[]) => {
    batches.push(items);
    return new Promise<number[]>((resolve) => pending.push(() => resolve(items.map((item) => item * 10))));
  };
  const finishNext = () => pending.shift()!();
  return { run, batches, finishNext };
}

describe('groupCommit', () => {
  it('hands the calls of one turn of the event loop to one run, and answers each caller with its own result', async () => {
    const { run, batches, finishNext } = recordingRun();
    const store = groupCommit(run, 500, () => false, 2);
    const answers = [1, 2, 3, 4, 5].map((item) => store(item));
    await expect.poll(() => batches).toEqual([[1, 2, 3, 4, 5]]);
    finishNext();
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50]);
  });

  it('starts a second run beside the first, and holds later calls for the run after', async () => {
    const { run, batches, finishNext } = recordingRun();
    const store = groupCommit(run, 500, () => false, 2);
    const first = store(1);
    await expect.poll(() => batches.length).toBe(1);
    const second = [2, 3].map((item) => store(item));
    await expect.poll(() => batches.length).toBe(2);
    // Both runs are in flight: 4, 5 and 6 wait, together, for one to finish.
    const third = [4, 5, 6].map((item) => store(item));
    finishNext();
    await expect.poll(() => batches).toEqual([[1], [2, 3], [4, 5, 6]]);
    finishNext();
    finishNext();
    expect(await Promise.all([first, ...second, ...third])).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('caps a run at maxBatch calls', async () => {
    const { run, batches, finishNext } = recordingRun();
    const store = groupCommit(run, 2, () => false, 1);
    const answers = [1, 2, 3, 4, 5].map((item) => store(item));
    await expect.poll(() => batches).toEqual([[1, 2]]);
    for (const expected of [[1, 2], [3, 4], [5]]) {
      await expect.poll(() => batches.at(-1)).toEqual(expected);
      finishNext();
    }
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50]);
  });

  it('runs each call of a failed shared run again on its own when the error allows, so one bad call fails alone', async () => {
    const batches: number[][] = [];
    const store = groupCommit(
      async (items: number[]) => {
        batches.push(items);
        if (items.includes(3)) throw new Error('bad item');
        return items;
      },
      500,
      () => true,
    );
    const answers = await Promise.allSettled([1, 2, 3].map((item) => store(item)));
    expect(answers.map((answer) => answer.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(batches).toEqual([[1, 2, 3], [1], [2], [3]]);
  });
});

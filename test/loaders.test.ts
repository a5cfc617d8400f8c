import { describe, expect, it } from 'vitest';
import { createLoaders } from '../gateway/loaders.ts';

describe('per-request loaders', () => {
  it('batches the lookups of one request into one call and caches them', async () => {
    const calls: number[][] = [];
    const batch = async (ids: readonly number[]) => {
      calls.push([...ids]);
      return ids.map((id) => `user-${id}`);
    };
    const loaders = createLoaders();
    const results = await Promise.all([1, 2, 3, 2].map((id) => loaders.get('users', batch).load(id)));
    expect(results).toEqual(['user-1', 'user-2', 'user-3', 'user-2']);
    expect(calls).toEqual([[1, 2, 3]]);
    expect(await loaders.get('users', batch).load(3)).toBe('user-3');
    expect(calls).toHaveLength(1);
  });

  it('keeps requests apart', async () => {
    let calls = 0;
    const batch = async (ids: readonly string[]) => {
      calls++;
      return ids;
    };
    await createLoaders().get('x', batch).load('a');
    await createLoaders().get('x', batch).load('a');
    expect(calls).toBe(2);
  });
});

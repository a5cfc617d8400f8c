/**
 * Per-request DataLoaders. A resolver asks for a loader by name with its batch function; the
 * first call in a request creates it, later calls in the same request reuse it, so every
 * lookup of a request is batched into one query and cached for that request only.
 */
import DataLoader from 'dataloader';

export interface Loaders {
  get<K, V, C = K>(
    name: string,
    batch: DataLoader.BatchLoadFn<K, V>,
    options?: DataLoader.Options<K, V, C>,
  ): DataLoader<K, V, C>;
}

export function createLoaders(): Loaders {
  // Made on first use: most operations (every subscription kept open on a socket) load nothing.
  let byName: Map<string, DataLoader<unknown, unknown, unknown>> | undefined;
  return {
    get<K, V, C = K>(name: string, batch: DataLoader.BatchLoadFn<K, V>, options?: DataLoader.Options<K, V, C>) {
      byName ??= new Map();
      let loader = byName.get(name) as DataLoader<K, V, C> | undefined;
      if (!loader) {
        loader = new DataLoader<K, V, C>(batch, options);
        byName.set(name, loader as DataLoader<unknown, unknown, unknown>);
      }
      return loader;
    },
  };
}

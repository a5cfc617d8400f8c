/**
 * cache-clear: deletes Redis keys matching a pattern (SCAN + UNLINK in batches, never KEYS) on
 * the gateway's REDIS_URL; on a Redis Cluster, on every master. Patterns that could reach
 * Plugboard's own keys (queues, pubsub, all under `plugboard:`, or `{plugboard}` on a cluster)
 * are refused.
 */
import { createRedisClient, masterNodes, PermanentJobError } from '../../../gateway/sdk.ts';
import { InvalidPayloadError, objectPayload, requiredString, type JobType } from './job-type.ts';

export interface CacheClearPayload {
  pattern: string;
}

const BATCH = 500;
/** The prefixes of the queue's, pubsub's and plugins' keys (the queue's is a hash tag on a cluster). */
const OWN_KEYS = ['plugboard:', '{plugboard}'];

export const cacheClear: JobType<CacheClearPayload> = {
  description: 'Deletes Redis keys matching a pattern',
  unavailable: (runtime) => (runtime.connections.redis ? null : 'cache-clear needs Redis: set REDIS_URL'),
  parse(raw) {
    const payload = objectPayload(raw, 'cache-clear');
    const pattern = requiredString(payload['pattern'], 'pattern');
    const literalPrefix = pattern.split(/[*?[\\]/, 1)[0]!;
    const own = OWN_KEYS.find((keys) => keys.startsWith(literalPrefix) || literalPrefix.startsWith(keys));
    if (own) {
      throw new InvalidPayloadError(
        `pattern ${JSON.stringify(pattern)} could delete Plugboard's own keys (${own}*); name your cache's prefix`,
      );
    }
    return { pattern };
  },
  async run(payload, job, runtime) {
    const target = runtime.connections.redis;
    if (!target) throw new PermanentJobError('cache-clear needs Redis: set REDIS_URL');
    const redis = createRedisClient(target, { lazyConnect: true, maxRetriesPerRequest: 2 });
    redis.on('error', () => {});
    try {
      await redis.connect();
      let deleted = 0;
      for (const node of masterNodes(redis)) {
        let cursor = '0';
        do {
          if (job.signal.aborted) throw job.signal.reason;
          const [next, keys] = await node.scan(cursor, 'MATCH', payload.pattern, 'COUNT', BATCH);
          cursor = next;
          if (keys.length === 0) continue;
          // One UNLINK a key, pipelined: a cluster refuses a multi-key UNLINK across slots.
          for (const [error, count] of (await node.pipeline(keys.map((key) => ['unlink', key])).exec()) ?? []) {
            if (error) throw error;
            deleted += Number(count);
          }
        } while (cursor !== '0');
      }
      return { pattern: payload.pattern, deleted };
    } finally {
      redis.disconnect();
    }
  },
};

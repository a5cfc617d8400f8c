/**
 * cache-clear: deletes Redis keys matching a pattern (SCAN + UNLINK in batches, never KEYS) on
 * the gateway's REDIS_URL. Patterns that could reach Plugboard's own keys (queues, pubsub, all
 * under `plugboard:`) are refused.
 */
import { Redis } from 'ioredis';
import { PermanentJobError } from '../../../gateway/sdk.ts';
import { InvalidPayloadError, objectPayload, requiredString, type JobType } from './job-type.ts';

export interface CacheClearPayload {
  pattern: string;
}

const BATCH = 500;
/** The prefix of the queue's and pubsub's keys. */
const OWN_KEYS = 'plugboard:';

export const cacheClear: JobType<CacheClearPayload> = {
  description: 'Deletes Redis keys matching a pattern',
  unavailable: (runtime) => (runtime.connections.redisUrl ? null : 'cache-clear needs Redis: set REDIS_URL'),
  parse(raw) {
    const payload = objectPayload(raw, 'cache-clear');
    const pattern = requiredString(payload['pattern'], 'pattern');
    const literalPrefix = pattern.split(/[*?[\\]/, 1)[0]!;
    if (OWN_KEYS.startsWith(literalPrefix) || literalPrefix.startsWith(OWN_KEYS)) {
      throw new InvalidPayloadError(
        `pattern ${JSON.stringify(pattern)} could delete Plugboard's own keys (${OWN_KEYS}*); name your cache's prefix`,
      );
    }
    return { pattern };
  },
  async run(payload, job, runtime) {
    const url = runtime.connections.redisUrl;
    if (!url) throw new PermanentJobError('cache-clear needs Redis: set REDIS_URL');
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    redis.on('error', () => {});
    try {
      await redis.connect();
      let cursor = '0';
      let deleted = 0;
      do {
        if (job.signal.aborted) throw job.signal.reason;
        const [next, keys] = await redis.scan(cursor, 'MATCH', payload.pattern, 'COUNT', BATCH);
        cursor = next;
        if (keys.length > 0) deleted += await redis.unlink(...keys);
      } while (cursor !== '0');
      return { pattern: payload.pattern, deleted };
    } finally {
      redis.disconnect();
    }
  },
};

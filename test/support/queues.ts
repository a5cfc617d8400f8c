/** Both queue adapters, set up the same way for the contract tests and the worker processes. */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { TestClock } from 'pg-boss';
import type { Logger } from 'pino';
import { createLogger } from '../../gateway/logger.ts';
import type { QueuePort } from '../../gateway/queue/port.ts';
import { createBullMQQueue } from '../../gateway/queue/bullmq.ts';
import { createPostgresQueue } from '../../gateway/queue/postgres.ts';
import { parseRedisUrl } from '../../gateway/redis.ts';

export type Backend = 'bullmq' | 'postgres';

export interface QueueTarget {
  backend: Backend;
  /** Redis URL for bullmq, Postgres URL for postgres. */
  url: string;
  /** BullMQ key prefix, so runs never see each other's jobs. */
  prefix: string;
}

export const testPrefix = () => `pbtest-${randomBytes(4).toString('hex')}`;

/** Deletes every key under a BullMQ prefix, so a test run leaves Redis as it found it. */
export async function dropPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Short lock and heartbeat so dead workers are noticed within seconds in tests. */
export function openQueue(target: QueueTarget, options: { log?: Logger; clock?: TestClock } = {}): Promise<QueuePort> {
  const log = options.log ?? createLogger('silent');
  return target.backend === 'bullmq'
    ? createBullMQQueue(parseRedisUrl(target.url), { prefix: target.prefix, lockDurationMs: 2000, log })
    : createPostgresQueue(target.url, {
        log,
        heartbeatSeconds: 10,
        monitorIntervalSeconds: 1,
        ...(options.clock ? { clock: options.clock } : {}),
      });
}

export interface CronHarness {
  port: QueuePort;
  /** The shortest schedule the adapter honours. */
  cron: string;
  /** Lets time pass: real time for BullMQ, pg-boss's controllable clock for Postgres. */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * BullMQ evaluates cron to the second in real time; pg-boss evaluates schedules about once a
 * minute, so its test drives pg-boss's TestClock a minute forward instead of waiting one.
 */
export async function openCronHarness(target: QueueTarget, shared: QueuePort): Promise<CronHarness> {
  if (target.backend === 'bullmq') {
    return { port: shared, cron: '* * * * * *', elapse: (ms) => sleep(ms), close: async () => {} };
  }
  const clock = new TestClock(Date.now());
  const port = await openQueue(target, { clock });
  return { port, cron: '* * * * *', elapse: (ms) => clock.tick(ms), close: () => port.close({ timeoutMs: 1000 }) };
}

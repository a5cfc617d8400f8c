/**
 * The one publish/subscribe every subscription uses. In-process by default; with REDIS_URL the
 * events travel over Redis channels so subscribers on every gateway instance receive them.
 * Payloads cross Redis as JSON: publish plain data (Dates arrive as ISO strings, no BigInt).
 * On a Redis Cluster this is classic pubsub: a PUBLISH on any node reaches subscribers on every
 * node, and ioredis moves the subscriptions to another node when theirs goes away.
 */
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, type PubSubEventTarget } from '@graphql-yoga/subscription';
import type { Logger } from 'pino';
import { createRedisClient, type RedisTarget } from './redis.ts';
import { settleWithin } from './timing.ts';

/** A named channel carrying payloads of type T. Declare once, publish and subscribe anywhere. */
export interface Topic<T> {
  readonly name: string;
  /** Type-level only: ties the payload type to the topic. */
  readonly payload?: T;
}

export function topic<T>(name: string): Topic<T> {
  return { name };
}

export interface PubSub {
  /** Publishes to every subscriber of the topic (optionally of one id within it, e.g. a room). */
  publish<T>(topic: Topic<T>, payload: T, id?: string): void;
  /** Subscribes; the iterator ends when the consumer returns (the client unsubscribes). */
  subscribe<T>(topic: Topic<T>, id?: string): AsyncIterableIterator<T>;
  /** Resolves once Redis confirms it listens on every channel subscribed so far (no-op in-process). */
  ready(): Promise<void>;
  close(): Promise<void>;
  readonly transport: 'memory' | 'redis';
}

type Channels = Record<string, [unknown]>;

function channel(topic: Topic<unknown>, id: string | undefined): string {
  return id === undefined ? `plugboard:${topic.name}` : `plugboard:${topic.name}:${id}`;
}

function wrap(inner: ReturnType<typeof createPubSub<Channels>>, rest: Omit<PubSub, 'publish' | 'subscribe'>): PubSub {
  return {
    publish: (topic, payload, id) => inner.publish(channel(topic, id), payload),
    subscribe: <T>(topic: Topic<T>, id?: string) => inner.subscribe(channel(topic, id)) as AsyncIterableIterator<T>,
    ...rest,
  };
}

export function createMemoryPubSub(): PubSub {
  return wrap(createPubSub<Channels>(), { transport: 'memory', ready: async () => {}, close: async () => {} });
}

/**
 * Subscribed to by `ready()`: a SUBSCRIBE is answered after every SUBSCRIBE sent before it on the
 * same connection, on one Redis and on a cluster's subscriber connection alike (a PING to a
 * cluster goes to any node, not necessarily the subscriber's).
 */
const READY_CHANNEL = 'plugboard:pubsub-ready';

/** Connects two Redis clients (a subscribed connection can do nothing else) and waits for both. */
export async function createRedisPubSub(
  redis: RedisTarget,
  options: { connectTimeoutMs?: number; log?: Logger } = {},
): Promise<PubSub> {
  const clientOptions = {
    lazyConnect: true,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    maxRetriesPerRequest: 3,
  };
  const publishClient = createRedisClient(redis, { ...clientOptions, connectionName: 'plugboard-publish' });
  const subscribeClient = createRedisClient(redis, { ...clientOptions, connectionName: 'plugboard-subscribe' });
  // ioredis reconnects by itself; an error event is worth a warning, not a crash.
  let connected = false;
  for (const client of [publishClient, subscribeClient]) {
    client.on('error', (error: Error) => {
      if (connected) options.log?.warn({ err: error, redis: redis.display }, 'Redis connection error; reconnecting');
    });
  }
  try {
    await Promise.all([publishClient.connect(), subscribeClient.connect()]);
  } catch (error) {
    publishClient.disconnect();
    subscribeClient.disconnect();
    throw new Error(`Redis at ${redis.display} is unreachable: ${(error as Error).message}`);
  }
  connected = true;
  const eventTarget = createRedisEventTarget({ publishClient, subscribeClient }) as PubSubEventTarget<Channels>;
  return wrap(createPubSub<Channels>({ eventTarget }), {
    transport: 'redis',
    ready: async () => {
      await subscribeClient.subscribe(READY_CHANNEL);
    },
    close: async () => {
      // quit() waits for Redis; if it has gone away, drop the connections instead.
      await settleWithin(2000, Promise.all([publishClient.quit(), subscribeClient.quit()]));
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  });
}

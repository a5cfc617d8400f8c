/**
 * The one publish/subscribe every subscription uses. In-process by default; with REDIS_URL the
 * events travel over Redis channels so subscribers on every gateway instance receive them.
 * Payloads cross Redis as JSON: publish plain data (Dates arrive as ISO strings, no BigInt).
 * On a Redis Cluster this is classic pubsub: a PUBLISH on any node reaches subscribers on every
 * node, and ioredis moves the subscriptions to another node when theirs goes away.
 */
import { setMaxListeners } from 'node:events';
import { createPubSub, type PubSubEventTarget } from '@graphql-yoga/subscription';
import type { Logger } from 'pino';
import { createRedisClient, type RedisTarget } from './redis.ts';
import { settleWithin } from './timing.ts';
import { withPublishSpan } from './tracing.ts';

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
    publish: (topic, payload, id) =>
      withPublishSpan(topic.name, rest.transport, () => inner.publish(channel(topic, id), payload)),
    subscribe: <T>(topic: Topic<T>, id?: string) => inner.subscribe(channel(topic, id)) as AsyncIterableIterator<T>,
    ...rest,
  };
}

export function createMemoryPubSub(): PubSub {
  // Every subscriber of a channel is a listener of one event: a room of 100 is 100 of them, not
  // the leak Node's warning past 10 assumes.
  const eventTarget = new EventTarget();
  setMaxListeners(0, eventTarget);
  return wrap(createPubSub<Channels>({ eventTarget: eventTarget as PubSubEventTarget<Channels> }), {
    transport: 'memory',
    ready: async () => {},
    close: async () => {},
  });
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
  const eventTarget = redisEventTarget(publishClient, subscribeClient, options.log);
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

/** What the event target needs of its two Redis connections. */
interface PubSubConnection {
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/**
 * yoga's event target over Redis channels, as @graphql-yoga/redis-event-target makes it, but one
 * that outlives Redis going away: that package leaves a failed PUBLISH or SUBSCRIBE as an
 * unhandled rejection, which ends the process. Here an event published while Redis is
 * unreachable is dropped (pubsub delivers at most once) and logged, and every channel is
 * subscribed again each time the subscriber connection is ready, including those whose
 * SUBSCRIBE failed during the outage (ioredis renews only the ones that succeeded).
 */
function redisEventTarget(
  publisher: PubSubConnection,
  subscriber: PubSubConnection,
  log: Logger | undefined,
): PubSubEventTarget<Channels> {
  const listeners = new Map<string, Set<(event: CustomEvent) => void>>();
  const callbackOf = (listener: EventListenerOrEventListenerObject) =>
    (typeof listener === 'function' ? listener : listener.handleEvent) as (event: CustomEvent) => void;
  const subscribe = (channel: string) =>
    void subscriber
      .subscribe(channel)
      .catch((error: unknown) => log?.warn({ err: error, channel }, 'Redis SUBSCRIBE failed; retried on reconnect'));
  subscriber.on('message', (channel, message) => {
    const callbacks = listeners.get(channel);
    if (!callbacks) return;
    const event = new CustomEvent(channel, { detail: message === '' ? null : JSON.parse(message) });
    for (const callback of callbacks) callback(event);
  });
  subscriber.on('ready', () => {
    for (const channel of listeners.keys()) subscribe(channel);
  });
  // One warning per outage, with the count of events dropped once publishing works again.
  let dropped = 0;
  return {
    addEventListener(channel: string, listener: EventListenerOrEventListenerObject | null) {
      if (!listener) return;
      let callbacks = listeners.get(channel);
      if (!callbacks) {
        callbacks = new Set();
        listeners.set(channel, callbacks);
        subscribe(channel);
      }
      callbacks.add(callbackOf(listener));
    },
    removeEventListener(channel: string, listener: EventListenerOrEventListenerObject | null) {
      const callbacks = listeners.get(channel);
      if (!listener || !callbacks) return;
      callbacks.delete(callbackOf(listener));
      if (callbacks.size > 0) return;
      listeners.delete(channel);
      void subscriber.unsubscribe(channel).catch(() => {}); // gone with the connection anyway
    },
    dispatchEvent(event: CustomEvent) {
      publisher.publish(event.type, event.detail === undefined ? '' : JSON.stringify(event.detail)).then(
        () => {
          if (dropped === 0) return;
          log?.warn({ dropped }, 'events published while Redis was unreachable were dropped');
          dropped = 0;
        },
        (error: unknown) => {
          if (dropped++ === 0) log?.warn({ err: error }, 'Redis PUBLISH failed; events are dropped until it is back');
        },
      );
      return true;
    },
  };
}

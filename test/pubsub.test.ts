import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { createMemoryPubSub, createRedisPubSub, topic } from '../gateway/pubsub.ts';
import { parseRedisUrl } from '../gateway/redis.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { ECHO_API_KEY } from './support/gateway.ts';
import { serveGateway, type ServingGateway } from './support/processes.ts';
import { ADMIN_SECRET, JWT_SECRET, signToken } from './support/tokens.ts';
import { connectWs } from './support/ws-client.ts';

const redisUrl = inject('redisUrl');
const ping = topic<{ n: number }>('test.ping');

async function firstValue<T>(iterator: AsyncIterator<T>): Promise<T> {
  const { value } = await iterator.next();
  return value as T;
}

describe('in-process pubsub', () => {
  it('delivers to every subscriber of a topic, and scopes by id', async () => {
    const pubsub = createMemoryPubSub();
    const all = pubsub.subscribe(ping);
    const room1 = pubsub.subscribe(ping, 'room-1');
    const room2 = pubsub.subscribe(ping, 'room-2');
    // A subscription listens from its first next() on, as graphql-js's executor calls it.
    const got1 = firstValue(room1);
    const gotAll = firstValue(all);
    const got2 = firstValue(room2);
    pubsub.publish(ping, { n: 2 }, 'room-2');
    pubsub.publish(ping, { n: 1 }, 'room-1');
    pubsub.publish(ping, { n: 0 });
    expect(await got1).toEqual({ n: 1 });
    expect(await gotAll).toEqual({ n: 0 });
    expect(await got2).toEqual({ n: 2 });
    await all.return?.();
  });

  it('takes any number of subscribers to one topic without a MaxListenersExceededWarning', async () => {
    const pubsub = createMemoryPubSub();
    const warned = vi.spyOn(process, 'emitWarning');
    try {
      const subscribers = Array.from({ length: 25 }, () => pubsub.subscribe(ping, 'busy-room'));
      const firsts = subscribers.map((subscriber) => firstValue(subscriber));
      pubsub.publish(ping, { n: 7 }, 'busy-room');
      expect(await Promise.all(firsts)).toEqual(Array.from({ length: 25 }, () => ({ n: 7 })));
      expect(warned).not.toHaveBeenCalled();
      await Promise.all(subscribers.map((subscriber) => subscriber.return?.()));
    } finally {
      warned.mockRestore();
    }
  });
});

describe.skipIf(!redisUrl)('Redis pubsub', () => {
  it('delivers between two pubsub instances (two Redis connections each)', async () => {
    const a = await createRedisPubSub(parseRedisUrl(redisUrl));
    const b = await createRedisPubSub(parseRedisUrl(redisUrl));
    try {
      const iterator = b.subscribe(ping, 'redis-unit');
      const received = firstValue(iterator);
      await b.ready();
      a.publish(ping, { n: 42 }, 'redis-unit');
      expect(await received).toEqual({ n: 42 });
      await iterator.return?.();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fails start-up clearly when Redis is unreachable, without printing credentials', async () => {
    await expect(
      createRedisPubSub(parseRedisUrl('redis://user:s3cret@127.0.0.1:1'), { connectTimeoutMs: 500 }),
    ).rejects.toThrow(/^Redis at redis:\/\/127\.0\.0\.1:1 is unreachable/);
    await expect(
      createRedisPubSub(parseRedisUrl('redis+cluster://user:s3cret@127.0.0.1:1,127.0.0.1:2'), {
        connectTimeoutMs: 500,
      }),
    ).rejects.toThrow(/^Redis at redis\+cluster:\/\/127\.0\.0\.1:1,127\.0\.0\.1:2 is unreachable/);
  });

  describe('across gateway processes', () => {
    let db: TestDatabase;
    let a: ServingGateway;
    let b: ServingGateway;

    beforeAll(async () => {
      db = await createTestDatabase();
      const env = {
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        ECHO_API_KEY,
        PLUGBOARD_JWT_SECRET: JWT_SECRET,
        PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
      };
      [a, b] = await Promise.all([serveGateway(env), serveGateway(env)]);
    });
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await db?.drop();
    });

    it('an event published through process A reaches a graphql-ws subscriber on process B', async () => {
      expect(a.url).not.toBe(b.url);
      const token = await signToken({ userId: 'observer' });
      const ws = connectWs(`${b.url.replace('http', 'ws')}/graphql`, { headers: { authorization: `Bearer ${token}` } });
      const subscription = ws.subscribe<{ echoed: { body: string } }>('subscription { echoed { body } }');
      const first = subscription.next();
      // Redis SUBSCRIBE on B completes asynchronously: publish until B has it (bounded).
      let delivered: Awaited<typeof first> | undefined;
      void first.then((value) => (delivered = value));
      await vi.waitFor(
        async () => {
          const response = await fetch(`${a.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET },
            body: JSON.stringify({ query: 'mutation { echo(body: "from A") { id } }' }),
          });
          expect(response.status).toBe(200);
          expect(delivered).toBeDefined();
        },
        { timeout: 5000, interval: 100 },
      );
      expect(await first).toEqual({ data: { echoed: { body: 'from A' } } });
      subscription.dispose();
      await ws.client.dispose();
    });

    it('reports Redis in /readyz', async () => {
      const ready = await (await fetch(`${b.url}/readyz`)).json();
      expect(ready).toMatchObject({ status: 'ok', checks: { redis: { ok: true } } });
    });
  });
});

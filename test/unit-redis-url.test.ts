/**
 * The Redis setting (gateway/redis.ts), without a Redis: the forms REDIS_URL and JOBS_REDIS_URL
 * take (one Redis, a cluster by scheme or by REDIS_CLUSTER), what a mistake says (naming the
 * variable, never the password), the client each target gets, and BullMQ's prefix on a cluster.
 */
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { loadGatewaySettings } from '../gateway/config/settings.ts';
import { queuePrefix } from '../gateway/queue/bullmq.ts';
import { createRedisClient, parseRedisUrl, type RedisTarget } from '../gateway/redis.ts';

const SECRET = 'pa55:w@rd';
const encoded = encodeURIComponent(SECRET);

describe('parseRedisUrl', () => {
  it.each<[string, boolean, RedisTarget]>([
    [
      'redis://127.0.0.1:6379',
      false,
      { cluster: false, url: 'redis://127.0.0.1:6379', display: 'redis://127.0.0.1:6379' },
    ],
    [
      `rediss://app:${encoded}@cache.internal:6380/2`,
      false,
      {
        cluster: false,
        url: `rediss://app:${encoded}@cache.internal:6380/2`,
        display: 'rediss://cache.internal:6380/2',
      },
    ],
    [
      'redis+cluster://10.0.0.1:7000,10.0.0.2:7001,10.0.0.3',
      false,
      {
        cluster: true,
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: '10.0.0.2', port: 7001 },
          { host: '10.0.0.3', port: 6379 },
        ],
        username: undefined,
        password: undefined,
        tls: false,
        display: 'redis+cluster://10.0.0.1:7000,10.0.0.2:7001,10.0.0.3:6379',
      },
    ],
    [
      `rediss+cluster://app:${encoded}@a.internal:7000, [::1]:7001/`,
      false,
      {
        cluster: true,
        nodes: [
          { host: 'a.internal', port: 7000 },
          { host: '::1', port: 7001 },
        ],
        username: 'app',
        password: SECRET,
        tls: true,
        display: 'rediss+cluster://a.internal:7000,[::1]:7001',
      },
    ],
    [
      `redis://:${encoded}@seed.internal:7000/0`,
      true,
      {
        cluster: true,
        nodes: [{ host: 'seed.internal', port: 7000 }],
        username: undefined,
        password: SECRET,
        tls: false,
        display: 'redis+cluster://seed.internal:7000',
      },
    ],
    [
      'rediss://seed.internal',
      true,
      {
        cluster: true,
        nodes: [{ host: 'seed.internal', port: 6379 }],
        username: undefined,
        password: undefined,
        tls: true,
        display: 'rediss+cluster://seed.internal:6379',
      },
    ],
    // REDIS_CLUSTER changes nothing for a URL that names a cluster already.
    [
      'redis+cluster://h:1',
      true,
      {
        cluster: true,
        nodes: [{ host: 'h', port: 1 }],
        username: undefined,
        password: undefined,
        tls: false,
        display: 'redis+cluster://h:1',
      },
    ],
  ])('%s (REDIS_CLUSTER=%s)', (url, cluster, expected) => {
    expect(parseRedisUrl(url, { cluster })).toEqual(expected);
  });

  it.each<[string, boolean, RegExp]>([
    ['not a url', false, /^is not a URL: expected redis:\/\/, rediss:\/\/, or redis\+cluster:\/\//],
    ['http://cache:6379', false, /^has the scheme http:\/\/: expected/],
    ['redis+cluster://', false, /^names no cluster node: expected host:port,host:port$/],
    [`redis+cluster://u:${encoded}@`, false, /^names no cluster node/],
    ['redis+cluster://a:7000,,b:7001', false, /^has a cluster node "": expected host:port$/],
    ['redis+cluster://a:7000,b:port', false, /^has a cluster node "b:port": expected host:port$/],
    ['redis+cluster://a:70000', false, /^has a cluster node "a:70000" whose port is not from 1 to 65535$/],
    ['redis+cluster://a:0', false, /whose port is not from 1 to 65535$/],
    ['redis+cluster://a:7000/3', false, /^names a database, but a Redis Cluster has only database 0/],
    ['redis://a:7000/3', true, /^names a database, but a Redis Cluster has only database 0/],
    ['redis+cluster://a:7000?tls=true', false, /^takes no query parameters for a Redis Cluster$/],
    ['redis://a:7000?family=6', true, /^takes no query parameters for a Redis Cluster$/],
    ['redis+cluster://u:%zz@a:7000', false, /^has credentials that are not validly percent-encoded$/],
  ])('refuses %s (REDIS_CLUSTER=%s)', (url, cluster, message) => {
    expect(() => parseRedisUrl(url, { cluster })).toThrow(message);
  });

  it('never puts the password in what it shows or says', () => {
    for (const url of [`redis://app:${encoded}@h:1`, `redis+cluster://app:${encoded}@h:1`]) {
      expect(parseRedisUrl(url).display).not.toContain('w@rd');
      expect(parseRedisUrl(url).display).not.toContain(encoded);
    }
    expect(() => parseRedisUrl(`redis+cluster://app:${encoded}@h:x`)).toThrow(/^has a cluster node "h:x"/);
  });
});

describe('the gateway settings', () => {
  it.each<[Record<string, string>, boolean | null, boolean | null]>([
    [{}, null, null],
    [{ REDIS_URL: 'redis://h:1' }, false, false],
    [{ REDIS_URL: 'redis+cluster://h:1,h:2' }, true, true],
    [{ REDIS_URL: 'redis://h:1', REDIS_CLUSTER: 'true' }, true, true],
    [{ REDIS_URL: 'redis://h:1', JOBS_REDIS_URL: 'redis+cluster://q:1' }, false, true],
    [{ JOBS_REDIS_URL: 'redis://q:1', REDIS_CLUSTER: 'true' }, null, true],
  ])('%o: REDIS_URL cluster %s, queue cluster %s', (env, pubsubCluster, queueCluster) => {
    const settings = loadGatewaySettings(env);
    expect(settings.redis?.cluster ?? null).toBe(pubsubCluster);
    expect(settings.queueRedis?.cluster ?? null).toBe(queueCluster);
  });

  it.each<[Record<string, string>, RegExp]>([
    [
      { REDIS_URL: `redis+cluster://app:${SECRET}@a:1,b:x` },
      /REDIS_URL \(gateway\): has a cluster node "b:x": expected host:port/,
    ],
    [
      { REDIS_URL: `redis://app:${encoded}@a:1/4`, REDIS_CLUSTER: 'yes' },
      /REDIS_URL \(gateway\): names a database, but a Redis Cluster has only database 0/,
    ],
    [
      { REDIS_URL: 'redis://a:1', JOBS_REDIS_URL: `rediss+cluster://app:${encoded}@` },
      /JOBS_REDIS_URL \(gateway\): names no cluster node/,
    ],
    [{ REDIS_URL: `memcached://app:${encoded}@a:1` }, /REDIS_URL \(gateway\): the value given is invalid/],
    [{ REDIS_URL: 'redis://a:1', REDIS_CLUSTER: 'maybe' }, /REDIS_CLUSTER \(gateway\): "maybe" is invalid/],
  ])('stop start-up naming the variable, never the password: %o', (env, message) => {
    let thrown: Error | undefined;
    try {
      loadGatewaySettings(env);
    } catch (error) {
      thrown = error as Error;
    }
    expect(thrown?.message).toMatch(message);
    expect(thrown?.message).not.toContain('w@rd');
    expect(thrown?.message).not.toContain(encoded);
  });
});

describe('createRedisClient', () => {
  it('makes a Redis for one Redis, with the options given', () => {
    const client = createRedisClient(parseRedisUrl('redis://u:p@127.0.0.1:1/3'), {
      lazyConnect: true,
      connectionName: 'plugboard-test',
      maxRetriesPerRequest: null,
    });
    expect(client).toBeInstanceOf(Redis);
    expect((client as Redis).options).toMatchObject({
      host: '127.0.0.1',
      port: 1,
      db: 3,
      username: 'u',
      password: 'p',
      connectionName: 'plugboard-test',
      maxRetriesPerRequest: null,
    });
    client.disconnect();
  });

  it('makes a Cluster seeded with the nodes named, credentials and TLS on every node', () => {
    const client = createRedisClient(parseRedisUrl(`rediss+cluster://app:${encoded}@a:7000,b:7001`), {
      lazyConnect: true,
      connectionName: 'plugboard-test',
    });
    expect(client).toBeInstanceOf(Cluster);
    const { redisOptions } = (client as Cluster).options;
    expect(redisOptions).toMatchObject({
      username: 'app',
      password: SECRET,
      tls: {},
      connectionName: 'plugboard-test',
    });
    expect((client as Cluster).options.lazyConnect).toBe(true);
    client.disconnect();
  });
});

describe('queuePrefix', () => {
  it.each<[string, boolean, string]>([
    // One Redis keeps the layout existing deployments have.
    ['plugboard', false, 'plugboard'],
    ['plugboard', true, '{plugboard}'],
    ['pbtest-1a2b', true, '{pbtest-1a2b}'],
    // A prefix with a hash tag already is left alone.
    ['{tenant-a}:jobs', true, '{tenant-a}:jobs'],
  ])('%s (cluster %s) → %s', (prefix, cluster, expected) => {
    const target = parseRedisUrl(cluster ? 'redis+cluster://h:1' : 'redis://h:1');
    expect(queuePrefix(target, prefix)).toBe(expected);
  });
});

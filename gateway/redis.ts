/**
 * Where Redis is, and the one place Redis clients are made. A setting names one Redis
 * (`redis://`, `rediss://`) or a Redis Cluster: `redis+cluster://host:port,host:port` (TLS:
 * `rediss+cluster://`), or a plain URL of one node with REDIS_CLUSTER=true. A cluster gets ioredis'
 * `Cluster` client, which finds every node from the seeds and follows failovers; callers see the
 * same commands either way, so nothing else needs to know, except code that scans keys
 * (`masterNodes`) or puts several keys in one command (they must share a hash tag).
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** A single Redis or a cluster: both take the same commands. */
export type RedisClient = Redis | Cluster;

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** A parsed Redis setting. Holds credentials: show `display`, never the rest. */
export type RedisTarget =
  | { readonly cluster: false; readonly url: string; readonly display: string }
  | {
      readonly cluster: true;
      readonly nodes: readonly RedisNode[];
      readonly username: string | undefined;
      readonly password: string | undefined;
      readonly tls: boolean;
      readonly display: string;
    };

const DEFAULT_PORT = 6379;
const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\/(.*)$/s;

/**
 * Parses a Redis setting. `cluster` (REDIS_CLUSTER=true) makes a `redis://` URL name one seed node
 * of a cluster. Throws an Error whose message quotes no credentials.
 */
export function parseRedisUrl(value: string, options: { cluster?: boolean } = {}): RedisTarget {
  const text = value.trim();
  const clusterUrl = CLUSTER_SCHEME.exec(text);
  if (clusterUrl) return parseClusterUrl(clusterUrl[1] === 'rediss', clusterUrl[2]!);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('is not a URL: expected redis://, rediss://, or redis+cluster://host:port,host:port');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new Error(
      `has the scheme ${url.protocol}//: expected redis://, rediss://, or redis+cluster://host:port,host:port`,
    );
  if (!url.hostname) throw new Error('names no host');
  if (!options.cluster) return { cluster: false, url: text, display: redactUrl(url) };
  if (url.search) throw new Error('takes no query parameters for a Redis Cluster');
  checkClusterDatabase(url.pathname);
  const tls = url.protocol === 'rediss:';
  const node = parseNode(url.host);
  return {
    cluster: true,
    nodes: [node],
    ...credentials(url.username, url.password),
    tls,
    display: clusterDisplay(tls, [node]),
  };
}

function parseClusterUrl(tls: boolean, rest: string): RedisTarget {
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  if (/[?#]/.test(tail)) throw new Error('takes no query parameters for a Redis Cluster');
  checkClusterDatabase(tail);
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? '' : authority.slice(0, at);
  const colon = userinfo.indexOf(':');
  const hosts = authority.slice(at + 1).split(',');
  if (hosts.every((host) => host.trim() === '')) throw new Error('names no cluster node: expected host:port,host:port');
  const nodes = hosts.map((host) => parseNode(host.trim()));
  return {
    cluster: true,
    nodes,
    ...credentials(colon === -1 ? userinfo : userinfo.slice(0, colon), colon === -1 ? '' : userinfo.slice(colon + 1)),
    tls,
    display: clusterDisplay(tls, nodes),
  };
}

/** A cluster serves database 0 only. */
function checkClusterDatabase(path: string): void {
  if (path !== '' && path !== '/' && path !== '/0')
    throw new Error('names a database, but a Redis Cluster has only database 0: drop the path');
}

/** `host:port`, `host` (port 6379) or `[v6 address]:port`; the text is quoted in errors (no secrets in it). */
function parseNode(text: string): RedisNode {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/@,]+)(?::(\d+))?$/.exec(text);
  if (!match) throw new Error(`has a cluster node ${JSON.stringify(text)}: expected host:port`);
  const port = match[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`has a cluster node ${JSON.stringify(text)} whose port is not from 1 to 65535`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

function credentials(user: string, password: string): { username: string | undefined; password: string | undefined } {
  try {
    return {
      username: user ? decodeURIComponent(user) : undefined,
      password: password ? decodeURIComponent(password) : undefined,
    };
  } catch {
    throw new Error('has credentials that are not validly percent-encoded');
  }
}

function clusterDisplay(tls: boolean, nodes: readonly RedisNode[]): string {
  const hosts = nodes.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`);
  return `${tls ? 'rediss' : 'redis'}+cluster://${hosts.join(',')}`;
}

/** The URL without user or password, for messages. */
function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

export interface RedisClientOptions {
  /** CLIENT SETNAME on each connection, so `CLIENT LIST` shows who holds it. */
  connectionName?: string;
  /** Retries of a command while Redis is unreachable; null retries until it answers (BullMQ needs that). */
  maxRetriesPerRequest?: number | null;
  /** Connect on `connect()` (or the first command) instead of at once. */
  lazyConnect?: boolean;
  connectTimeoutMs?: number;
}

/**
 * How long a cluster client keeps retrying a command whose master is gone: each retry waits
 * `retryDelayOnFailover` and counts as a redirection. Redis promotes a replica after the
 * cluster's node timeout plus an election (about 2 s at a 1 s node timeout); 50 × 200 ms covers
 * ten seconds of it, so commands wait for the promotion instead of failing.
 */
const FAILOVER_RETRY = { retryDelayOnFailover: 200, retryDelayOnClusterDown: 200, maxRedirections: 50 };

/** A client for the target: `Redis` for one Redis, `Cluster` seeded with the nodes named. */
export function createRedisClient(target: RedisTarget, options: RedisClientOptions = {}): RedisClient {
  const nodeOptions: RedisOptions = {};
  if (options.connectionName !== undefined) nodeOptions.connectionName = options.connectionName;
  if (options.maxRetriesPerRequest !== undefined) nodeOptions.maxRetriesPerRequest = options.maxRetriesPerRequest;
  if (options.connectTimeoutMs !== undefined) nodeOptions.connectTimeout = options.connectTimeoutMs;
  if (!target.cluster) return new Redis(target.url, { ...nodeOptions, lazyConnect: options.lazyConnect ?? false });
  return new Cluster(
    target.nodes.map(({ host, port }) => ({ host, port })),
    {
      lazyConnect: options.lazyConnect ?? false,
      ...FAILOVER_RETRY,
      redisOptions: {
        ...nodeOptions,
        username: target.username,
        password: target.password,
        ...(target.tls ? { tls: {} } : {}),
      },
      // With TLS, connect by the name given so the certificate is checked against it.
      ...(target.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    },
  );
}

/** The connections holding keys: the client itself, or every master of a cluster (to SCAN each). */
export function masterNodes(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

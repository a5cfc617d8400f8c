/**
 * A real Redis Cluster for tests: six `redis-server` processes (three masters, three replicas) on
 * free loopback ports in a temporary directory, joined by `redis-cli --cluster create`. It can
 * SIGKILL a master and wait for its replica's promotion. It never touches port 6379.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { expect, vi } from 'vitest';

const NODES = 6;
/** Short, so a killed master is failed over in about two seconds. */
const NODE_TIMEOUT_MS = 1000;

/** Whether `redis-server` and `redis-cli` are on the PATH. */
export function redisClusterToolsPresent(): boolean {
  return ['redis-server', 'redis-cli'].every((tool) => spawnSync(tool, ['--version']).status === 0);
}

export interface RedisClusterNode {
  port: number;
  child: ChildProcess;
}

export interface TestRedisCluster {
  /** `redis+cluster://` naming every node as a seed. */
  url: string;
  nodes: RedisClusterNode[];
  /** A plain connection to one node (made on first use, closed by `stop`). */
  node(port: number): Redis;
  /** The port of the master serving a key's slot now. */
  masterOf(key: string): Promise<number>;
  /** The ports of the masters now. */
  masters(): Promise<number[]>;
  /**
   * Waits until the master's replica has every write (replication is asynchronous: a write the
   * replica lacks would be lost with the master), SIGKILLs the master, and resolves with the
   * replica's port once it is master and every node says the cluster is ok.
   */
  killMaster(port: number): Promise<{ promoted: number; tookMs: number }>;
  stop(): Promise<void>;
}

/** Ports free on 127.0.0.1, all held at once so none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

function startNode(dir: string, port: number, busPort: number): Promise<RedisClusterNode> {
  return new Promise((resolve, reject) => {
    // biome-ignore format: one option a line
    const child = spawn('redis-server', [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes',
      '--cluster-port', String(busPort),
      '--cluster-config-file', `nodes-${port}.conf`,
      '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve({ port, child });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`redis-server :${port} exited (${code ?? signal}):\n${output}`)),
    );
  });
}

/** INFO section as a map: `role` → `master`, … */
async function info(redis: Redis, section: string): Promise<Map<string, string>> {
  const text = await redis.info(section);
  return new Map(
    text
      .split('\r\n')
      .filter((line) => line.includes(':') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)] as [string, string]),
  );
}

export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'plugboard-redis-cluster-'));
  const ports = await freePorts(2 * NODES);
  const nodes: RedisClusterNode[] = [];
  const connections = new Map<number, Redis>();
  const killed = new Set<number>();
  const node = (port: number) => {
    let redis = connections.get(port);
    if (!redis) {
      redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null });
      redis.on('error', () => {}); // a killed node's connection errors; its commands then fail
      connections.set(port, redis);
    }
    return redis;
  };
  const live = () => nodes.filter((n) => !killed.has(n.port));
  const slots = async () => node(live()[0]!.port).cluster('SLOTS');
  const masters = async () => [...new Set((await slots()).map((range) => range[2]![1]))].sort();
  /** Every live node says ok, and every master has a replica in sync (`expectReplicas`). */
  const settled = (expectReplicas: boolean) =>
    vi.waitFor(
      async () => {
        for (const { port } of live())
          expect((await node(port).cluster('INFO')) as string, `node ${port}`).toContain('cluster_state:ok');
        const current = await masters();
        expect(current).toHaveLength(3);
        if (expectReplicas)
          for (const port of current) expect((await info(node(port), 'replication')).get('connected_slaves')).toBe('1');
      },
      { timeout: 30_000, interval: 100 },
    );

  const stop = async () => {
    for (const redis of connections.values()) redis.disconnect();
    await Promise.all(
      nodes.map(
        ({ child }) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
            child.once('exit', resolve);
            child.kill('SIGKILL');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };

  try {
    nodes.push(
      ...(await Promise.all(Array.from({ length: NODES }, (_, i) => startNode(dir, ports[i]!, ports[NODES + i]!)))),
    );
    await promisify(execFile)('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map(({ port }) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    await settled(true);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url: `redis+cluster://${nodes.map(({ port }) => `127.0.0.1:${port}`).join(',')}`,
    nodes,
    node,
    masters,
    async masterOf(key) {
      const slot = (await node(live()[0]!.port).cluster('KEYSLOT', key)) as number;
      const range = (await slots()).find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return range[2]![1];
    },
    async killMaster(port) {
      const master = node(port);
      const replicaPort = await vi.waitFor(
        async () => {
          const replication = await info(master, 'replication');
          const replica = /port=(\d+),state=online,offset=(\d+)/.exec(replication.get('slave0') ?? '');
          expect(replica, `a replica of ${port} in sync`).not.toBeNull();
          expect(replica![2]).toBe(replication.get('master_repl_offset'));
          return Number(replica![1]);
        },
        { timeout: 10_000, interval: 20 },
      );
      const victim = nodes.find((n) => n.port === port)!;
      const exited = new Promise((resolve) => victim.child.once('exit', resolve));
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      await exited;
      killed.add(port);
      connections.get(port)?.disconnect();
      await vi.waitFor(async () => expect((await info(node(replicaPort), 'replication')).get('role')).toBe('master'), {
        timeout: 30_000,
        interval: 50,
      });
      await settled(false);
      return { promoted: replicaPort, tookMs: Date.now() - killedAt };
    },
    stop,
  };
}

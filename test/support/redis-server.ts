/**
 * A redis-server of the test's own, on a free port of 127.0.0.1, without persistence: for tests
 * that pause, fill or share Redis between processes they start, without touching the machine's
 * shared Redis (whose `plugboard` BullMQ queues other tests' workers take jobs from).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { vi } from 'vitest';

export interface OwnRedis {
  url: string;
  /** A client for the test itself (CLIENT PAUSE, key counts). */
  client: Redis;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

export async function startRedisServer(): Promise<OwnRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  try {
    await vi.waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited:\n${output}`);
        const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on('error', () => {}); // the rejected connect says it
        try {
          await probe.connect();
          await probe.ping();
        } finally {
          probe.disconnect();
        }
      },
      { timeout: 10_000, interval: 50 },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  return {
    url,
    client,
    async close() {
      client.disconnect();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

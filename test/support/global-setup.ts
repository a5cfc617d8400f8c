/**
 * Finds the services the tests run against: the machine's Postgres (or, on a machine without
 * one, an embedded Postgres started here) and Redis (tests that need it are skipped, loudly,
 * when none answers; with CI set, a missing Redis fails the run).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../../gateway/logger.ts';
import { startEmbeddedPostgres } from '../../gateway/db.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A Postgres URL whose user may CREATE DATABASE. */
    postgresAdminUrl: string;
    /** A reachable Redis, or '' when there is none. */
    redisUrl: string;
  }
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {}); // the connect() rejection below says it
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export default async function setup(project: TestProject) {
  const cleanups: (() => Promise<void>)[] = [];
  let postgresAdminUrl = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  if (!(await reachable(postgresAdminUrl))) {
    const dir = await mkdtemp(join(tmpdir(), 'plugboard-test-pg-'));
    console.warn(
      `[tests] no Postgres at ${postgresAdminUrl.replace(/:[^:@/]*@/, '@')}; starting an embedded Postgres in ${dir}`,
    );
    const embedded = await startEmbeddedPostgres({ dataDir: dir, port: undefined, log: createLogger('warn') });
    postgresAdminUrl = embedded.url;
    cleanups.push(async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    });
  }

  const redisUrl = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const redisUp = await redisAnswers(redisUrl);
  if (!redisUp && process.env['CI']) {
    // CI starts Redis (.ci/run): a run that skipped every Redis test would pass with half the suite unrun.
    throw new Error(
      `[tests] CI is set but no Redis answers at ${redisUrl}: start Redis (or set TEST_REDIS_URL); Redis tests are not skipped in CI`,
    );
  }
  if (!redisUp) {
    console.warn(`\n[tests] *** SKIPPING every Redis test: no Redis answers at ${redisUrl} (set TEST_REDIS_URL) ***\n`);
  }
  project.provide('postgresAdminUrl', postgresAdminUrl);
  project.provide('redisUrl', redisUp ? redisUrl : '');

  // One CLI start fills Node's compile cache with every module the CLI loads, so the many CLI
  // processes the tests start each skip compiling them (a fresh checkout has an empty cache).
  await promisify(execFile)(process.execPath, [new URL('./cli-with-echo.ts', import.meta.url).pathname, '--help']);

  return async () => {
    for (const cleanup of cleanups) await cleanup();
  };
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startHttpTarget, type HttpTarget } from './support/http-target.ts';
import { runCli } from './support/processes.ts';

let db: TestDatabase;
let target: HttpTarget;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  target = await startHttpTarget();
  env = { DATABASE_URL: db.url, JOBS_HTTP_ALLOWED_HOSTS: target.host, JOBS_RETRY_DELAY: '100' };
});
afterAll(async () => {
  await target?.close();
  await db?.drop();
});

describe('plugboard jobs', () => {
  it('enqueues, works the job in a worker process, and reports stats', async () => {
    const enqueued = await runCli(
      [
        'jobs',
        'enqueue',
        'http-request',
        '--payload',
        JSON.stringify({ url: `${target.url}/ok`, body: 'from the CLI' }),
      ],
      env,
    );
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const id = enqueued.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const cli = fileURLToPath(new URL('./support/cli-with-echo.ts', import.meta.url));
    const worker = spawn(process.execPath, [cli, 'jobs', 'worker', 'default', '--concurrency', '2'], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
    });
    let output = '';
    worker.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
    try {
      await vi.waitFor(
        () => expect(target.callsTo('/ok'), `the worker did not run the job:\n${output}`).not.toEqual([]),
        {
          timeout: 20_000,
          interval: 100,
        },
      );
      expect(output).toMatch(/working default on postgres/);
      expect(target.callsTo('/ok')[0]!.body).toBe('from the CLI');
      // The worker writes the history; wait for the completion to land.
      await vi.waitFor(
        async () => {
          const { rows } = await db.pool.query('SELECT state FROM jobs.jobs WHERE id = $1', [id]);
          expect(rows[0]?.state, output).toBe('completed');
        },
        { timeout: 10_000, interval: 100 },
      );
    } finally {
      worker.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).toMatch(/stopping: letting running jobs finish/);

    const stats = await runCli(['jobs', 'stats'], env);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/queue\s+backend\s+waiting\s+delayed\s+active\s+completed\s+failed\s+cancelled/);
    expect(stats.stdout).toMatch(/default\s+postgres\s+0\s+0\s+0\s+1\s+0\s+0/);
  });

  it('adds, lists and removes schedules', async () => {
    const added = await runCli(
      [
        'jobs',
        'schedule',
        'add',
        '*/5 * * * *',
        'http-request',
        '--payload',
        JSON.stringify({ url: `${target.url}/ok` }),
        '--timezone',
        'Asia/Tokyo',
      ],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
    const id = added.stdout.trim();
    const listed = await runCli(['jobs', 'schedule', 'list'], env);
    expect(listed.stdout).toMatch(
      new RegExp(`${id}\\s+default\\s+http-request\\s+\\*/5 \\* \\* \\* \\*\\s+Asia/Tokyo`),
    );
    expect((await runCli(['jobs', 'schedule', 'remove', id], env)).stdout).toBe(`removed ${id}\n`);
    const again = await runCli(['jobs', 'schedule', 'remove', id], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(`No schedule ${id}`);
  });

  it('exits 2 with the reason on bad input', async () => {
    const badType = await runCli(['jobs', 'enqueue', 'teleport'], env);
    expect(badType.code).toBe(2);
    // The service's InputError, printed as is: the message alone, no stack.
    expect(badType.stderr).toMatch(/^No job type "teleport" on queue "default"; its types: /m);
    expect(badType.stderr).not.toMatch(/InputError|plugboard:|\bat /);
    const badJson = await runCli(['jobs', 'enqueue', 'http-request', '--payload', '{nope'], env);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/--payload is not valid JSON/);
    const badHost = await runCli(['jobs', 'enqueue', 'http-request', '--payload', '{"url":"http://10.0.0.1/"}'], env);
    expect(badHost.code).toBe(2);
    expect(badHost.stderr).toMatch(/host 10.0.0.1 is not in JOBS_HTTP_ALLOWED_HOSTS/);
    const badCron = await runCli(['jobs', 'schedule', 'add', 'often', 'http-request'], env);
    expect(badCron.code).toBe(2);
    const unknownJob = await runCli(['jobs', 'retry', '00000000-0000-4000-8000-000000000000'], env);
    expect(unknownJob.code).toBe(2);
    expect(unknownJob.stderr).toMatch(/No job 00000000-0000-4000-8000-000000000000 on queue "default"/);
    const badQueue = await runCli(['jobs', 'worker', 'nowhere'], env);
    expect(badQueue.code).toBe(2);
    expect(badQueue.stderr).toMatch(
      /No handlers for queue nowhere; queues with handlers: default, notifications, files, retention$/m,
    );
  });

  it('looks a job up by its queue and id (ids repeat across queues)', async () => {
    const otherQueue = await runCli(['jobs', 'retry', '1', '--queue', 'notifications'], env);
    expect(otherQueue.code).toBe(2);
    expect(otherQueue.stderr).toMatch(/No job 1 on queue "notifications"/);
  });
});

import { createHmac, randomInt } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { startHttpTarget, type HttpTarget } from './support/http-target.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import type { JobsConfig } from '../plugins/jobs/config.ts';
import { checkAddresses, httpRequest } from '../plugins/jobs/job-types/http-request.ts';
import { InvalidPayloadError } from '../plugins/jobs/job-types/job-type.ts';
import { fileCleanup } from '../plugins/jobs/job-types/file-cleanup.ts';
import { connectWs } from './support/ws-client.ts';
import type { BullMQQueuePort } from '../gateway/queue/port.ts';

const SIGNING_SECRET = 'jobs-signing-secret-0123456789';
const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
const JOB_FIELDS =
  'id queue type state payload result lastError attemptsMade maxAttempts requestedBy failures { attempt error willRetry }';

interface JobView {
  id: string;
  queue: string;
  type: string;
  state: string;
  payload: unknown;
  result: Record<string, unknown> | null;
  lastError: string | null;
  attemptsMade: number;
  maxAttempts: number | null;
  requestedBy: string | null;
  failures: { attempt: number; error: string; willRetry: boolean }[];
}

/** The plugin's config for checking payloads without a gateway. */
const jobsConfig = (overrides: Partial<JobsConfig>): JobsConfig => ({
  dashboardEnabled: false,
  concurrency: 1,
  retryAttempts: 1,
  retryDelayMs: 0,
  timeoutMs: 60_000,
  historyRetentionDays: 30,
  enqueueRoles: ['admin'],
  httpAllowedHosts: [],
  httpSigningSecret: undefined,
  backupDir: '/nonexistent',
  filesRoot: undefined,
  ...overrides,
});

let db: TestDatabase;
let target: HttpTarget;
let gateway: TestGateway;
let scratch: string;

async function enqueue(
  g: TestGateway,
  type: string,
  payload: unknown,
  options: Record<string, unknown> = {},
  headers: Record<string, string> = admin,
  queue = 'default',
) {
  return g.gql(
    'mutation($queue: String, $type: String!, $payload: JSON, $options: EnqueueJobOptions) { enqueueJob(queue: $queue, type: $type, payload: $payload, options: $options) { id state type queue } }',
    {
      variables: { queue, type, payload, options },
      headers,
    },
  );
}

async function enqueued(
  g: TestGateway,
  type: string,
  payload: unknown,
  options: Record<string, unknown> = {},
  queue = 'default',
): Promise<string> {
  const { body } = await enqueue(g, type, payload, options, admin, queue);
  expect(body.errors).toBeUndefined();
  return (body.data!['enqueueJob'] as { id: string }).id;
}

async function jobOf(g: TestGateway, id: string, headers: Record<string, string> = admin, queue?: string) {
  const query = queue
    ? `query($id: ID!, $queue: String) { job(id: $id, queue: $queue) { ${JOB_FIELDS} } }`
    : `query($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;
  return g.gql(query, { variables: { id, ...(queue ? { queue } : {}) }, headers });
}

/** Waits until the history shows the job finished (or in `states`). */
async function settled(
  g: TestGateway,
  id: string,
  states = ['COMPLETED', 'FAILED', 'CANCELLED'],
  timeoutMs = 20_000,
  queue?: string,
): Promise<JobView> {
  return vi.waitFor(
    async () => {
      const job = (await jobOf(g, id, admin, queue)).body.data?.['job'] as JobView | undefined;
      expect(states, `job ${id}`).toContain(job?.state);
      return job!;
    },
    { timeout: timeoutMs, interval: 100 },
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  target = await startHttpTarget();
  scratch = await mkdtemp(join(tmpdir(), 'plugboard-jobs-'));
  await chmod(scratch, 0o755);
  await mkdir(join(scratch, 'files', 'logs'), { recursive: true });
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: {
      // Without the notifications plugin: send-email must say it has no one to hand mail to.
      PLUGBOARD_PLUGINS: 'core,jobs,echo',
      JOBS_HTTP_ALLOWED_HOSTS: `${target.host},*.example.test`,
      JOBS_HTTP_SIGNING_SECRET: SIGNING_SECRET,
      JOBS_RETRY_DELAY: '100',
      JOBS_FILES_ROOT: join(scratch, 'files'),
      JOBS_BACKUP_DIR: join(scratch, 'backups'),
      JOBS_ENQUEUE_ROLES: 'admin,user',
    },
  });
});

afterAll(async () => {
  await gateway?.close();
  await target?.close();
  await db?.drop();
  await rm(scratch, { recursive: true, force: true });
});

describe('http-request', () => {
  it('calls an allowed host, signs the body, and records the job and its result', async () => {
    const id = await enqueued(gateway, 'http-request', {
      url: `${target.url}/ok`,
      method: 'POST',
      body: { order: 42 },
    });
    const job = await settled(gateway, id);
    expect(job).toMatchObject({
      state: 'COMPLETED',
      type: 'http-request',
      queue: 'default',
      attemptsMade: 1,
      maxAttempts: 3,
      requestedBy: null,
      failures: [],
    });
    expect(job.result).toMatchObject({ status: 200, body: JSON.stringify({ ok: true, received: '{"order":42}' }) });

    const [call] = target.callsTo('/ok');
    expect(call!.headers['content-type']).toBe('application/json');
    const [t, v1] = String(call!.headers['x-plugboard-signature']).split(',');
    const expected = createHmac('sha256', SIGNING_SECRET)
      .update(`${t!.slice(2)}.${call!.body}`)
      .digest('hex');
    expect(v1).toBe(`v1=${expected}`);

    // The history is written in batches: wait for the batch.
    const historyRows = async () =>
      (
        await db.pool.query(
          'SELECT j.state, j.payload, r.result FROM jobs.jobs j JOIN jobs.job_results r ON r.job_id = j.id WHERE j.id = $1',
          [id],
        )
      ).rows;
    await expect.poll(historyRows, { timeout: 5000, interval: 100 }).toHaveLength(1);
    expect(await historyRows()).toEqual([
      {
        state: 'completed',
        payload: { url: `${target.url}/ok`, method: 'POST', body: { order: 42 } },
        result: job.result,
      },
    ]);
  });

  it('retries on a 5xx answer, recording each failed attempt', async () => {
    const id = await enqueued(gateway, 'http-request', { url: `${target.url}/flaky?fail=1&key=retry`, method: 'GET' });
    const job = await settled(gateway, id);
    expect(job).toMatchObject({ state: 'COMPLETED', attemptsMade: 2, result: { status: 200, body: 'recovered' } });
    expect(job.failures).toEqual([{ attempt: 1, error: expect.stringContaining('answered 503'), willRetry: true }]);
    expect(target.calls.filter((c) => c.url === '/flaky?fail=1&key=retry')).toHaveLength(2);
  });

  it('fails at once, without retries, on a 4xx answer or a redirect', async () => {
    const bad = await settled(gateway, await enqueued(gateway, 'http-request', { url: `${target.url}/bad` }));
    expect(bad).toMatchObject({ state: 'FAILED', attemptsMade: 1 });
    expect(bad.lastError).toMatch(/answered 422: unprocessable/);
    const redirect = await settled(
      gateway,
      await enqueued(gateway, 'http-request', { url: `${target.url}/redirect`, method: 'GET' }),
    );
    expect(redirect.lastError).toMatch(
      /answered 302 redirecting to http:\/\/example.com\/; redirects are not followed/,
    );
    expect(target.callsTo('/bad')).toHaveLength(1);
  });

  it('refuses a host outside JOBS_HTTP_ALLOWED_HOSTS when enqueued, and again when run', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://localhost:5432/',
      `${target.url.replace('127.0.0.1', 'localhost')}/ok`,
    ]) {
      const { body } = await enqueue(gateway, 'http-request', { url });
      expect(body.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/is not in JOBS_HTTP_ALLOWED_HOSTS/),
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    // Enqueued behind the API's back, the job still refuses to run.
    const { id } = await gateway.queue.add(
      'default',
      'http-request',
      { url: 'http://169.254.169.254/latest/meta-data' },
      { attempts: 3 },
    );
    const job = await settled(gateway, id);
    expect(job).toMatchObject({ state: 'FAILED', attemptsMade: 1 });
    expect(job.lastError).toMatch(/host 169.254.169.254 is not in JOBS_HTTP_ALLOWED_HOSTS/);
  });

  it('rejects bad payloads with a clear error and changes nothing', async () => {
    const started = new Date();
    for (const [payload, message] of [
      [{}, 'url is required'],
      [{ url: 'not a url' }, 'is not a valid URL'],
      [{ url: 'ftp://x.example.test/' }, 'url must be http or https'],
      [{ url: `${target.url}/ok`, method: 'BREW' }, 'method must be one of'],
      [{ url: `${target.url}/ok`, method: 'GET', body: 'x' }, 'GET requests have no body'],
    ] as const) {
      const { body } = await enqueue(gateway, 'http-request', payload);
      expect(body.errors?.[0]?.message).toContain(message);
      expect(body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    }
    // Barrier: a valid job enqueued after them reaches the (batched) history; a refused one that
    // had been enqueued all the same would be there by then too.
    const marker = await enqueued(gateway, 'http-request', { url: `${target.url}/ok`, method: 'GET' });
    await settled(gateway, marker);
    const created = async () =>
      (await db.pool.query<{ id: string }>('SELECT id FROM jobs.jobs WHERE created_at >= $1', [started])).rows;
    await expect.poll(created, { timeout: 5000, interval: 100 }).toContainEqual({ id: marker });
    expect(await created()).toEqual([{ id: marker }]);
  });
});

describe('http-request allow-list (JOBS_HTTP_ALLOWED_HOSTS)', () => {
  const allowed = [
    'api.example.test',
    '*.hooks.example.test',
    '127.0.0.1:8080',
    '[::1]:8081',
    'internal.example.test:9000',
    '10.0.0.7',
  ];
  const config = jobsConfig({ httpAllowedHosts: allowed });
  const parse = (url: string) => httpRequest.parse({ url, method: 'GET' }, config);

  it.each([
    'http://api.example.test/',
    'https://api.example.test/path?q=1',
    'http://API.Example.TEST/',
    'https://api.example.test:443/',
    'http://api.example.test:443/',
    'https://a.hooks.example.test/',
    'https://a.b.hooks.example.test/',
    'http://127.0.0.1:8080/',
    // Decimal, octal and hex IPv4 forms are the same address to the URL parser.
    'http://2130706433:8080/',
    'http://0177.0.0.1:8080/',
    'http://0x7f.1:8080/',
    'http://[::1]:8081/',
    'http://[0:0:0:0:0:0:0:1]:8081/',
    'http://internal.example.test:9000/',
  ])('lets %s through', (url) => {
    expect(() => parse(url)).not.toThrow();
  });

  it.each([
    // An entry without a port allows 80 and 443 only.
    ['http://api.example.test:8080/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['https://a.hooks.example.test:8443/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://internal.example.test/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://127.0.0.1/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://127.0.0.1:8081/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://hooks.example.test/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://xhooks.example.test/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://api.example.test.evil.test/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://api.example.test./', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://localhost:8080/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://[::ffff:127.0.0.1]:8080/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://[::1]:8080/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://0.0.0.0:8080/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://api.example.test@evil.test/', 'must not carry credentials'],
    ['http://user:pass@api.example.test/', 'must not carry credentials'],
    ['http://evil.test#@api.example.test/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['http://evil.test\\@api.example.test/', 'is not in JOBS_HTTP_ALLOWED_HOSTS'],
    ['file:///etc/passwd', 'url must be http or https'],
    ['gopher://api.example.test/', 'url must be http or https'],
  ])('refuses %s', (url, message) => {
    expect(() => parse(url)).toThrow(InvalidPayloadError);
    expect(() => parse(url)).toThrow(message);
  });

  it.each([
    ['http://api.example.test/', ['10.1.2.3'], 'allowed'], // the operator named this host itself
    ['http://a.hooks.example.test/', ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'], 'allowed'],
    ['http://a.hooks.example.test/', ['10.0.0.7'], 'allowed'], // the operator named this address itself
    ['http://a.hooks.example.test/', ['127.0.0.1'], 'refused'],
    ['http://a.hooks.example.test/', ['10.1.2.3'], 'refused'],
    ['http://a.hooks.example.test/', ['172.16.5.4'], 'refused'],
    ['http://a.hooks.example.test/', ['192.168.1.1'], 'refused'],
    ['http://a.hooks.example.test/', ['169.254.169.254'], 'refused'],
    ['http://a.hooks.example.test/', ['100.64.0.1'], 'refused'],
    ['http://a.hooks.example.test/', ['0.0.0.0'], 'refused'],
    ['http://a.hooks.example.test/', ['::1'], 'refused'],
    ['http://a.hooks.example.test/', ['::ffff:127.0.0.1'], 'refused'],
    ['http://a.hooks.example.test/', ['fd00::1'], 'refused'],
    ['http://a.hooks.example.test/', ['fe80::1'], 'refused'],
    ['http://a.hooks.example.test/', ['64:ff9b::a00:1'], 'refused'],
    // One bad address among good ones is enough: the connection could pick it.
    ['http://a.hooks.example.test/', ['93.184.216.34', '127.0.0.1'], 'refused'],
  ] as const)('checks what %s resolved to (%j): %s', (url, addresses, outcome) => {
    const check = () => checkAddresses(new URL(url), addresses, allowed);
    if (outcome === 'allowed') expect(check).not.toThrow();
    else
      expect(check).toThrow(
        /which is not a public address; JOBS_HTTP_ALLOWED_HOSTS must name the host or address itself/,
      );
  });

  it('resolves a name once and connects to the address it checked', async () => {
    // A host listed by name: resolved through the system resolver, checked, and reached at that address.
    const ownDb = await createTestDatabase();
    const byName = await startTestGateway({
      databaseUrl: ownDb.url,
      env: { PLUGBOARD_PLUGINS: 'core,jobs', JOBS_HTTP_ALLOWED_HOSTS: `localhost:${new URL(target.url).port}` },
    });
    try {
      const id = await enqueued(byName, 'http-request', {
        url: `http://localhost:${new URL(target.url).port}/ok?key=by-name`,
        method: 'GET',
      });
      expect(await settled(byName, id)).toMatchObject({ state: 'COMPLETED', result: { status: 200 } });
      expect(target.calls.filter((c) => c.url === '/ok?key=by-name')).toHaveLength(1);
    } finally {
      await byName.close();
      await ownDb.drop();
    }
  });
});

describe('file-cleanup confinement (JOBS_FILES_ROOT)', () => {
  const root = '/srv/files';
  const config = jobsConfig({ filesRoot: root });

  it.each(['.', 'logs', 'logs/2024', './logs/../logs', 'a/../b'])('accepts %s', (directory) => {
    expect(fileCleanup.parse({ directory, olderThanHours: 1 }, config)).toMatchObject({ directory });
  });

  it.each(['..', '../etc', 'logs/../../etc', '/etc', '/srv/files-evil', '/srv', '../files-evil/x'])(
    'refuses %s',
    (directory) => {
      expect(() => fileCleanup.parse({ directory, olderThanHours: 1 }, config)).toThrow(/is outside JOBS_FILES_ROOT/);
    },
  );

  it('never follows a symlink out of the root, nor deletes through one', async () => {
    const filesRoot = join(scratch, 'files');
    const outside = join(scratch, 'outside');
    await mkdir(outside, { recursive: true });
    const old = new Date(Date.now() - 3 * 24 * 3600_000);
    await writeFile(join(outside, 'precious.log'), 'keep');
    await utimes(join(outside, 'precious.log'), old, old);
    await symlink(outside, join(filesRoot, 'escape'));
    await symlink(join(outside, 'precious.log'), join(filesRoot, 'linked.log'));
    try {
      const through = await settled(
        gateway,
        await enqueued(gateway, 'file-cleanup', { directory: 'escape', olderThanHours: 1 }),
      );
      expect(through).toMatchObject({ state: 'FAILED' });
      expect(through.lastError).toMatch(/leads outside JOBS_FILES_ROOT/);
      const all = await settled(
        gateway,
        await enqueued(gateway, 'file-cleanup', {
          directory: '.',
          olderThanHours: 1,
          recursive: true,
          pattern: '**/*.log',
        }),
      );
      expect(all.state).toBe('COMPLETED');
      expect(
        (all.result!['files'] as string[]).filter((name) => name.includes('linked') || name.includes('escape')),
      ).toEqual([]);
      expect(await readFile(join(outside, 'precious.log'), 'utf8')).toBe('keep');
    } finally {
      await rm(join(filesRoot, 'escape'));
      await rm(join(filesRoot, 'linked.log'));
    }
  });
});

describe('other built-in types', () => {
  it('database-backup dumps a schema with pg_dump, and says clearly when pg_dump is missing', async () => {
    const job = await settled(
      gateway,
      await enqueued(gateway, 'database-backup', { schema: 'jobs', file: 'jobs.sql' }),
    );
    expect(job.result).toMatchObject({ file: join(scratch, 'backups', 'jobs.sql'), schema: 'jobs' });
    expect(await readFile(join(scratch, 'backups', 'jobs.sql'), 'utf8')).toContain('CREATE TABLE jobs.jobs');

    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const missing = await settled(
        gateway,
        await enqueued(gateway, 'database-backup', { schema: 'jobs', file: 'again.sql' }),
      );
      expect(missing).toMatchObject({ state: 'FAILED', attemptsMade: 1 });
      expect(missing.lastError).toMatch(/pg_dump was not found on PATH/);
    } finally {
      process.env['PATH'] = path;
    }
    const { body } = await enqueue(gateway, 'database-backup', { schema: 'jobs; DROP TABLE x' });
    expect(body.errors?.[0]?.message).toMatch(/is not a plain schema name/);
  });

  it('database-backup never replaces an existing backup, nor deletes one when it fails', async () => {
    const backups = join(scratch, 'backups');
    await mkdir(backups, { recursive: true });
    await writeFile(join(backups, 'keep.sql'), 'the only copy');

    const failing = await settled(
      gateway,
      await enqueued(gateway, 'database-backup', { schema: 'no_such_schema', file: 'keep.sql' }),
    );
    expect(failing).toMatchObject({ state: 'FAILED', attemptsMade: 1 });
    const again = await settled(
      gateway,
      await enqueued(gateway, 'database-backup', { schema: 'jobs', file: 'keep.sql' }),
    );
    expect(again).toMatchObject({ state: 'FAILED', attemptsMade: 1 });
    expect(again.lastError).toMatch(/keep.sql already exists in JOBS_BACKUP_DIR; a backup never replaces a file/);
    expect(await readFile(join(backups, 'keep.sql'), 'utf8')).toBe('the only copy');

    // A failing backup under a new name leaves nothing behind, not even its temp file.
    const missing = await settled(
      gateway,
      await enqueued(gateway, 'database-backup', { schema: 'no_such_schema', file: 'missing.sql' }),
    );
    expect(missing.lastError).toMatch(/no_such_schema/);
    expect((await readdir(backups)).filter((name) => name.includes('missing') || name.endsWith('.partial'))).toEqual(
      [],
    );
  });

  it('file-cleanup deletes only old matching files, inside JOBS_FILES_ROOT', async () => {
    const root = join(scratch, 'files');
    const old = new Date(Date.now() - 3 * 24 * 3600_000);
    for (const name of ['logs/old.log', 'logs/new.log', 'logs/old.txt', 'top.log'])
      await writeFile(join(root, name), name);
    for (const name of ['logs/old.log', 'logs/old.txt', 'top.log']) await utimes(join(root, name), old, old);
    const job = await settled(
      gateway,
      await enqueued(gateway, 'file-cleanup', { directory: 'logs', olderThanHours: 24, pattern: '*.log' }),
    );
    expect(job.result).toMatchObject({ deleted: 1, files: ['old.log'], dryRun: false });
    expect(
      ['logs/old.log', 'logs/new.log', 'logs/old.txt', 'top.log'].map((name) => existsSync(join(root, name))),
    ).toEqual([false, true, true, true]);

    const { body } = await enqueue(gateway, 'file-cleanup', { directory: '../..', olderThanHours: 1 });
    expect(body.errors?.[0]?.message).toMatch(/is outside JOBS_FILES_ROOT/);
  });

  it('send-email and cache-clear say what they need instead of pretending', async () => {
    const email = await enqueue(gateway, 'send-email', { to: 'a@example.test', text: 'hi' });
    expect(email.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/notifications plugin, which is not enabled/),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const cache = await enqueue(gateway, 'cache-clear', { pattern: 'sessions:*' });
    expect(cache.body.errors?.[0]?.message).toMatch(/cache-clear needs Redis: set REDIS_URL/);
  });

  it('names the known types for an unknown type or queue', async () => {
    const type = await enqueue(gateway, 'teleport', {});
    expect(type.body.errors?.[0]?.message).toBe(
      'No job type "teleport" on queue "default"; its types: cache-clear, database-backup, file-cleanup, http-request, send-email',
    );
    const queue = await enqueue(gateway, 'count', {}, {}, admin, 'nowhere');
    expect(queue.body.errors?.[0]?.message).toBe('No queue "nowhere"; queues: default, echo');
  });
});

describe('job timeout (JOBS_JOB_TIMEOUT)', () => {
  it('ends an attempt at the deadline', async () => {
    // A database of its own: on the shared one, the main gateway's workers would take the job.
    const ownDb = await createTestDatabase();
    const short = await startTestGateway({
      databaseUrl: ownDb.url,
      env: { JOBS_HTTP_ALLOWED_HOSTS: target.host, JOBS_JOB_TIMEOUT: '300' },
    });
    try {
      const id = await enqueued(
        short,
        'http-request',
        { url: `${target.url}/slow?ms=3000`, method: 'GET' },
        { attempts: 1 },
      );
      const job = await settled(short, id);
      expect(job).toMatchObject({ state: 'FAILED', lastError: 'Job timed out after 300 ms' });
    } finally {
      await short.close();
      await ownDb.drop();
    }
  });
});

describe('schedules, stats, retry and cancel', () => {
  it('creates, lists and deletes cron schedules, applying them to the queue', async () => {
    const { body } = await gateway.gql(
      'mutation($payload: JSON) { createSchedule(cron: "0 3 * * *", timezone: "Europe/Berlin", type: "http-request", payload: $payload) { id cron timezone type queue nextRunAt } }',
      { variables: { payload: { url: `${target.url}/ok` } }, headers: admin },
    );
    expect(body.errors).toBeUndefined();
    const schedule = body.data!['createSchedule'] as { id: string; nextRunAt: string };
    expect(new Date(schedule.nextRunAt).getTime()).toBeGreaterThan(Date.now());
    expect(await gateway.queue.schedules('default')).toContainEqual(
      expect.objectContaining({ key: schedule.id, cron: '0 3 * * *', timezone: 'Europe/Berlin', name: 'http-request' }),
    );
    const listed = await gateway.gql('{ schedules { id cron } }', { headers: admin });
    expect(listed.body.data).toEqual({ schedules: [{ id: schedule.id, cron: '0 3 * * *' }] });

    const invalid = await gateway.gql('mutation { createSchedule(cron: "99 * * * *", type: "http-request") { id } }', {
      headers: admin,
    });
    expect(invalid.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/is not a valid cron expression/),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const badZone = await gateway.gql(
      'mutation { createSchedule(cron: "0 3 * * *", timezone: "Mars/Olympus", type: "http-request") { id } }',
      { headers: admin },
    );
    expect(badZone.body.errors?.[0]?.message).toMatch(/is not an IANA time zone/);

    const deleted = await gateway.gql(
      `mutation { a: deleteSchedule(id: "${schedule.id}") b: deleteSchedule(id: "${schedule.id}") }`,
      { headers: admin },
    );
    expect(deleted.body.data).toEqual({ a: true, b: false });
    expect(await gateway.queue.schedules('default')).toEqual([]);
  });

  it('reports queue statistics', async () => {
    const { body } = await gateway.gql('{ queueStats { queue backend waiting active completed failed } }', {
      headers: admin,
    });
    const stats = body.data!['queueStats'] as { queue: string; backend: string; completed: number }[];
    expect(stats.map((s) => s.queue)).toEqual(['default', 'echo', 'retention']);
    expect(stats[0]).toMatchObject({ backend: 'postgres' });
    expect(stats[0]!.completed).toBeGreaterThan(0);
  });

  it('cancels a delayed job and retries a failed one', async () => {
    const delayed = await enqueued(gateway, 'http-request', { url: `${target.url}/ok` }, { delayMs: 60_000 });
    const cancel = await gateway.gql(`mutation { cancelJob(id: "${delayed}") { state } }`, { headers: admin });
    expect(cancel.body.data).toEqual({ cancelJob: { state: 'CANCELLED' } });
    expect((await settled(gateway, delayed, ['CANCELLED'])).state).toBe('CANCELLED');
    const again = await gateway.gql(`mutation { cancelJob(id: "${delayed}") { state } }`, { headers: admin });
    expect(again.body.errors?.[0]?.message).toMatch(/only waiting, delayed or active jobs can be cancelled/);

    const failing = await settled(
      gateway,
      await enqueued(
        gateway,
        'http-request',
        { url: `${target.url}/flaky?fail=1&key=retry-job`, method: 'GET' },
        { attempts: 1 },
      ),
    );
    expect(failing.state).toBe('FAILED');
    const retry = await gateway.gql(`mutation { retryJob(id: "${failing.id}") { state } }`, { headers: admin });
    expect(retry.body.data).toEqual({ retryJob: { state: 'WAITING' } });
    expect((await settled(gateway, failing.id, ['COMPLETED'])).state).toBe('COMPLETED');
  });
});

describe('who may do what', () => {
  it('lets a role in JOBS_ENQUEUE_ROLES enqueue and follow only its own jobs', async () => {
    const alice = { authorization: `Bearer ${await signToken({ userId: 'alice' })}` };
    const bob = { authorization: `Bearer ${await signToken({ userId: 'bob' })}` };
    const outsider = { authorization: `Bearer ${await signToken({ userId: 'eve', defaultRole: 'viewer' })}` };

    const { body } = await enqueue(gateway, 'http-request', { url: `${target.url}/ok` }, {}, alice);
    const id = (body.data!['enqueueJob'] as { id: string }).id;
    await settled(gateway, id);
    expect((await jobOf(gateway, id, alice)).body.data?.['job']).toMatchObject({ id, requestedBy: 'alice' });
    expect((await jobOf(gateway, id, bob)).body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');

    const mine = await gateway.gql('{ jobs(first: 50) { edges { node { requestedBy } } } }', { headers: alice });
    const owners = (mine.body.data!['jobs'] as { edges: { node: { requestedBy: string } }[] }).edges.map(
      (e) => e.node.requestedBy,
    );
    expect(owners).toEqual(['alice']);

    expect(
      (await enqueue(gateway, 'http-request', { url: `${target.url}/ok` }, {}, outsider)).body.errors?.[0]
        ?.extensions?.['code'],
    ).toBe('FORBIDDEN');
    expect(
      (await enqueue(gateway, 'http-request', { url: `${target.url}/ok` }, {}, {})).body.errors?.[0]?.extensions?.[
        'code'
      ],
    ).toBe('FORBIDDEN');
    expect(
      (await gateway.gql(`mutation { retryJob(id: "${id}") { id } }`, { headers: alice })).body.errors?.[0]
        ?.extensions?.['code'],
    ).toBe('FORBIDDEN');
    expect(
      (await gateway.gql('{ queueStats { queue } }', { headers: alice })).body.errors?.[0]?.extensions?.['code'],
    ).toBe('FORBIDDEN');
  });

  it('pages the history newest first', async () => {
    const first = await gateway.gql(
      '{ jobs(first: 2, type: "http-request") { edges { node { id } } pageInfo { hasNextPage endCursor } } }',
      { headers: admin },
    );
    const page = first.body.data!['jobs'] as {
      edges: { node: { id: string } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
    expect(page.edges).toHaveLength(2);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const next = await gateway.gql(
      'query($after: String) { jobs(first: 2, type: "http-request", after: $after) { edges { node { id } } } }',
      {
        variables: { after: page.pageInfo.endCursor },
        headers: admin,
      },
    );
    const ids = (next.body.data!['jobs'] as { edges: { node: { id: string } }[] }).edges.map((e) => e.node.id);
    expect(ids).toHaveLength(2);
    expect(ids.some((id) => page.edges.some((e) => e.node.id === id))).toBe(false);
    expect(
      (await gateway.gql('{ jobs(first: 1, after: "garbage") { edges { cursor } } }', { headers: admin })).body
        .errors?.[0]?.message,
    ).toBe('Invalid cursor');
  });
});

describe('which job types users may enqueue', () => {
  const user = async (userId: string) => ({ authorization: `Bearer ${await signToken({ userId })}` });

  it("sends a user's http-request unsigned, recording that a user asked, and refuses to sign it", async () => {
    const alice = await user('alice');
    const { body } = await enqueue(
      gateway,
      'http-request',
      { url: `${target.url}/ok?key=unsigned`, body: 'from alice' },
      {},
      alice,
    );
    expect(body.errors).toBeUndefined();
    const id = (body.data!['enqueueJob'] as { id: string }).id;
    expect(await settled(gateway, id)).toMatchObject({
      state: 'COMPLETED',
      requestedBy: 'alice',
      payload: { sign: false },
    });
    const [call] = target.calls.filter((c) => c.url === '/ok?key=unsigned');
    expect(call!.body).toBe('from alice');
    expect(call!.headers['x-plugboard-signature']).toBeUndefined();
    const { rows } = await db.pool.query(
      "SELECT options->>'requestedByRole' AS role FROM jobs.jobs WHERE queue = 'default' AND id = $1",
      [id],
    );
    expect(rows).toEqual([{ role: 'user' }]);

    const signed = await enqueue(
      gateway,
      'http-request',
      { url: `${target.url}/ok?key=forged`, sign: true },
      {},
      alice,
    );
    expect(signed.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/only jobs an admin enqueues are signed/),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(target.calls.filter((c) => c.url === '/ok?key=forged')).toEqual([]);
  });

  it("keeps each user's idempotency keys to themselves", async () => {
    const [alice, bob] = [await user('alice'), await user('bob')];
    const add = async (headers: Record<string, string>, jobId: string) => {
      const { body } = await enqueue(
        gateway,
        'http-request',
        { url: `${target.url}/ok?key=idem` },
        { jobId, delayMs: 600_000 },
        headers,
      );
      expect(body.errors).toBeUndefined();
      return (body.data!['enqueueJob'] as { id: string }).id;
    };
    const alices = await add(alice, 'nightly');
    const bobs = await add(bob, 'nightly');
    expect(bobs).not.toBe(alices);
    expect(await add(alice, 'nightly')).toBe(alices);
    // Naming alice's job id as the key reaches a job of bob's own, not hers.
    const guessed = await add(bob, alices);
    expect([alices, bobs]).not.toContain(guessed);
    expect((await jobOf(gateway, alices, bob)).body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect((await jobOf(gateway, bobs, bob)).body.data?.['job']).toMatchObject({
      requestedBy: 'bob',
      state: 'DELAYED',
    });
    expect((await jobOf(gateway, alices, alice)).body.data?.['job']).toMatchObject({
      requestedBy: 'alice',
      state: 'DELAYED',
    });
    for (const id of [alices, bobs, guessed]) await gateway.queue.cancel('default', id);
  });

  describe('with every queue of the gateway', () => {
    let fullDb: TestDatabase;
    let full: TestGateway;
    const queues = ['default', 'notifications', 'webhooks', 'retention'];
    const snapshot = async () => ({
      counts: await Promise.all(queues.map((queue) => full.queue.counts(queue))),
      schedules: await Promise.all(queues.map((queue) => full.queue.schedules(queue))),
      history: (await fullDb.pool.query('SELECT queue, id, type FROM jobs.jobs ORDER BY queue, id')).rows,
    });
    let before: Awaited<ReturnType<typeof snapshot>>;
    beforeAll(async () => {
      fullDb = await createTestDatabase();
      full = await startTestGateway({
        databaseUrl: fullDb.url,
        env: {
          PLUGBOARD_PLUGINS: 'core,jobs,notifications,stripe,echo',
          STRIPE_API_KEY: 'sk_test_jobs0123456789abcdef',
          STRIPE_WEBHOOK_SECRET: 'whsec_jobs0123456789abcdef',
          STRIPE_API_BASE_URL: target.url,
          STRIPE_SYNC_INTERVAL: '0',
          JOBS_ENQUEUE_ROLES: 'admin,user',
          JOBS_HTTP_ALLOWED_HOSTS: target.host,
          JOBS_FILES_ROOT: join(scratch, 'files'),
          JOBS_BACKUP_DIR: join(scratch, 'backups'),
        },
      });
      // The notifications plugin schedules its next digest at start; let that reach the history first.
      await vi.waitFor(
        async () =>
          expect(
            (await fullDb.pool.query("SELECT 1 FROM jobs.jobs WHERE queue = 'notifications' AND type = 'digest'"))
              .rowCount,
          ).toBe(1),
        { timeout: 10_000, interval: 50 },
      );
      before = await snapshot();
    });
    afterAll(async () => {
      await full?.close();
      await fullDb?.drop();
    });

    const adminOnly: [string, string, unknown][] = [
      ['default', 'send-email', { to: 'victim@example.test', html: '<a href="http://phish.test">reset</a>' }],
      ['default', 'database-backup', { schema: 'pg_catalog' }],
      ['default', 'cache-clear', { pattern: 'sessions:*' }],
      ['default', 'file-cleanup', { directory: '.', olderThanHours: 0, recursive: true }],
    ];
    const internal: [string, string, unknown][] = [
      ['notifications', 'send-email', { to: 'victim@example.test', html: '<b>hi</b>' }],
      ['notifications', 'digest', {}],
      ['notifications', 'deliver', { id: '00000000-0000-4000-8000-000000000000' }],
      ['notifications', 'deliver-batch', { ids: [] }],
      ['webhooks', 'process', { plugin: 'stripe', id: 'evt_1' }],
      ['retention', 'stripe', {}],
    ];

    it.each([...adminOnly, ...internal])(
      'refuses a user %s/%s: FORBIDDEN, nothing enqueued',
      async (queue, type, payload) => {
        const { body } = await enqueue(full, type, payload, {}, await user('mallory'), queue);
        expect(body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
        expect(body.data).toBeNull();
      },
    );

    it.each(internal)(
      'refuses an admin %s/%s through the API too (internal to its plugin)',
      async (queue, type, payload) => {
        const { body } = await enqueue(full, type, payload, {}, admin, queue);
        expect(body.errors?.[0]).toMatchObject({
          message: expect.stringMatching(/internal to its plugin/),
          extensions: { code: 'FORBIDDEN' },
        });
        const schedule = await full.gql(
          'mutation($queue: String, $type: String!) { createSchedule(cron: "0 3 * * *", queue: $queue, type: $type) { id } }',
          { variables: { queue, type }, headers: admin },
        );
        expect(schedule.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      },
    );

    it('has enqueued nothing after all those attempts, and still lets users add http-request', async () => {
      expect(await snapshot()).toEqual(before);
      const { body } = await enqueue(
        full,
        'http-request',
        { url: `${target.url}/ok?key=full` },
        {},
        await user('alice'),
      );
      expect(body.errors).toBeUndefined();
      expect(
        (await enqueue(full, 'count', { to: 1, stepMs: 1 }, {}, await user('alice'), 'echo')).body.errors,
      ).toBeUndefined();
      expect((await enqueue(full, 'teleport', {}, {}, admin, 'nowhere')).body.errors?.[0]?.message).toBe(
        'No queue "nowhere"; queues: default, echo',
      );
    });
  });
});

describe('jobUpdates subscription', () => {
  it('streams a job from its current state through progress to completion, then ends', async () => {
    const id = await enqueued(gateway, 'count', { to: 3, stepMs: 150 }, { delayMs: 500 }, 'echo');
    const ws = connectWs(gateway.wsUrl, { headers: admin });
    const updates = ws.subscribe<{
      jobUpdates: { id: string; event: string; state: string; progress: unknown; result: unknown };
    }>(`subscription { jobUpdates(id: "${id}", queue: "echo") { id event state progress result } }`);
    const seen: { event: string; state: string; progress: unknown; result: unknown }[] = [];
    for (;;) {
      const next = await updates.next();
      expect(next.errors).toBeUndefined();
      const update = next.data!.jobUpdates;
      seen.push({ event: update.event, state: update.state, progress: update.progress, result: update.result });
      if (update.state === 'COMPLETED') break;
    }
    expect(seen[0]).toMatchObject({ state: 'DELAYED' });
    expect(seen.filter((u) => u.event === 'PROGRESS').map((u) => u.progress)).toEqual([33, 67, 100]);
    expect(seen.at(-1)).toMatchObject({ event: 'COMPLETED', result: { counted: 3 } });
    await ws.client.dispose();
  });

  it('lets only admins follow a whole queue, and needs exactly one of id or queue', async () => {
    const user = await signToken({ userId: 'alice' });
    const ws = connectWs(gateway.wsUrl, { headers: { Authorization: `Bearer ${user}` } });
    expect(
      (await ws.subscribe('subscription { jobUpdates(queue: "default") { id } }').next()).errors?.[0]?.extensions?.[
        'code'
      ],
    ).toBe('FORBIDDEN');
    expect((await ws.subscribe('subscription { jobUpdates { id } }').next()).errors?.[0]?.extensions?.['code']).toBe(
      'BAD_USER_INPUT',
    );
    await ws.client.dispose();
  });
});

describe('Bull Board at /admin/queues', () => {
  it('is not served on the Postgres queue, and says why', async () => {
    const response = await fetch(`${gateway.url}/admin/queues`, { headers: admin });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      errors: [{ message: expect.stringMatching(/Bull Board needs the BullMQ queue/) }],
    });
  });
});

describe.skipIf(!inject('redisUrl'))('on a Redis database of its own (BullMQ)', () => {
  // A Redis database of its own, so simulating a flush or pausing a queue touches no other test's
  // queues; and a Postgres database of its own, so no other gateway's numbered jobs share the history.
  const redisUrl = () => `${inject('redisUrl').replace(/\/\d*$/, '')}/${redisDb}`;
  const redisDb = randomInt(1, 16);
  let numberedDb: TestDatabase;
  let numbered: TestGateway;
  let redis: Redis;
  const userHeaders = async (userId: string) => ({ authorization: `Bearer ${await signToken({ userId })}` });
  const idOf = (body: { data?: Record<string, unknown> | null; errors?: unknown }) => {
    expect(body.errors).toBeUndefined();
    return (body.data!['enqueueJob'] as { id: string }).id;
  };
  /** What BullMQ would do after a Redis flush: the queue's jobs and counter are gone; the count reaches `next` again. */
  const flushQueue = async (queue: string, next: number) => {
    const keys = await redis.keys(`plugboard:${queue}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.set(`plugboard:${queue}:id`, next - 1);
  };

  beforeAll(async () => {
    numberedDb = await createTestDatabase();
    redis = new Redis(redisUrl());
    await flushQueue('default', 1);
    await flushQueue('echo', 1);
    numbered = await startTestGateway({
      databaseUrl: numberedDb.url,
      env: {
        REDIS_URL: redisUrl(),
        PLUGBOARD_PLUGINS: 'core,jobs,echo',
        JOBS_HTTP_ALLOWED_HOSTS: target.host,
        JOBS_ENQUEUE_ROLES: 'admin,user',
        JOBS_HTTP_SIGNING_SECRET: SIGNING_SECRET,
      },
    });
  });
  afterAll(async () => {
    await numbered?.close();
    await flushQueue('default', 1);
    await flushQueue('echo', 1);
    redis?.disconnect();
    await numberedDb?.drop();
  });

  it("keeps a number reused after a Redis flush apart: the new job's owner reads it, the old one's does not", async () => {
    const [alice, bob] = [await userHeaders('alice'), await userHeaders('bob')];
    const first = idOf(
      (
        await enqueue(
          numbered,
          'http-request',
          { url: `${target.url}/ok?key=flush-alice`, body: 'alice-secret' },
          {},
          alice,
        )
      ).body,
    );
    expect(first).toMatch(/^\d+$/);
    expect(await settled(numbered, first)).toMatchObject({ state: 'COMPLETED', requestedBy: 'alice' });

    await flushQueue('default', Number(first));
    const second = idOf(
      (await enqueue(numbered, 'http-request', { url: `${target.url}/ok?key=flush-bob`, body: 'bob-data' }, {}, bob))
        .body,
    );
    expect(second).toBe(first);
    await vi.waitFor(
      async () => expect((await jobOf(numbered, second, bob)).body.data?.['job']).toMatchObject({ state: 'COMPLETED' }),
      { timeout: 20_000, interval: 100 },
    );

    const bobs = (await jobOf(numbered, second, bob)).body.data?.['job'] as JobView;
    expect(bobs).toMatchObject({
      requestedBy: 'bob',
      payload: { url: `${target.url}/ok?key=flush-bob`, body: 'bob-data' },
      failures: [],
    });
    expect(bobs.result!['body']).toContain('bob-data');
    expect(JSON.stringify(bobs)).not.toContain('alice-secret');
    expect((await jobOf(numbered, first, alice)).body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('does not merge a new job into a row from before job creation times were kept (upgraded history)', async () => {
    const bob = await userHeaders('bob');
    const next = String(Number((await redis.get('plugboard:default:id')) ?? 0) + 1);
    await numberedDb.pool.query(
      `INSERT INTO jobs.jobs (id, queue, type, state, payload, requested_by, created_at, finished_at, updated_at)
       VALUES ($1, 'default', 'http-request', 'completed', '{"body":"legacy-secret"}', 'alice', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day')`,
      [next],
    );
    await numberedDb.pool.query(
      `INSERT INTO jobs.job_results (job_id, queue, attempt, result, completed_at) VALUES ($1, 'default', 1, '{"body":"legacy-result"}', now() - interval '1 day')`,
      [next],
    );
    const id = idOf(
      (await enqueue(numbered, 'http-request', { url: `${target.url}/ok?key=legacy-bob`, body: 'bob-now' }, {}, bob))
        .body,
    );
    expect(id).toBe(next);
    await vi.waitFor(
      async () =>
        expect((await jobOf(numbered, id, bob)).body.data?.['job']).toMatchObject({
          state: 'COMPLETED',
          requestedBy: 'bob',
        }),
      { timeout: 20_000, interval: 100 },
    );
    const job = (await jobOf(numbered, id, bob)).body.data?.['job'] as JobView;
    expect(JSON.stringify(job)).not.toMatch(/legacy-(secret|result)/);
    expect(job.result!['body']).toContain('bob-now');
  });

  it('keeps jobs of two queues with the same number apart: each owner reads only their own job and result', async () => {
    const [alice, bob] = [await userHeaders('alice'), await userHeaders('bob')];
    const id = idOf(
      (
        await enqueue(
          numbered,
          'http-request',
          { url: `${target.url}/ok?key=queues-alice`, body: 'alice-token' },
          {},
          alice,
        )
      ).body,
    );
    // The echo queue numbers its jobs on its own; let its count reach the same number.
    await redis.set('plugboard:echo:id', Number(id) - 1);
    expect(idOf((await enqueue(numbered, 'count', { to: 1, stepMs: 1 }, {}, bob, 'echo')).body)).toBe(id);
    await settled(numbered, id);
    await settled(numbered, id, undefined, undefined, 'echo');

    const alices = (await jobOf(numbered, id, alice)).body.data?.['job'] as JobView;
    expect(alices).toMatchObject({ queue: 'default', type: 'http-request', requestedBy: 'alice' });
    expect(alices.result!['body']).toContain('alice-token');
    expect((await jobOf(numbered, id, bob, 'echo')).body.data?.['job']).toMatchObject({
      queue: 'echo',
      type: 'count',
      requestedBy: 'bob',
      result: { counted: 1 },
    });

    expect((await jobOf(numbered, id, bob)).body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect((await jobOf(numbered, id, alice, 'echo')).body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect((await jobOf(numbered, id, bob, 'nowhere')).body.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const cancel = await numbered.gql('mutation($id: ID!) { cancelJob(id: $id) { id } }', {
      variables: { id },
      headers: bob,
    });
    expect(cancel.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const { rows } = await numberedDb.pool.query(
      'SELECT queue, requested_by FROM jobs.jobs WHERE id = $1 ORDER BY queue',
      [id],
    );
    expect(rows).toEqual([
      { queue: 'default', requested_by: 'alice' },
      { queue: 'echo', requested_by: 'bob' },
    ]);
  });

  it('refuses Bull Board state changes a browser form could forge with saved Basic credentials', async () => {
    const basic = { authorization: `Basic ${Buffer.from(`admin:${ADMIN_SECRET}`).toString('base64')}` };
    const crossSite = { ...basic, origin: 'http://evil.test', 'sec-fetch-site': 'cross-site' };
    const board = `${numbered.url}/admin/queues/api/queues`;
    const before = await numbered.queue.counts('echo');
    const forged = [
      fetch(`${board}/echo/add`, {
        method: 'POST',
        headers: { ...crossSite, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'name=count&data=%7B%7D',
      }),
      fetch(`${board}/echo/add`, {
        method: 'POST',
        headers: { ...crossSite, 'content-type': 'text/plain' },
        body: '{"name":"count","data":{"to":1,"stepMs":1}}',
      }),
      fetch(`${board}/echo/add`, {
        method: 'POST',
        headers: { ...basic, 'content-type': 'multipart/form-data; boundary=x' },
        body: '--x--',
      }),
      fetch(`${board}/echo/pause`, { method: 'PUT', headers: crossSite }),
      fetch(`${board}/echo/pause`, { method: 'PUT', headers: { ...basic, 'sec-fetch-site': 'same-site' } }),
      // A browser without Fetch Metadata: its Origin names the other site.
      fetch(`${board}/echo/pause`, { method: 'PUT', headers: { ...basic, origin: 'http://evil.test' } }),
      fetch(`${board}/echo/pause`, { method: 'PUT', headers: { ...basic, origin: 'null' } }),
      fetch(`${board}/echo/empty`, { method: 'PUT', headers: basic }),
    ];
    for (const response of await Promise.all(forged)) {
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({
        errors: [
          {
            message: expect.stringMatching(/need Content-Type: application\/json or an X-Requested-With header/),
            extensions: { code: 'FORBIDDEN' },
          },
        ],
      });
    }
    expect(await (numbered.queue as BullMQQueuePort).bullQueue('echo').isPaused()).toBe(false);
    expect(await numbered.queue.counts('echo')).toEqual(before);

    // What Bull Board's own page sends: bodiless PUTs from the same origin, JSON for an add.
    const sameOrigin = {
      ...basic,
      origin: numbered.url,
      'sec-fetch-site': 'same-origin',
      accept: 'application/json, text/plain, */*',
    };
    expect((await fetch(`${board}/echo/pause`, { method: 'PUT', headers: sameOrigin })).status).toBe(200);
    expect(await (numbered.queue as BullMQQueuePort).bullQueue('echo').isPaused()).toBe(true);
    expect((await fetch(`${board}/echo/resume`, { method: 'PUT', headers: sameOrigin })).status).toBe(200);
    expect(await (numbered.queue as BullMQQueuePort).bullQueue('echo').isPaused()).toBe(false);
    const legacyBrowser = { ...basic, origin: numbered.url };
    expect((await fetch(`${board}/echo/pause`, { method: 'PUT', headers: legacyBrowser })).status).toBe(200);
    expect((await fetch(`${board}/echo/resume`, { method: 'PUT', headers: legacyBrowser })).status).toBe(200);
    const added = await fetch(`${board}/echo/add`, {
      method: 'POST',
      headers: { ...sameOrigin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'count', data: { to: 1, stepMs: 1 } }),
    });
    expect(added.status).toBe(200);
    // Scripts send JSON or X-Requested-With.
    expect(
      (await fetch(`${board}/echo/pause`, { method: 'PUT', headers: { ...admin, 'x-requested-with': 'curl' } })).status,
    ).toBe(200);
    expect(
      (
        await fetch(`${board}/echo/resume`, {
          method: 'PUT',
          headers: { ...admin, 'content-type': 'application/json' },
          body: '{}',
        })
      ).status,
    ).toBe(200);
    await vi.waitFor(async () => expect((await numbered.queue.counts('echo')).completed).toBe(before.completed + 1), {
      timeout: 10_000,
      interval: 100,
    });
  });
});

describe.skipIf(!inject('redisUrl'))('on the BullMQ queue (Redis)', () => {
  let redisGateway: TestGateway;
  let redis: Redis;
  beforeAll(async () => {
    redisGateway = await startTestGateway({
      databaseUrl: db.url,
      env: { REDIS_URL: inject('redisUrl'), JOBS_HTTP_ALLOWED_HOSTS: target.host },
    });
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await redisGateway?.close();
    redis?.disconnect();
  });

  it('runs http-request jobs the same way', async () => {
    const id = await enqueued(redisGateway, 'http-request', { url: `${target.url}/ok`, body: 'plain' });
    expect(await settled(redisGateway, id)).toMatchObject({ state: 'COMPLETED', result: { status: 200 } });
    const stats = await redisGateway.gql('{ queueStats { queue backend } }', { headers: admin });
    expect(stats.body.data!['queueStats']).toContainEqual({ queue: 'default', backend: 'bullmq' });
  });

  it('serves Bull Board to admins only', async () => {
    const anonymous = await fetch(`${redisGateway.url}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="Plugboard admin"/);
    const user = await fetch(`${redisGateway.url}/admin/queues`, {
      headers: { authorization: `Bearer ${await signToken({ userId: 'u' })}` },
    });
    expect(user.status).toBe(403);
    const wrong = await fetch(`${redisGateway.url}/admin/queues`, {
      headers: { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    const browser = await fetch(`${redisGateway.url}/admin/queues`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_SECRET}`).toString('base64')}` },
    });
    expect(browser.status).toBe(200);
    expect(await browser.text()).toMatch(/bull/i);
    const api = await fetch(`${redisGateway.url}/admin/queues/api/queues`, { headers: admin });
    expect(api.status).toBe(200);
    expect(JSON.stringify(await api.json())).toContain('"default"');
  });

  it("clears cache keys by pattern, never the gateway's own", async () => {
    await redis.mset('cachetest:a', '1', 'cachetest:b', '2', 'keep:c', '3');
    const job = await settled(redisGateway, await enqueued(redisGateway, 'cache-clear', { pattern: 'cachetest:*' }));
    expect(job.result).toEqual({ pattern: 'cachetest:*', deleted: 2 });
    expect(await redis.exists('cachetest:a', 'cachetest:b', 'keep:c')).toBe(1);
    await redis.del('keep:c');
    for (const pattern of ['plugboard:*', '*', 'plug*']) {
      const { body } = await enqueue(redisGateway, 'cache-clear', { pattern });
      expect(body.errors?.[0]?.message).toMatch(/could delete Plugboard's own keys/);
    }
  });
});

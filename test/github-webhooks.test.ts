/**
 * GitHub webhooks through the gateway, with GitHub's own recorded payloads
 * (@octokit/webhooks-examples) signed as GitHub signs them (@octokit/webhooks-methods): every
 * example of every event type the plugin syncs lands in its table; redeliveries, older payloads,
 * deletes, transfers, bad signatures, oversized and non-JSON bodies.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const SECRET = randomBytes(24).toString('hex');
/** GitHub's recorded deliveries, by event name (a CommonJS array). */
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
  name: string;
  examples: (Record<string, unknown> & { action?: string })[];
}[];

let db: TestDatabase;
let gateway: TestGateway;

async function deliver(
  event: string,
  payload: unknown,
  options: { delivery?: string; secret?: string; body?: string; signature?: string } = {},
) {
  const body = options.body ?? JSON.stringify(payload);
  const response = await fetch(`${gateway.url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': options.delivery ?? randomUUID(),
      'x-hub-signature-256': options.signature ?? (await sign(options.secret ?? SECRET, body)),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const rows = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
const waiting = async () =>
  Number((await rows("SELECT count(*) AS n FROM github.events WHERE status <> 'processed'"))[0]!['n']);

/** Where each synced event type's object lands: its table and where the payload holds it. */
const LANDS: Record<string, { table: string; object: (payload: Record<string, unknown>) => { id: unknown } }> = {
  repository: { table: 'repositories', object: (p) => p['repository'] as { id: unknown } },
  issues: { table: 'issues', object: (p) => p['issue'] as { id: unknown } },
  issue_comment: { table: 'issue_comments', object: (p) => p['comment'] as { id: unknown } },
  pull_request: { table: 'pull_requests', object: (p) => p['pull_request'] as { id: unknown } },
  pull_request_review: { table: 'pull_request_reviews', object: (p) => p['review'] as { id: unknown } },
  release: { table: 'releases', object: (p) => p['release'] as { id: unknown } },
  workflow_run: { table: 'workflow_runs', object: (p) => p['workflow_run'] as { id: unknown } },
  deployment: { table: 'deployments', object: (p) => p['deployment'] as { id: unknown } },
  discussion: { table: 'discussions', object: (p) => p['discussion'] as { id: unknown } },
  team: { table: 'teams', object: (p) => p['team'] as { id: unknown } },
};

beforeAll(async () => {
  db = await createTestDatabase();
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: {
      GITHUB_WEBHOOK_SECRET: SECRET,
      // No API call happens in these tests: webhooks carry their objects.
      GITHUB_TOKEN: `ghp_${randomBytes(18).toString('hex')}`,
      GITHUB_API_URL: 'http://127.0.0.1:9',
      GITHUB_SYNC_INTERVAL: '0',
    },
  });
});

afterAll(async () => {
  await gateway?.close();
  await db?.drop();
});

describe('GitHub webhooks', () => {
  const synced = examples.filter((group) => group.name in LANDS);

  it.each(synced.map((group) => [group.name, group.examples.length] as const))(
    'stores and applies every recorded %s example (%i)',
    async (name) => {
      const group = synced.find((g) => g.name === name)!;
      const { table, object } = LANDS[name]!;
      for (const example of group.examples) {
        const { status, body } = await deliver(name, example);
        expect(status, JSON.stringify(body)).toBe(200);
      }
      await expect.poll(waiting, { timeout: 10_000 }).toBe(0);
      const ids = [...new Set(group.examples.map((example) => String(object(example as Record<string, unknown>).id)))];
      const stored = await rows(`SELECT id::text AS id FROM github.${table} WHERE id::text = ANY($1)`, [ids]);
      expect(stored.map((row) => row['id']).sort()).toEqual(ids.sort());
    },
  );

  it('stores push commits by sha, and branch creates and deletes', async () => {
    const push = examples
      .find((group) => group.name === 'push')!
      .examples.find((example) => (example as { commits: unknown[] }).commits.length > 0) as {
      commits: { id: string }[];
      repository: { id: number; full_name: string };
    };
    expect((await deliver('push', push)).status).toBe(200);
    const repository = push.repository;
    const branch = { ref: `feature-${randomBytes(3).toString('hex')}`, ref_type: 'branch', repository };
    expect((await deliver('create', branch)).status).toBe(200);
    await expect.poll(waiting, { timeout: 10_000 }).toBe(0);
    const commits = await rows('SELECT id, repository FROM github.commits WHERE id = ANY($1)', [
      push.commits.map((commit) => commit.id),
    ]);
    expect(commits).toHaveLength(push.commits.length);
    expect(commits[0]!['repository']).toBe(repository.full_name);
    const branchRow = () =>
      rows('SELECT is_deleted FROM github.branches WHERE id = $1', [`${repository.id}/${branch.ref}`]);
    expect(await branchRow()).toEqual([{ is_deleted: false }]);

    expect((await deliver('delete', branch)).status).toBe(200);
    await expect.poll(async () => (await branchRow())[0]?.['is_deleted']).toBe(true);
  });

  it('keeps the newer state when an older payload arrives later, and a redelivery changes nothing', async () => {
    const opened = examples.find((group) => group.name === 'issues')!.examples.find((e) => e.action === 'opened') as {
      issue: Record<string, unknown>;
    };
    const id = Number(`9${Date.now() % 1_000_000_000}`);
    const at = (seconds: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, seconds)).toISOString();
    const issue = (title: string, seconds: number) => ({
      ...opened,
      action: 'edited',
      issue: { ...opened.issue, id, title, updated_at: at(seconds) },
    });
    const delivery = randomUUID();
    expect((await deliver('issues', issue('newer', 20), { delivery })).status).toBe(200);
    expect((await deliver('issues', issue('older', 10))).status).toBe(200);
    const again = await deliver('issues', issue('newer', 20), { delivery });
    expect(again).toEqual({ status: 200, body: { received: true, duplicate: true } });
    await expect.poll(waiting, { timeout: 10_000 }).toBe(0);
    expect(await rows('SELECT title, is_deleted FROM github.issues WHERE id = $1', [id])).toEqual([
      { title: 'newer', is_deleted: false },
    ]);
    expect(await rows('SELECT count(*)::int AS n FROM github.events WHERE id = $1', [delivery])).toEqual([{ n: 1 }]);

    // A delete of the same state marks the row deleted; the object is kept.
    expect((await deliver('issues', { ...issue('newer', 20), action: 'deleted' })).status).toBe(200);
    await expect
      .poll(async () => (await rows('SELECT is_deleted FROM github.issues WHERE id = $1', [id]))[0]?.['is_deleted'])
      .toBe(true);
  });

  it('has applied a delivery once it acknowledges it: the batch is logged and applied in one statement', async () => {
    const opened = examples.find((group) => group.name === 'issues')!.examples.find((e) => e.action === 'opened') as {
      issue: Record<string, unknown>;
    };
    const id = Number(`6${Date.now() % 100_000_000}`);
    const delivery = randomUUID();
    const { status } = await deliver(
      'issues',
      { ...opened, issue: { ...opened.issue, id, title: 'acknowledged' } },
      {
        delivery,
      },
    );
    expect(status).toBe(200);
    // No polling: by the 200 the event is processed and its object stored.
    expect(await rows('SELECT status, attempts FROM github.events WHERE id = $1', [delivery])).toEqual([
      { status: 'processed', attempts: 1 },
    ]);
    expect(await rows('SELECT title, last_event_id FROM github.issues WHERE id = $1', [id])).toEqual([
      { title: 'acknowledged', last_event_id: delivery },
    ]);
  });

  it('moves a transferred issue: the old row is deleted, the new one stored', async () => {
    const transferred = examples
      .find((group) => group.name === 'issues')!
      .examples.find((e) => e.action === 'transferred') as {
      issue: { id: number };
      changes: { new_issue: { id: number } };
    };
    expect((await deliver('issues', transferred)).status).toBe(200);
    await expect.poll(waiting, { timeout: 10_000 }).toBe(0);
    expect(await rows('SELECT is_deleted FROM github.issues WHERE id = $1', [transferred.issue.id])).toEqual([
      { is_deleted: true },
    ]);
    expect(
      await rows('SELECT is_deleted FROM github.issues WHERE id = $1', [transferred.changes.new_issue.id]),
    ).toEqual([{ is_deleted: false }]);
  });

  it('applies the deliveries beside one that cannot be applied; that one alone waits for its retry', async () => {
    const opened = examples.find((group) => group.name === 'issues')!.examples.find((e) => e.action === 'opened') as {
      issue: Record<string, unknown>;
    };
    const base = Number(`7${Date.now() % 100_000_000}`) * 100;
    const good = Array.from({ length: 30 }, (_, i) => ({ id: base + i, delivery: randomUUID() }));
    const bad = randomUUID();
    // An issue id that is not a number cannot be stored: the batch it shares fails as a whole.
    const statuses = await Promise.all([
      ...good.map(({ id, delivery }) =>
        deliver('issues', { ...opened, issue: { ...opened.issue, id, title: `good ${id}` } }, { delivery }),
      ),
      deliver('issues', { ...opened, issue: { ...opened.issue, id: 'not-a-number' } }, { delivery: bad }),
    ]);
    expect(statuses.map((answer) => answer.status)).toEqual(statuses.map(() => 200));
    const deliveries = good.map((g) => g.delivery);
    await expect
      .poll(
        async () =>
          (
            await rows("SELECT count(*)::int AS n FROM github.events WHERE id = ANY($1) AND status = 'processed'", [
              deliveries,
            ])
          )[0]!['n'],
        { timeout: 10_000 },
      )
      .toBe(good.length);
    const stored = await rows('SELECT count(*)::int AS n FROM github.issues WHERE id = ANY($1)', [
      good.map((g) => g.id),
    ]);
    expect(stored).toEqual([{ n: good.length }]);
    await expect
      .poll(
        async () => (await rows('SELECT status, attempts, last_error FROM github.events WHERE id = $1', [bad]))[0],
        {
          timeout: 10_000,
        },
      )
      .toMatchObject({ status: 'received', attempts: 1, last_error: expect.stringMatching(/bigint|invalid input/i) });
    // Out of the way of the tests after this one, which wait for every event to be processed.
    await rows('DELETE FROM github.events WHERE id = $1', [bad]);
  });

  it('answers ping, and stores event types it does not sync without changing a table', async () => {
    const ping = examples.find((group) => group.name === 'ping')!.examples[0]!;
    const star = examples.find((group) => group.name === 'star')!.examples[0]!;
    const delivery = randomUUID();
    expect((await deliver('ping', ping)).status).toBe(200);
    expect((await deliver('star', star, { delivery })).status).toBe(200);
    await expect.poll(waiting, { timeout: 10_000 }).toBe(0);
    expect(await rows('SELECT type, status FROM github.events WHERE id = $1', [delivery])).toEqual([
      { type: `star.${(star as { action: string }).action}`, status: 'processed' },
    ]);
  });

  it.each<[string, Parameters<typeof deliver>[2], number, string]>([
    ['a wrong signature', { secret: 'not-the-secret-at-all' }, 400, 'WEBHOOK_SIGNATURE_INVALID'],
    ['a malformed signature', { signature: 'sha256=zz' }, 400, 'WEBHOOK_SIGNATURE_INVALID'],
    ['no signature', { signature: '' }, 400, 'WEBHOOK_SIGNATURE_INVALID'],
    ['a signed body that is not JSON', { body: 'not json' }, 400, 'BAD_REQUEST'],
    ['a body over the limit', { body: JSON.stringify({ pad: 'x'.repeat(2_000_000) }) }, 413, 'PAYLOAD_TOO_LARGE'],
  ])('refuses %s and stores nothing', async (_label, options, status, code) => {
    const before = await rows('SELECT count(*)::int AS n FROM github.events');
    const delivery = randomUUID();
    const answer = await deliver('issues', { action: 'opened', issue: { id: 1 } }, { ...options, delivery });
    expect(answer.status).toBe(status);
    expect(JSON.stringify(answer.body)).toContain(code);
    expect(await rows('SELECT count(*)::int AS n FROM github.events')).toEqual(before);
  });
});

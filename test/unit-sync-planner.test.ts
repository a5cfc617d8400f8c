/**
 * The sync core's query planner (gateway/sync/planner.ts) over Stripe's views, without a database: the select list it
 * writes for a selection, the relation subqueries and their page sizes, fragments, the plan
 * cache, and how rows read back as arrays become objects. The resolve info is real: the query
 * runs against the printed schema (schema/schema.graphql) and the root field's info is kept.
 */
import { readFileSync } from 'node:fs';
import { buildSchema, execute, parse, type GraphQLResolveInfo } from 'graphql';
import { describe, expect, it } from 'vitest';
import { pageSize, PAGE_LIMIT, PlanCache, relationKey } from '../gateway/sync/planner.ts';
import type { ObjectResource } from '../plugins/stripe/resources.ts';
import { stripeViews } from '../plugins/stripe/views.ts';
import { githubViews } from '../plugins/github/views.ts';

const plans = new PlanCache(stripeViews(() => []));

const schema = buildSchema(readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8'));

/** The root field's resolve info for `query`. */
async function infoOf(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResolveInfo> {
  let info: GraphQLResolveInfo | undefined;
  await execute({
    schema,
    document: parse(query),
    variableValues: variables,
    fieldResolver: (_source, _args, _context, resolveInfo) => {
      info ??= resolveInfo;
      return null;
    },
  });
  return info!;
}

const CONNECTION = ['edges', 'node'];

async function columnsOf(
  query: string,
  variables: Record<string, unknown> = {},
  table: ObjectResource = query.includes('stripeSubscriptions') ? 'subscriptions' : 'customers',
  path = CONNECTION,
) {
  return plans.planFor(table, await infoOf(query, variables), path).columns;
}

/** The `AS "key"` names of a select list, in order (only the top level: subqueries are skipped). */
const keysOf = (columns: string) => {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && columns.startsWith(' AS "', i)) {
      const end = columns.indexOf('"', i + 5);
      keys.push(columns.slice(i + 5, end));
      i = end;
    }
  }
  return keys;
};

describe('pageSize', () => {
  it.each<[number | null | undefined, number, number]>([
    [undefined, 20, 20],
    [null, 20, 20],
    [null, 500, PAGE_LIMIT],
    [0, 20, 0],
    [1, 20, 1],
    [PAGE_LIMIT, 20, PAGE_LIMIT],
    [PAGE_LIMIT + 1, 20, PAGE_LIMIT],
    [1_000_000, 20, PAGE_LIMIT],
  ])('asked %j (default %j) → %j', (requested, fallback, size) => {
    expect(pageSize(requested, fallback)).toBe(size);
  });

  it.each([-1, -100])('refuses %j as bad user input', (requested) => {
    expect(() => pageSize(requested, 20)).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } }));
  });
});

describe('relationKey', () => {
  it.each<[string, number | undefined, string]>([
    ['price', undefined, '@price'],
    ['items', 20, '@items:20'],
    ['items', 0, '@items:0'],
  ])('%j, %j → %j', (field, limit, key) => {
    expect(relationKey(field, limit)).toBe(key);
  });
});

describe('the select list for a selection', () => {
  it.each<[string, string, string[]]>([
    ['the id is always there', '{ stripeCustomers { edges { node { name } } } }', ['id', 'name']],
    ['only the id', '{ stripeCustomers { edges { node { id } } } }', ['id']],
    ['__typename reads no column', '{ stripeCustomers { edges { node { __typename } } } }', ['id']],
    ['nothing under the connection', '{ stripeCustomers { totalCount } }', ['id']],
    [
      'camelCased fields read snake_case columns',
      '{ stripeSubscriptions { edges { node { cancelAtPeriodEnd currentPeriodEnd } } } }',
      ['id', 'cancel_at_period_end', 'current_period_end'],
    ],
    [
      'the common columns',
      '{ stripeCustomers { edges { node { created isDeleted stripeAt syncedAt } } } }',
      ['id', 'created', 'is_deleted', 'stripe_at', 'synced_at'],
    ],
    [
      'metadata is read out of data',
      '{ stripeCustomers { edges { node { data metadata } } } }',
      ['id', 'data', '.metadata'],
    ],
    [
      'a field asked twice (aliases) is read once',
      '{ stripeCustomers { edges { node { a: email b: email email } } } }',
      ['id', 'email'],
    ],
    [
      'inline fragments',
      '{ stripeCustomers { edges { node { ... on StripeCustomer { email } name } } } }',
      ['id', 'email', 'name'],
    ],
    [
      'fragment spreads, nested',
      'query { stripeCustomers { edges { node { ...A } } } } fragment A on StripeCustomer { name ...B } fragment B on StripeCustomer { balance }',
      ['id', 'name', 'balance'],
    ],
    [
      'fields of the connection around the rows are not columns',
      '{ stripeCustomers { edges { cursor node { email } } pageInfo { hasNextPage } } }',
      ['id', 'email'],
    ],
  ])('%s', async (_name, query, keys) => {
    expect(keysOf(await columnsOf(query))).toEqual(keys);
  });

  it.each<[string, string, string]>([
    ['a string column as it is', 'email', 't."email" AS "email"'],
    ['a boolean column as it is', 'delinquent', 't."delinquent" AS "delinquent"'],
    ['a bigint column as text', 'balance', 't."balance"::text AS "balance"'],
    ['a timestamp as text', 'created', 't."created"::text AS "created"'],
    ['JSON as it is', 'data', 't."data" AS "data"'],
    ['a key of data', 'metadata', `t.data->'metadata' AS ".metadata"`],
  ])('%s', async (_name, field, sql) => {
    expect(await columnsOf(`{ stripeCustomers { edges { node { ${field} } } } }`)).toBe(`t.id AS "id", ${sql}`);
  });

  it('plans a single row at the root of the field (no path)', async () => {
    const columns = await columnsOf('{ stripeCustomer(id: "cus_1") { email } }', {}, 'customers', []);
    expect(columns).toBe('t.id AS "id", t."email" AS "email"');
  });
});

describe('relations', () => {
  it.each<[string, string, string[]]>([
    [
      'has-many at the default page size',
      '{ stripeCustomers { edges { node { subscriptions { status } } } } }',
      ['id', '@subscriptions:20'],
    ],
    [
      'has-many with first',
      '{ stripeCustomers { edges { node { subscriptions(first: 5) { status } } } } }',
      ['id', '@subscriptions:5'],
    ],
    [
      'first above the limit is capped',
      '{ stripeCustomers { edges { node { subscriptions(first: 1000) { status } } } } }',
      ['id', `@subscriptions:${PAGE_LIMIT}`],
    ],
    [
      'two page sizes, two subqueries; one size asked twice, one',
      '{ stripeCustomers { edges { node { a: subscriptions(first: 1) { id } b: subscriptions(first: 2) { id } c: subscriptions(first: 1) { status } } } } }',
      ['id', '@subscriptions:1', '@subscriptions:2'],
    ],
    ['belongs-to', '{ stripeSubscriptions { edges { node { customer { email } } } } }', ['id', '@customer']],
  ])('%s', async (_name, query, keys) => {
    const table: ObjectResource = query.includes('stripeSubscriptions') ? 'subscriptions' : 'customers';
    expect(keysOf(await columnsOf(query, {}, table))).toEqual(keys);
  });

  it('writes a has-many subquery over the related table, newest first, with the page size', async () => {
    const columns = await columnsOf('{ stripeCustomers { edges { node { subscriptions(first: 7) { status } } } } }');
    expect(columns).toContain('FROM "stripe"."subscriptions" AS r1');
    expect(columns).toMatch(/WHERE r1\."customer" = t\."id" AND NOT r1\.is_deleted/);
    expect(columns).toContain('LIMIT 7');
    expect(columns).toContain('json_build_array(r1.id, r1."status")');
  });

  it('nests relations as deep as the selection goes, each level its own alias', async () => {
    const columns = await columnsOf(
      '{ stripeCustomers { edges { node { subscriptions { items(first: 3) { quantity price { currency } } } } } } }',
    );
    expect(columns).toContain('FROM "stripe"."subscriptions" AS r1');
    expect(columns).toMatch(/FROM "stripe"\."subscription_items" AS r2\s+WHERE r2\."subscription" = r1\."id"/);
    expect(columns).toContain('LIMIT 3');
    expect(columns).toMatch(/FROM "stripe"\."prices" AS r3 WHERE r3\."id" = r2\."price"/);
    expect(columns).toContain('r2."quantity"::text');
  });

  it('refuses more than 100 distinct fields and page sizes in one selection', async () => {
    const many = Array.from({ length: 100 }, (_, i) => `s${i}: subscriptions(first: ${i}) { id }`).join(' ');
    await expect(columnsOf(`{ stripeCustomers { edges { node { ${many} } } } }`)).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringMatching(/Too many fields of StripeCustomer/),
    });
    const fewer = Array.from({ length: 99 }, (_, i) => `s${i}: subscriptions(first: ${i}) { id }`).join(' ');
    expect(keysOf(await columnsOf(`{ stripeCustomers { edges { node { ${fewer} } } } }`))).toHaveLength(100);
  });

  it('refuses a negative page size', async () => {
    await expect(
      columnsOf('{ stripeCustomers { edges { node { subscriptions(first: -1) { id } } } } }'),
    ).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
});

describe('complete: rows read as arrays become objects', () => {
  it.each<[string, string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'has-many rows, in their order',
      '{ stripeCustomers { edges { node { subscriptions { status } } } } }',
      {
        id: 'cus_1',
        '@subscriptions:20': [
          ['sub_2', 'active'],
          ['sub_1', 'canceled'],
        ],
      },
      {
        id: 'cus_1',
        '@subscriptions:20': [
          { id: 'sub_2', status: 'active' },
          { id: 'sub_1', status: 'canceled' },
        ],
      },
    ],
    [
      'no related rows',
      '{ stripeCustomers { edges { node { subscriptions { status } } } } }',
      { id: 'cus_1', '@subscriptions:20': [] },
      { id: 'cus_1', '@subscriptions:20': [] },
    ],
    [
      'a belongs-to row not synced is null',
      '{ stripeSubscriptions { edges { node { customer { email } } } } }',
      { id: 'sub_1', '@customer': null },
      { id: 'sub_1', '@customer': null },
    ],
    [
      'a belongs-to row',
      '{ stripeSubscriptions { edges { node { customer { email } } } } }',
      { id: 'sub_1', '@customer': ['cus_1', 'a@example.test'] },
      { id: 'sub_1', '@customer': { id: 'cus_1', email: 'a@example.test' } },
    ],
    [
      'nested relations',
      '{ stripeSubscriptions { edges { node { items { price { currency } } } } } }',
      {
        id: 'sub_1',
        '@items:20': [
          ['si_1', ['price_1', 'usd']],
          ['si_2', null],
        ],
      },
      {
        id: 'sub_1',
        '@items:20': [
          { id: 'si_1', '@price': { id: 'price_1', currency: 'usd' } },
          { id: 'si_2', '@price': null },
        ],
      },
    ],
  ])('%s', async (_name, query, row, expected) => {
    const table: ObjectResource = query.includes('stripeSubscriptions') ? 'subscriptions' : 'customers';
    plans.planFor(table, await infoOf(query), CONNECTION).complete(row);
    expect(row).toEqual(expected);
  });
});

describe('the plan cache', () => {
  const query =
    'query($email: String, $n: Int) { stripeCustomers(email: $email) { edges { node { ...F } } } } fragment F on StripeCustomer { subscriptions(first: $n) { id } }';

  it('keeps one plan per field and values of the variables used below it', async () => {
    const info = await infoOf(query, { email: 'a@example.test', n: 2 });
    const first = plans.planFor('customers', info, CONNECTION);
    // A filter on the root field does not change the plan: the same one is reused.
    const sameBelow = { ...info, variableValues: { email: 'b@example.test', n: 2 } };
    expect(plans.planFor('customers', sameBelow, CONNECTION)).toBe(first);
    // A variable used below (through the fragment) does.
    const otherBelow = { ...info, variableValues: { email: 'a@example.test', n: 3 } };
    const second = plans.planFor('customers', otherBelow, CONNECTION);
    expect(second).not.toBe(first);
    expect(keysOf(first.columns)).toEqual(['id', '@subscriptions:2']);
    expect(keysOf(second.columns)).toEqual(['id', '@subscriptions:3']);
  });

  it('plans another operation afresh', async () => {
    const a = plans.planFor('customers', await infoOf(query, { n: 2 }), CONNECTION);
    const b = plans.planFor('customers', await infoOf(query, { n: 2 }), CONNECTION);
    expect(b).not.toBe(a);
    expect(b.columns).toBe(a.columns);
  });
});

describe('GitHub views: joins on several columns, relation filters as parameters', () => {
  const github = new PlanCache(githubViews(() => []));

  it('joins an issue to its comments on repository and number', async () => {
    const plan = github.planFor(
      'issues',
      await infoOf('{ githubIssues { edges { node { comments { edges { node { body } } } } } } }'),
      CONNECTION,
    );
    expect(plan.columns).toContain('FROM "github"."issue_comments" AS r1');
    expect(plan.columns).toContain('r1."repository" = t."repository" AND r1."issue_number" = t."number"');
    expect(plan.columns).toContain(`r1.data->'body'`);
    expect(plan.params).toEqual([]);
  });

  it('binds relation filters as parameters numbered after the root statement’s own', async () => {
    const info = await infoOf(
      '{ githubRepository(owner: "a", name: "b") { issues(first: 3, filter: { state: "open", labels: ["x", "y"] }) { edges { node { id } } } } }',
    );
    const plan = github.planFor('repositories', info);
    expect(plan.params).toEqual(['open', '[{"name":"x"},{"name":"y"}]']);
    expect(plan.columns).toContain(`r1."state" = $@1 AND r1.data->'labels' @> $@2::jsonb`);
    const text = github.textOf(plan, 'view-single', 'repositories', {
      rootValues: 2,
      where: 'AND lower(t."owner") = lower($1) AND lower(t."name") = lower($2)',
      order: { column: 'updated_at', direction: 'DESC' },
    });
    expect(text).toContain(`r1."state" = $3 AND r1.data->'labels' @> $4::jsonb`);
    expect(text).not.toContain('$@');
    expect(keysOf(plan.columns)).toEqual(['id', expect.stringMatching(/^@issues:3:[\w-]{12}$/)]);
  });

  it('gives the same relation asked with other filters its own key', () => {
    const open = relationKey('issues', 3, { state: 'open' });
    expect(open).not.toBe(relationKey('issues', 3, { state: 'closed' }));
    expect(relationKey('issues', 3, { state: 'open', repo: 'a/b' })).toBe(
      relationKey('issues', 3, { repo: 'a/b', state: 'open' }),
    );
    expect(relationKey('issues', 3, {})).toBe('@issues:3');
  });
});

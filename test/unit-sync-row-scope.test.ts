/**
 * The sync core's row scope (SyncViews.rowScope) over Shopify's views, without a database: a
 * scoped plan holds every relation subquery, at any depth, to the scope's values, and the root
 * row too once its text is made, the values one parameter numbered last; the text is the same
 * whatever the values, so one prepared statement serves every reader; an unrestricted reader
 * (admin) and views without a scope (GitHub, Stripe) plan without it. And which shops a Shopify
 * session may read.
 */
import { readFileSync } from 'node:fs';
import { buildSchema, execute, type GraphQLResolveInfo, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Session } from '../gateway/auth.ts';
import { PlanCache } from '../gateway/sync/planner.ts';
import { githubViews } from '../plugins/github/views.ts';
import { sessionShops } from '../plugins/shopify/views.ts';
import { shopifyViews } from '../plugins/shopify/views.ts';
import { stripeViews } from '../plugins/stripe/views.ts';

const schema = buildSchema(readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8'));

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
const PAGE = { order: { column: 'updated_at', direction: 'DESC' } };

/** The aliases of the relation subqueries in a select list (r1, r2…). */
const aliasesOf = (sql: string) => [...new Set([...sql.matchAll(/ AS (r\d+)\b/g)].map((match) => match[1]!))];

const DEEP = `query($sku: String) { shopifyProducts(filter: { vendor: "Acme" }) { edges { node { id
  variants(first: 5, filter: { sku: $sku }) { edges { node { sku inventoryItem { sku levels { edges { node { available location { name } } } } } } } }
  collections { edges { node { collection { title } } } }
} } } }`;

describe('a scoped plan', () => {
  const plans = new PlanCache(shopifyViews(() => []));

  it('holds every relation subquery, at any depth, to the scope', async () => {
    const plan = plans.planFor('products', await infoOf(DEEP, { sku: 'S1' }), CONNECTION, true);
    const aliases = aliasesOf(plan.columns);
    // variants, inventoryItem, levels, location, collections, collection
    expect(aliases).toHaveLength(6);
    for (const alias of aliases) expect(plan.columns).toContain(`${alias}."shop" = ANY($@0::text[])`);
    expect(plan.scoped).toBe(true);
    expect(plan.params).toEqual(['S1']);
  });

  it('numbers the scope after every other parameter and holds the root row to it too', async () => {
    const plan = plans.planFor('products', await infoOf(DEEP, { sku: 'S1' }), CONNECTION, true);
    // $1 the limit, $2 the vendor filter, $3 the variants' sku: the scope is $4.
    const text = plans.textOf(plan, 'view-page', 'products', { rootValues: 2, where: 'AND t."vendor" = $2', ...PAGE });
    expect(text).not.toContain('$@');
    expect(text).toContain('WHERE NOT t.is_deleted AND t."vendor" = $2 AND t."shop" = ANY($4::text[])');
    expect(text).toContain('r1."sku" = $3');
    expect(text.match(/= ANY\(\$4::text\[\]\)/g)).toHaveLength(7);
    expect(text).not.toMatch(/ANY\(\$[^4]/);
  });

  it('holds a single lookup and its relations to the scope', async () => {
    const info = await infoOf(
      '{ shopifyOrder(id: "1") { name customer { email } lineItems { edges { node { sku } } } } }',
    );
    const plan = plans.planFor('orders', info, [], true);
    const text = plans.textOf(plan, 'view-single', 'orders', { rootValues: 1, where: 'AND t.id = $1', ...PAGE });
    expect(text).toContain('WHERE true AND t.id = $1 AND t."shop" = ANY($2::text[])');
    expect(text.match(/= ANY\(\$2::text\[\]\)/g)).toHaveLength(3);
  });

  it('is one statement text whatever the values: they are not in the plan', async () => {
    const info = await infoOf(DEEP, { sku: 'S1' });
    const plan = plans.planFor('products', info, CONNECTION, true);
    expect(plans.planFor('products', info, CONNECTION, true)).toBe(plan);
    expect(JSON.stringify(plan)).not.toContain('myshopify');
  });
});

describe('an unrestricted reader and views without a scope', () => {
  it('plans an admin (null scope) without the condition, apart from the scoped plan', async () => {
    const plans = new PlanCache(shopifyViews(() => []));
    const info = await infoOf(DEEP, { sku: 'S1' });
    const all = plans.planFor('products', info, CONNECTION, false);
    const scoped = plans.planFor('products', info, CONNECTION, true);
    expect(all).not.toBe(scoped);
    expect(all.scoped).toBe(false);
    expect(all.columns).not.toContain('ANY(');
    const text = plans.textOf(all, 'view-page', 'products', { rootValues: 2, where: 'AND t."vendor" = $2', ...PAGE });
    expect(text).not.toContain('ANY(');
    // The same plan but for the scope's conditions (a filter-less relation keeps a trailing space).
    const trimmed = (sql: string) => sql.replace(/ +\n/g, '\n');
    expect(trimmed(all.columns)).toBe(
      trimmed(scoped.columns.replace(/ AND r\d+\."shop" = ANY\(\$@0::text\[\]\)/g, '')),
    );
  });

  it.each([
    [
      'github',
      'repositories',
      '{ githubRepositories { edges { node { issues { edges { node { comments { edges { node { body } } } } } } } } } }',
    ],
    ['stripe', 'customers', '{ stripeCustomers { edges { node { subscriptions { items { price { id } } } } } } }'],
  ])('leaves %s plans as they were, and refuses to scope them', async (plugin, table, query) => {
    const views = plugin === 'github' ? githubViews(() => []) : stripeViews(() => []);
    const plans = new PlanCache(views);
    const info = await infoOf(query);
    const plan = plans.planFor(table, info, CONNECTION);
    expect(plan.scoped).toBe(false);
    expect(aliasesOf(plan.columns).length).toBeGreaterThan(0);
    expect(plan.columns).not.toContain('ANY(');
    const text = plans.textOf(plan, 'view-page', table, { rootValues: 1, where: '', ...PAGE });
    expect(text).toContain('WHERE NOT t.is_deleted \nORDER BY');
    expect(() => plans.planFor(table, info, CONNECTION, true)).toThrow(/declare no row scope/);
  });
});

const session = (role: string, variables: Record<string, string> = {}): Session =>
  ({ role, allowedRoles: [role], userId: null, variables }) as unknown as Session;

describe('the shops a Shopify session may read', () => {
  it.each<[string, Record<string, string>, readonly string[] | null]>([
    ['admin', {}, null],
    ['admin', { 'x-hasura-shopify-shops': 'a.myshopify.com' }, null],
    ['support', {}, []],
    ['support', { 'x-hasura-shopify-shops': '' }, []],
    ['support', { 'x-hasura-shopify-shops': 'a.myshopify.com' }, ['a.myshopify.com']],
    [
      'support',
      { 'x-hasura-shopify-shops': ' A.myshopify.com, b-2.myshopify.com ,a.myshopify.com' },
      ['a.myshopify.com', 'b-2.myshopify.com'],
    ],
    [
      'support',
      { 'x-hasura-shopify-shops': Array.from({ length: 100 }, (_, i) => `s${i}.myshopify.com`).join(',') },
      Array.from({ length: 100 }, (_, i) => `s${i}.myshopify.com`),
    ],
  ])('%s with %j reads %j', (role, variables, shops) => {
    expect(sessionShops(session(role, variables))).toEqual(shops);
  });

  it.each([
    'evil.com',
    'a.myshopify.com,',
    'a.myshopify.com;b.myshopify.com',
    "a.myshopify.com' OR true --",
    '%.myshopify.com',
    Array.from({ length: 101 }, (_, i) => `s${i}.myshopify.com`).join(','),
  ])('refuses %j with SHOPIFY_SHOPS_INVALID', (value) => {
    expect(() => sessionShops(session('support', { 'x-hasura-shopify-shops': value }))).toThrow(
      expect.objectContaining({ extensions: { code: 'SHOPIFY_SHOPS_INVALID' } }),
    );
  });
});

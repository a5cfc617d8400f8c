/**
 * With NODE_ENV=production the schema stays private: introspection in any shape, over any
 * transport, is refused with a code; validation errors suggest no field, argument, type or
 * value names; GraphiQL is not served.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type GraphQLBody, type TestGateway } from './support/gateway.ts';
import { ADMIN_SECRET } from './support/tokens.ts';
import { connectWs, type TestWsClient } from './support/ws-client.ts';

let db: TestDatabase;
let gateway: TestGateway;
let ws: TestWsClient;
// Even the admin may not introspect in production.
const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };

beforeAll(async () => {
  db = await createTestDatabase();
  gateway = await startTestGateway({ databaseUrl: db.url, env: { NODE_ENV: 'production' } });
  ws = connectWs(gateway.wsUrl, admin);
  await ws.connected;
});

afterAll(async () => {
  await ws?.client.dispose();
  await gateway?.close();
  await db?.drop();
});

type Transport = 'POST' | 'GET' | 'graphql-ws';

async function run(transport: Transport, query: string): Promise<GraphQLBody> {
  if (transport === 'POST') return (await gateway.gql(query, { headers: admin })).body;
  if (transport === 'GET') {
    const response = await fetch(`${gateway.graphqlUrl}?query=${encodeURIComponent(query)}`, {
      headers: { ...admin, 'x-graphql-yoga-csrf': '1' },
    });
    return (await response.json()) as GraphQLBody;
  }
  const subscription = ws.subscribe<Record<string, unknown>>(query);
  const result = await subscription.next();
  subscription.dispose();
  return result as GraphQLBody;
}

const transports: Transport[] = ['POST', 'GET', 'graphql-ws'];
const cases = <T extends string>(documents: [string, T][]) =>
  transports.flatMap((transport) => documents.map(([name, query]) => [transport, name, query] as const));

describe('introspection is refused', () => {
  test.each(
    cases([
      ['__schema', '{ __schema { queryType { name } } }'],
      ['__type', '{ __type(name: "Query") { fields { name } } }'],
      ['an aliased __schema', '{ s: __schema { types { name } } }'],
      ['__schema in a fragment', 'query { ...F } fragment F on Query { __schema { types { name } } }'],
      ['__type in an inline fragment', '{ ... on Query { __type(name: "Mutation") { fields { name } } } }'],
      ['__schema beside a real field', '{ viewer { role } __schema { directives { name } } }'],
      ['a named operation', 'query IntrospectionQuery { __schema { mutationType { fields { name args { name } } } } }'],
    ]),
  )('over %s: %s', async (transport, _name, query) => {
    const body = await run(transport, query);
    expect(body.errors?.length, JSON.stringify(body)).toBeGreaterThan(0);
    expect(body.errors!.map((error) => error.extensions?.['code'])).toEqual(
      body.errors!.map(() => 'GRAPHQL_VALIDATION_FAILED'),
    );
    expect(body.errors!.some((error) => /introspection/i.test(error.message))).toBe(true);
    expect(body.data ?? null).toBeNull();
    expect(JSON.stringify(body)).not.toMatch(/"(Mutation|QueryType|Subscription)"|createNotificationTemplate|__Schema/);
  });

  test('__typename still answers (it names no part of the schema beyond the type at hand)', async () => {
    expect(await run('POST', '{ __typename viewer { role } }')).toEqual({
      data: { __typename: 'Query', viewer: { role: 'admin' } },
    });
  });
});

describe('validation errors suggest nothing', () => {
  test.each(
    cases([
      ['a misspelt root field', '{ viewr { role } }'],
      ['a misspelt subfield', '{ viewer { rol } }'],
      ['a misspelt argument', '{ plugin(nam: "core") { name } }'],
      ['a misspelt variable type', 'query($n: Strin!) { plugin(name: $n) { name } }'],
      ['a misspelt enum value', '{ jobs(state: WAITNG) { edges { cursor } } }'],
      ['a misspelt input field', 'mutation { createNotificationTemplate(input: { nme: "x", body: "b" }) { version } }'],
      ['a misspelt type condition', '{ ... on Quer { viewer { role } } }'],
    ]),
  )('over %s: %s', async (transport, _name, query) => {
    const body = await run(transport, query);
    expect(body.errors?.length, JSON.stringify(body)).toBeGreaterThan(0);
    for (const error of body.errors!) {
      expect(error.message).not.toMatch(/Did you mean/i);
      // A mutation by GET is refused (BAD_REQUEST) before it is validated.
      expect(error.extensions?.['code']).toBe(
        transport === 'GET' && query.startsWith('mutation') ? 'BAD_REQUEST' : 'GRAPHQL_VALIDATION_FAILED',
      );
    }
  });
});

test('GraphiQL is not served', async () => {
  for (const accept of ['text/html', 'text/html,application/xhtml+xml,*/*;q=0.8']) {
    const response = await fetch(gateway.graphqlUrl, { headers: { accept } });
    expect(response.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
    expect(await response.text()).not.toMatch(/graphiql/i);
  }
});

/**
 * Hasura actions vs GraphQL: the same mutation (`markNotificationsRead(all: true)` for one user,
 * an UPDATE on notifications.notifications) through `POST /hasura/actions` with Hasura's action
 * payload and session variables, and through `POST /graphql` with the same session (admin
 * secret acting as that user). One gateway on core 1, autocannon here on core 0; short rounds
 * in turn, the figure is the median of per-round ratios. Goal: actions >= 90 % of /graphql.
 *
 * Run: npm run bench:hasura   (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS)
 */
import autocannon from 'autocannon';
import { freshDatabase, inTurn, median, readyz, runPinnedSelf, startServer, type Server } from './support.ts';

// autocannon in this process on core 0, as the servers are on core 1 (when pinned).
runPinnedSelf(0);

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 8);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 20);
const ADMIN_SECRET = 'bench-admin-secret-0123456789';
const ACTION_SECRET = 'bench-action-secret-0123456789';
const USER = 'bench-user';

async function load(url: string, headers: Record<string, string>, body: unknown): Promise<number> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
  return result.requests.average;
}

const database = await freshDatabase('bench_hasura');
let gateway: Server | undefined;
try {
  gateway = await startServer(
    ['bin/plugboard.js', 'serve'],
    {
      DATABASE_URL: database.url,
      PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
      HASURA_ACTION_SECRET: ACTION_SECRET,
      PLUGBOARD_PLUGINS: 'core,notifications',
      PLUGBOARD_WORKERS: 'false',
      NODE_ENV: 'production',
      // Documents as text, as before trusted documents (issue 23).
      PLUGBOARD_DOCUMENTS: 'any',
      LOG_LEVEL: 'warn',
    },
    readyz,
  );
  const viaGraphQL = () =>
    load(
      `${gateway!.url}/graphql`,
      { 'x-hasura-admin-secret': ADMIN_SECRET, 'x-hasura-role': 'user', 'x-hasura-user-id': USER },
      {
        query: 'mutation Read($all: Boolean) { markNotificationsRead(all: $all) }',
        variables: { all: true },
      },
    );
  const viaAction = () =>
    load(
      `${gateway!.url}/hasura/actions`,
      { 'x-plugboard-action-secret': ACTION_SECRET },
      {
        action: { name: 'markNotificationsRead' },
        input: { all: true },
        session_variables: { 'x-hasura-role': 'user', 'x-hasura-user-id': USER },
        request_query: 'mutation { markNotificationsRead(all: true) }',
      },
    );
  await viaGraphQL();
  await viaAction();
  console.log(
    `Hasura actions vs /graphql — markNotificationsRead, ${CONNECTIONS} connections, ${ROUNDS} rounds × ${SECONDS} s each`,
  );
  const graphql: number[] = [];
  const actions: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await inTurn(
      round,
      async () => graphql.push(await viaGraphQL()),
      async () => actions.push(await viaAction()),
    );
    console.log(
      `  round ${round + 1}: /graphql ${graphql.at(-1)!.toFixed(0)} req/s, /hasura/actions ${actions.at(-1)!.toFixed(0)} req/s → ${((actions.at(-1)! / graphql.at(-1)!) * 100).toFixed(1)} %`,
    );
  }
  const ratios = actions.map((a, i) => a / graphql[i]!);
  console.log(
    `\n  /hasura/actions ${median(actions).toFixed(0)} req/s vs /graphql ${median(graphql).toFixed(0)} req/s → ${(median(ratios) * 100).toFixed(1)} % (goal >= 90 %)`,
  );
} finally {
  await gateway?.stop();
  await database.drop();
}

/**
 * The peer for bench/stripe-query.ts and bench/github-query.ts: PostGraphile v5 (Amber preset)
 * over the schemas in SCHEMAS (default `stripe`),
 * served by grafserv on node:http at 127.0.0.1, with production settings: GraphiQL, watch mode
 * and explain off, errors masked (v5's default), a pool of the gateway's size (POOL_SIZE).
 * The relations come from smart-tag COMMENTs the benchmark puts on the tables (there are no
 * foreign keys to read). Prints `listening http://127.0.0.1:<port>/graphql` once it serves.
 * Run with NODE_ENV=production: otherwise Grafast runs in development mode, which plans slower.
 */
import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

const pgl = postgraphile({
  extends: [PostGraphileAmberPreset],
  // Conditions and ordering on every column, indexed or not: the page filters on is_deleted, which has no index of its own.
  disablePlugins: ['PgIndexBehaviorsPlugin'],
  pgServices: [
    makePgService({
      connectionString: process.env['DATABASE_URL']!,
      schemas: (process.env['SCHEMAS'] ?? 'stripe').split(','),
      poolConfig: { max: Number(process.env['POOL_SIZE'] ?? 10) },
    }),
  ],
  grafserv: { graphiql: false, watch: false },
  grafast: { explain: false },
});
const server = createServer();
server.on('error', (error) => {
  console.error(error);
  process.exit(1);
});
await pgl.createServ(grafserv).addTo(server);
// Introspect and build the schema now rather than on the first request, before saying we are ready.
await pgl.getSchema();
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`listening http://127.0.0.1:${port}/graphql`);
});

/**
 * The peer for bench/stripe-query.ts: PostGraphile v5 (Amber preset) over the `stripe` schema,
 * served by grafserv on node:http, GraphiQL and watch mode off, a pool of the gateway's size.
 * The relations come from smart-tag COMMENTs the benchmark puts on the tables (there are no
 * foreign keys). POST /graphql answers once the schema is built.
 */
import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

const pgl = postgraphile({
  extends: [PostGraphileAmberPreset],
  // Ordering and filtering on every column, indexed or not (is_deleted has no index of its own).
  disablePlugins: ['PgIndexBehaviorsPlugin'],
  pgServices: [makePgService({ connectionString: process.env['DATABASE_URL']!, schemas: ['stripe'], poolConfig: { max: Number(process.env['POOL_SIZE'] ?? 10) } })],
  grafserv: { graphiql: false, watch: false },
  grafast: { explain: false },
});
const server = createServer();
server.on('error', (error) => {
  console.error(error);
  process.exit(1);
});
pgl.createServ(grafserv).addTo(server);
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1');

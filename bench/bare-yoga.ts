/**
 * The peer for bench/gateway.ts: a bare graphql-yoga serving the core plugin's Pothos schema
 * directly — no authentication, limits, metrics, CSRF check or composition. Listens on PORT.
 * With BARE_NO_BODY_STREAM=1 it also turns off yoga's request-body size check (which wraps every
 * body in a TransformStream), as the gateway does, checking the size in its HTTP layer instead.
 */
import { createServer } from 'node:http';
import { createYoga } from 'graphql-yoga';
import type { Context } from '../gateway/builder.ts';
import type { Database } from '../gateway/db.ts';
import { createLoaders } from '../gateway/loaders.ts';
import { createLogger } from '../gateway/logger.ts';
import { selectPlugins } from '../gateway/plugin/selection.ts';
import { createMemoryPubSub } from '../gateway/pubsub.ts';
import type { QueuePort } from '../gateway/queue/port.ts';
import { instantiatePlugins } from '../gateway/plugin/services.ts';
import { registry } from '../plugins/registry.ts';

/** The benchmark query reads only the plugin list: Postgres and the queue are never touched. */
const unused = <T extends object>(what: string) =>
  new Proxy({} as T, {
    get() {
      throw new Error(`${what} is not available in the bare benchmark peer`);
    },
  });

const log = createLogger('silent');
const pubsub = createMemoryPubSub();
const database = { url: '', pool: unused('Postgres'), embedded: null, close: async () => {} } as Database;
const queue = unused<QueuePort>('the queue');
const plugins = instantiatePlugins(selectPlugins(registry, { PLUGBOARD_PLUGINS: 'core' }));
plugins.attach({ database, pubsub, queue, log, redis: undefined, close: async () => {} });
const schema = await plugins.schema();

const session = { role: 'user', userId: 'bench-user', allowedRoles: ['user'], variables: {}, via: 'jwt' as const };
const yoga = createYoga<object, Context>({
  schema,
  logging: false,
  ...(process.env['BARE_NO_BODY_STREAM'] === '1' ? { maxRequestBodySize: false } : {}),
  context: () => ({
    session,
    db: database.pool,
    pubsub,
    queue,
    loaders: createLoaders(),
    log,
    requestId: 'bench',
    socketId: null,
  }),
});
const server = createServer(yoga);
server.listen(Number(process.env['PORT']), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

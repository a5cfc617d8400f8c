/**
 * A small real plugin for tests: a migration, a mutation that writes and publishes, a
 * subscription, an admin-only query, a field that fails unexpectedly, one that refuses its input
 * (with a code of its own), a slow field (for shutdown draining) and a CLI
 * command.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveOffsetConnection } from '@pothos/plugin-relay';
import { definePlugin } from '../../../gateway/plugin/contract.ts';
import { topic } from '../../../gateway/pubsub.ts';
import { InputError } from '../../../gateway/sdk.ts';
import manifest from './plugin.json' with { type: 'json' };

interface Message {
  id: string;
  body: string;
  author: string | null;
}

const messageAdded = topic<Message>('echo.message-added');

export default definePlugin({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  topics: [messageAdded],
  config: (values) => ({ apiKey: values.string('ECHO_API_KEY'), prefix: values.string('ECHO_PREFIX') }),
  schema(builder, runtime) {
    const MessageType = builder.objectRef<Message>('EchoMessage').implement({
      fields: (t) => ({
        id: t.exposeID('id'),
        body: t.exposeString('body'),
        author: t.exposeString('author', { nullable: true }),
      }),
    });
    builder.queryFields((t) => ({
      // A Relay connection from the shared builder, paged in SQL.
      echoMessages: t.connection({
        type: MessageType,
        resolve: (_root, args, context) =>
          resolveOffsetConnection({ args }, async ({ limit, offset }) => {
            const { rows } = await context.db.query<Message>(
              'SELECT id::text, body, author FROM echo.messages ORDER BY id LIMIT $1 OFFSET $2',
              [limit, offset],
            );
            return rows;
          }),
      }),
      echoCount: t.int({
        authScopes: { admin: true },
        resolve: async (_root, _args, context) => {
          const { rows } = await context.db.query<{ count: number }>(
            'SELECT count(*)::int AS count FROM echo.messages',
          );
          return rows[0]!.count;
        },
      }),
      echoFail: t.string({
        resolve: () => {
          throw new Error('database password is hunter2');
        },
      }),
      echoRefuse: t.string({
        args: { code: t.arg.string() },
        resolve: (_root, { code }) => {
          throw new InputError('echo refuses this input', code ?? undefined);
        },
      }),
      echoSlow: t.string({
        args: { ms: t.arg.int({ required: true }) },
        resolve: async (_root, { ms }) => {
          // Tests wait for this line to know the request is in flight.
          runtime.log.info({ ms }, 'echoSlow started');
          await sleep(ms);
          return `slept ${ms}`;
        },
      }),
    }));
    builder.mutationFields((t) => ({
      echo: t.field({
        type: MessageType,
        args: { body: t.arg.string({ required: true }) },
        resolve: async (_root, { body }, context) => {
          const { rows } = await context.db.query<Message>(
            'INSERT INTO echo.messages (body, author) VALUES ($1, $2) RETURNING id::text, body, author',
            [runtime.config.prefix + body, context.session.userId],
          );
          const message = rows[0]!;
          context.pubsub.publish(messageAdded, message);
          return message;
        },
      }),
    }));
    builder.subscriptionFields((t) => ({
      echoed: t.field({
        type: MessageType,
        authScopes: { loggedIn: true },
        subscribe: (_root, _args, context) => context.pubsub.subscribe(messageAdded),
        resolve: (message) => message,
      }),
    }));
  },
  errors: { ECHO_REFUSED: { status: 422, description: 'echo refuses this input' } },
  // A job type of this plugin's own queue, reporting progress as it counts; users may add it.
  jobs: () => ({
    echo: {
      concurrency: 2,
      public: true,
      userTypes: ['count'],
      handlers: {
        count: async (data, job) => {
          const { to, stepMs } = data as { to: number; stepMs: number };
          for (let i = 1; i <= to; i++) {
            await sleep(stepMs, undefined, { signal: job.signal });
            await job.progress(Math.round((i / to) * 100));
          }
          return { counted: to };
        },
      },
    },
  }),
  commands(command, open) {
    command
      .command('count')
      .description('Print how many messages are stored')
      .action(async () => {
        const { runtime } = await open();
        const { rows } = await runtime.db.query<{ count: number }>('SELECT count(*)::int AS count FROM echo.messages');
        console.log(`${rows[0]!.count} messages`);
      });
  },
});

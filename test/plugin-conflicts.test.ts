/**
 * One conflict rule for what the gateway collects from plugins: routes, Hasura actions and
 * triggers, queues (and so their job types), pubsub topics, CLI commands, error codes. A clash stops
 * start-up with an error naming both plugins (or the plugin and the gateway).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram, type CliIo, runCli } from '../gateway/cli.ts';
import type { QueueDefinition } from '../gateway/queue/job-types.ts';
import { PluginConflictError } from '../gateway/plugin/conflicts.ts';
import { definePlugin, type Plugin, type PluginRoute } from '../gateway/plugin/contract.ts';
import { topic } from '../gateway/pubsub.ts';
import { selectPlugins } from '../gateway/plugin/selection.ts';
import { instantiatePlugins } from '../gateway/plugin/services.ts';
import core from '../plugins/core/index.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway } from './support/gateway.ts';

interface Declares {
  routes?: PluginRoute[];
  action?: string;
  trigger?: string;
  /** A queue with one job type, `work`. */
  queue?: string;
  topic?: string;
  /** A `hello` command, under these aliases of the plugin's command. */
  commandAliases?: string[];
  errorCode?: string;
}

const route = (method: PluginRoute['method'], path: string, prefix = false): PluginRoute => ({
  method,
  path,
  prefix,
  access: 'public',
  handler: (_request, response) => void response.end(),
});

function plugin(name: string, declares: Declares): Plugin {
  const cli = declares.commandAliases !== undefined;
  return definePlugin<object>({
    manifest: {
      name,
      version: '0.0.1',
      description: `Test fixture ${name}`,
      capabilities: { service: true, jobs: true, cli },
      configuration: { required: [], optional: [] },
      ...(cli ? { commands: { hello: { description: 'Says hello' } } } : {}),
    },
    config: () => ({}),
    routes: () => declares.routes ?? [],
    hasura: {
      actions: declares.action ? { [declares.action]: { kind: 'synchronous', roles: [] } } : {},
      triggers: declares.trigger ? { [declares.trigger]: { handle: async () => null } } : {},
    },
    topics: declares.topic ? [topic<{ n: number }>(declares.topic)] : [],
    errors: declares.errorCode ? { [declares.errorCode]: { status: 409, description: 'A test code' } } : {},
    jobs: (): Record<string, QueueDefinition> =>
      declares.queue ? { [declares.queue]: { handlers: { work: async () => null } } } : {},
    ...(cli
      ? {
          commands(command) {
            command.aliases(declares.commandAliases!);
            command
              .command('hello')
              .description('Says hello')
              .action(() => {});
          },
        }
      : {}),
  }) as Plugin;
}

/** Collects everything the gateway collects at start-up from these plugins. */
function collect(first: Declares, second: Declares) {
  const set = instantiatePlugins(selectPlugins([core, plugin('alpha', first), plugin('beta', second)], {}));
  set.routes({ bodyLimit: 1024 });
  set.hasuraActions();
  set.eventTriggers();
  set.errors();
  return set;
}

describe('plugins that claim the same thing', () => {
  it.each<[string, Declares, Declares, RegExp]>([
    [
      'the same route',
      { routes: [route('POST', '/hooks/x')] },
      { routes: [route('POST', '/hooks/x')] },
      /route POST \/hooks\/x is declared by both alpha and beta/,
    ],
    [
      'ANY and GET on one path',
      { routes: [route('ANY', '/x')] },
      { routes: [route('GET', '/x')] },
      /route GET \/x is declared by both alpha and beta/,
    ],
    [
      'a path under a prefix route',
      { routes: [route('GET', '/admin', true)] },
      { routes: [route('GET', '/admin/queues')] },
      /route GET \/admin\/queues is declared by both alpha and beta/,
    ],
    [
      'a Hasura action',
      { action: 'doThing' },
      { action: 'doThing' },
      /Hasura action "doThing" is declared by both alpha and beta/,
    ],
    [
      'a Hasura event trigger',
      { trigger: 'on_row' },
      { trigger: 'on_row' },
      /Hasura event trigger "on_row" is declared by both alpha and beta/,
    ],
    [
      'a queue (even for other job types)',
      { queue: 'shared' },
      { queue: 'shared' },
      /queue "shared" is declared by both alpha and beta/,
    ],
    ['a pubsub topic', { topic: 'things' }, { topic: 'things' }, /topic "things" is declared by both alpha and beta/],
    [
      "the gateway's own topic",
      {},
      { topic: 'webhook.events' },
      /topic "webhook.events" is declared by both gateway and beta/,
    ],
    [
      'an error code',
      { errorCode: 'THING_TAKEN' },
      { errorCode: 'THING_TAKEN' },
      /error code "THING_TAKEN" is declared by both alpha and beta/,
    ],
    [
      "one of the gateway's error codes",
      {},
      { errorCode: 'NOT_FOUND' },
      /error code "NOT_FOUND" is declared by both the gateway and beta/,
    ],
    ['an error code not in UPPER_SNAKE', { errorCode: 'thing-taken' }, {}, /alpha: error code thing-taken/],
  ])('%s stops start-up naming both plugins', (_what, first, second, message) => {
    expect(() => collect(first, second)).toThrow(message);
  });

  it.each<[string, Declares, Declares]>([
    ['different methods on one path', { routes: [route('GET', '/x')] }, { routes: [route('POST', '/x')] }],
    [
      'a path beside a prefix route',
      { routes: [route('GET', '/admin', true)] },
      { routes: [route('GET', '/administer')] },
    ],
    [
      'different actions, triggers, queues, topics and error codes',
      { action: 'a', trigger: 't1', queue: 'q1', topic: 'one', errorCode: 'ALPHA_TAKEN' },
      { action: 'b', trigger: 't2', queue: 'q2', topic: 'two', errorCode: 'BETA_TAKEN' },
    ],
  ])('%s is no clash', (_what, first, second) => {
    const set = collect(first, second);
    expect(set.jobs.queues()).toEqual([first.queue, second.queue].filter((queue) => queue !== undefined));
  });

  describe('CLI commands (`plugboard <plugin> …` beside the built-in ones)', () => {
    const quiet: CliIo = { out: () => {}, err: () => {} };
    const program = (...plugins: Plugin[]) => createProgram([core, ...plugins], {}, quiet, []);

    it.each<[string, Plugin[], RegExp]>([
      [
        'a plugin named like a built-in command',
        [plugin('migrate', { commandAliases: [] })],
        /command "migrate" is declared by both gateway and migrate/,
      ],
      [
        "a plugin's alias taking a built-in command",
        [plugin('alpha', { commandAliases: ['schema'] })],
        /command "schema" is declared by both gateway and alpha/,
      ],
      [
        'a plugin named help',
        [plugin('help', { commandAliases: [] })],
        /command "help" is declared by both gateway and help/,
      ],
      [
        'two plugins giving their commands the same alias',
        [plugin('alpha', { commandAliases: ['a'] }), plugin('beta', { commandAliases: ['a'] })],
        /command "a" is declared by both alpha and beta/,
      ],
      [
        "an alias taking another plugin's name",
        [plugin('alpha', { commandAliases: ['beta'] }), plugin('beta', { commandAliases: [] })],
        /command "beta" is declared by both alpha and beta/,
      ],
    ])('%s stops the CLI naming both', (_what, plugins, message) => {
      expect(() => program(...plugins)).toThrow(PluginConflictError);
      expect(() => program(...plugins)).toThrow(message);
    });

    it('a plugin named like a built-in but without commands takes no command', () => {
      const names = program(plugin('migrate', {})).commands.map((command) => command.name());
      expect(names.filter((name) => name === 'migrate')).toHaveLength(1);
    });

    it('runs the commands of plugins that do not clash', async () => {
      const out: string[] = [];
      const io: CliIo = { out: (text) => out.push(text), err: (text) => out.push(text) };
      const registry = [core, plugin('alpha', { commandAliases: ['al'] }), plugin('beta', { commandAliases: [] })];
      expect(await runCli(['node', 'plugboard', 'al', '--help'], registry, {}, io)).toBe(0);
      expect(out.join('')).toMatch(/Usage: plugboard alpha\|al \[options\] \[command\][\s\S]*hello +Says hello/);
    });

    it('exits 1 with the clash as its message', async () => {
      const err: string[] = [];
      const io: CliIo = { out: () => {}, err: (text) => err.push(text) };
      expect(
        await runCli(['node', 'plugboard', '--help'], [core, plugin('serve', { commandAliases: [] })], {}, io),
      ).toBe(1);
      expect(err.join('')).toMatch(/command "serve" is declared by both gateway and serve/);
    });
  });

  describe('a gateway starting with them', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(async () => {
      await db?.drop();
    });

    it('does not start, and says which plugins clash', async () => {
      const plugins = [core, plugin('alpha', { action: 'doThing' }), plugin('beta', { action: 'doThing' })];
      await expect(
        startTestGateway({ databaseUrl: db.url, plugins, env: { HASURA_ACTION_SECRET: 'conflict-secret-0123456789' } }),
      ).rejects.toThrow(/Hasura action "doThing" is declared by both alpha and beta/);
    });

    it('does not start when two plugins declare one error code, and names both', async () => {
      const plugins = [
        core,
        plugin('alpha', { errorCode: 'THING_TAKEN' }),
        plugin('beta', { errorCode: 'THING_TAKEN' }),
      ];
      await expect(startTestGateway({ databaseUrl: db.url, plugins })).rejects.toThrow(
        /error code "THING_TAKEN" is declared by both alpha and beta/,
      );
    });
  });
});

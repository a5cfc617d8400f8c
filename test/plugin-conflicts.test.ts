/**
 * One conflict rule for what the gateway collects from plugins: routes, Hasura actions and
 * triggers, job types, error codes. A clash stops start-up with an error naming both plugins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueDefinition } from '../gateway/queue/job-types.ts';
import { definePlugin, type Plugin, type PluginRoute } from '../gateway/plugin/contract.ts';
import { selectPlugins } from '../gateway/plugin/selection.ts';
import { instantiatePlugins } from '../gateway/plugin/services.ts';
import core from '../plugins/core/index.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway } from './support/gateway.ts';

interface Declares {
  routes?: PluginRoute[];
  action?: string;
  trigger?: string;
  jobType?: string;
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
  return definePlugin<object>({
    manifest: {
      name,
      version: '0.0.1',
      description: `Test fixture ${name}`,
      capabilities: { service: true, jobs: true },
      configuration: { required: [], optional: [] },
    },
    config: () => ({}),
    routes: () => declares.routes ?? [],
    hasura: {
      actions: declares.action ? { [declares.action]: { kind: 'synchronous', roles: [] } } : {},
      triggers: declares.trigger ? { [declares.trigger]: { handle: async () => null } } : {},
    },
    errors: declares.errorCode ? { [declares.errorCode]: { status: 409, description: 'A test code' } } : {},
    jobs: (): Record<string, QueueDefinition> =>
      declares.jobType ? { shared: { handlers: { [declares.jobType]: async () => null } } } : {},
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
      'a job type on one queue',
      { jobType: 'work' },
      { jobType: 'work' },
      /Job type "work" on queue "shared" is declared by both alpha and beta/,
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
      'different actions, triggers, job types and error codes',
      { action: 'a', trigger: 't1', jobType: 'j1', errorCode: 'ALPHA_TAKEN' },
      { action: 'b', trigger: 't2', jobType: 'j2', errorCode: 'BETA_TAKEN' },
    ],
  ])('%s is no clash', (_what, first, second) => {
    const set = collect(first, second);
    expect(set.jobs.queues()).toEqual(first.jobType ? ['shared'] : []);
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

/**
 * A plugin's instance (`setup` in gateway/plugin/contract.ts): made once per runtime, never while the
 * schema is built, and the same object reaches every hook, the CLI's `open()`, start and stop.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../gateway/cli.ts';
import { definePlugin, type InstanceOf, type PluginRuntime } from '../gateway/plugin/contract.ts';
import { selectPlugins } from '../gateway/plugin/selection.ts';
import { instantiatePlugins } from '../gateway/plugin/services.ts';
import core from '../plugins/core/index.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway } from './support/gateway.ts';

const ACTION_SECRET = 'counter-action-secret-0123456789';

interface Counter {
  /** 1 for the first instance made in this file, 2 for the second, … */
  serial: number;
  runtime: PluginRuntime<object>;
  /** Jobs this instance's handler ran. */
  jobs: string[];
}

/** What the plugin saw, reset per test. */
const seen = {
  setups: [] as Counter[],
  getters: new Map<string, InstanceOf<Counter>[]>(),
  started: [] as Counter[],
  stopped: [] as Counter[],
  opened: [] as Counter[],
};
const hooked = (hook: string, instance: InstanceOf<Counter>) =>
  seen.getters.set(hook, [...(seen.getters.get(hook) ?? []), instance]);
let serials = 0;

const counter = definePlugin<object, Counter>({
  manifest: {
    name: 'counter',
    version: '0.0.1',
    description: 'Test fixture: a plugin with an instance',
    capabilities: { graphql: true, jobs: true, cli: true, service: true },
    configuration: { required: [], optional: [] },
    commands: { serial: { description: 'Print the serial of the instance the command opened' } },
  },
  config: () => ({}),
  setup(runtime) {
    const instance: Counter = { serial: ++serials, runtime, jobs: [] };
    seen.setups.push(instance);
    return instance;
  },
  schema(builder, _runtime, instance) {
    hooked('schema', instance);
    builder.queryField('counterSerial', (t) => t.int({ resolve: () => instance().serial }));
  },
  jobs(_runtime, instance) {
    hooked('jobs', instance);
    return {
      counter: {
        handlers: {
          count: async (_data, job) => {
            instance().jobs.push(job.id);
            return { serial: instance().serial };
          },
        },
      },
    };
  },
  routes(_runtime, instance) {
    hooked('routes', instance);
    return [
      {
        method: 'GET',
        path: '/counter-serial',
        access: 'public',
        handler: (_request, response) => void response.end(String(instance().serial)),
      },
    ];
  },
  sockets(_runtime, instance) {
    hooked('sockets', instance);
    return {};
  },
  hasura: {
    triggers: {
      counter_bump: {
        async handle(_event, _runtime, instance) {
          hooked('hasura trigger', instance);
          return instance().serial;
        },
      },
    },
  },
  commands(command, open) {
    command.command('serial').action(async () => {
      const { runtime, instance } = await open();
      expect(instance.runtime).toBe(runtime);
      seen.opened.push(instance);
    });
  },
  start(runtime, instance) {
    expect(instance.runtime).toBe(runtime);
    seen.started.push(instance);
  },
  stop(_runtime, instance) {
    seen.stopped.push(instance);
  },
});

const plugins = [core, counter];

function reset(): void {
  seen.setups = [];
  seen.getters = new Map();
  seen.started = [];
  seen.stopped = [];
  seen.opened = [];
}

describe('plugin instances', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('builds the schema, routes, job registry and socket hooks without running setup', async () => {
    reset();
    const set = instantiatePlugins(selectPlugins(plugins, {}));
    expect((await set.schema()).getQueryType()?.getFields()['counterSerial']).toBeDefined();
    set.routes({ bodyLimit: 1024 });
    set.sockets();
    set.eventTriggers();
    expect(set.jobs.queues()).toContain('counter');
    expect([...seen.getters.keys()].sort()).toEqual(['jobs', 'routes', 'schema', 'sockets']);
    expect(seen.setups).toEqual([]);
    const counterInstance = set.instances.find((found) => found.selected.manifest.name === 'counter')!;
    expect(counterInstance.setUp).toBe(false);
    // Asked before the services are attached, the runtime says so instead of handing out a half-made instance.
    expect(() => counterInstance.instance()).toThrow(/not started/);
    expect(seen.setups).toEqual([]);
  });

  it('sets up once per runtime and hands that instance to every hook, start and stop', async () => {
    reset();
    const env = { PLUGBOARD_PLUGINS: 'counter', HASURA_ACTION_SECRET: ACTION_SECRET };
    const first = await startTestGateway({ databaseUrl: database.url, plugins, env });
    let second: Awaited<ReturnType<typeof startTestGateway>> | undefined;
    try {
      second = await startTestGateway({ databaseUrl: database.url, plugins, env });
      expect(seen.setups).toHaveLength(2);
      const [one, two] = seen.setups as [Counter, Counter];
      expect(one).not.toBe(two);
      expect(one.runtime).not.toBe(two.runtime);
      expect(seen.started).toEqual([one, two]);

      // Each gateway's hooks got a getter for its own instance; using them sets nothing up again.
      for (const hook of ['schema', 'jobs', 'routes', 'sockets']) {
        expect(
          seen.getters.get(hook)!.map((instance) => instance()),
          hook,
        ).toEqual([one, two]);
      }
      expect((await first.gql('{ counterSerial }')).body.data).toEqual({ counterSerial: one.serial });
      expect((await second.gql('{ counterSerial }')).body.data).toEqual({ counterSerial: two.serial });
      expect(await (await fetch(`${first.url}/counter-serial`)).text()).toBe(String(one.serial));
      expect(await (await fetch(`${second.url}/counter-serial`)).text()).toBe(String(two.serial));
      // A Hasura event trigger's handler gets its gateway's instance too.
      for (const [gateway, instance] of [
        [first, one],
        [second, two],
      ] as const) {
        const answer = await fetch(`${gateway.url}/hasura/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-plugboard-action-secret': ACTION_SECRET },
          body: JSON.stringify({
            id: `bump-${instance.serial}`,
            created_at: new Date().toISOString(),
            trigger: { name: 'counter_bump' },
            table: { schema: 'public', name: 'bumps' },
            event: { op: 'MANUAL', data: { old: null, new: {} }, session_variables: { 'x-hasura-role': 'admin' } },
          }),
        });
        expect(await answer.json()).toEqual({ ok: true, result: instance.serial });
      }
      expect(seen.getters.get('hasura trigger')!.map((instance) => instance())).toEqual([one, two]);
      const { id } = await first.queue.add('counter', 'count', {});
      await vi.waitFor(() => expect([...one.jobs, ...two.jobs]).toContain(id), { timeout: 10_000 });
      expect(seen.setups).toHaveLength(2);

      await second.close();
      second = undefined;
      expect(seen.stopped).toEqual([two]);
    } finally {
      await second?.close();
      await first.close();
    }
    expect(seen.stopped).toHaveLength(2);
    expect(seen.stopped[1]).toBe(seen.setups[0]);
    expect(seen.setups).toHaveLength(2);
  });

  it("gives a command's open() the instance of the runtime it opened", async () => {
    reset();
    const io = { out: () => {}, err: (line: string) => void expect.fail(line) };
    const env = { DATABASE_URL: database.url, PLUGBOARD_PLUGINS: 'counter' };
    expect(await runCli(['node', 'plugboard', 'counter', 'serial'], plugins, env, io)).toBe(0);
    expect(await runCli(['node', 'plugboard', 'counter', 'serial'], plugins, env, io)).toBe(0);
    expect(seen.setups).toHaveLength(2);
    expect(seen.opened).toEqual(seen.setups);
  });
});

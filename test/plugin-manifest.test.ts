/**
 * A manifest says what its plugin does: capabilities, CLI commands and database tables are
 * checked against the plugin's definition at start, and a mismatch stops start-up naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../gateway/config/variables.ts';
import type { Plugin } from '../gateway/plugin/contract.ts';
import { checkRegistry } from '../gateway/plugin/selection.ts';
import core from '../plugins/core/index.ts';
import { registry } from '../plugins/registry.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import echo from './support/echo-plugin/index.ts';
import { startTestGateway } from './support/gateway.ts';

type Manifest = typeof echo.manifest & Record<string, unknown>;
const echoManifest = echo.manifest as Manifest;

/** The echo plugin with its manifest changed by `change`. */
const echoWith = (change: (manifest: Manifest) => Manifest): Plugin =>
  ({ ...echo, manifest: change(structuredClone(echoManifest)) }) as Plugin;

describe('manifest and definition', () => {
  it('agree for every registered plugin and the test plugin', () => {
    expect(() => checkRegistry([...registry, echo])).not.toThrow();
  });

  it.each<[string, (manifest: Manifest) => Manifest, RegExp]>([
    [
      'a capability without its hook',
      (m) => ({ ...m, capabilities: { ...(m['capabilities'] as object), webhooks: true } }),
      /\/capabilities\/webhooks is true, but the plugin defines no `webhooks`/,
    ],
    [
      'a hook without its capability',
      (m) => ({ ...m, capabilities: { ...(m['capabilities'] as object), jobs: false } }),
      /the plugin defines `jobs`, but \/capabilities\/jobs is not true/,
    ],
    [
      'a command listed but not defined',
      (m) => ({ ...m, commands: { ...(m['commands'] as object), purge: { description: 'x' } } }),
      /\/commands lists purge, which the plugin does not define/,
    ],
    [
      'a command defined but not listed',
      (m) => ({ ...m, commands: {} }),
      /\/commands lacks count, which the plugin defines/,
    ],
  ])('%s is refused, naming the plugin', (_what, change, message) => {
    let thrown: unknown;
    try {
      checkRegistry([core, echoWith(change)]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([
      expect.objectContaining({
        variable: 'plugin.json',
        owner: expect.stringContaining('echo'),
        message: expect.stringMatching(message),
      }),
    ]);
  });

  describe('database tables, after migrations', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(async () => {
      await db?.drop();
    });

    it.each<[string, string[], RegExp]>([
      [
        'a table the migrations do not create',
        ['messages', 'archive'],
        /\/database\/tables lists archive, which its migrations do not create in schema echo/,
      ],
      [
        'no mention of a table they do create',
        [],
        /\/database\/tables lacks messages, which its migrations create in schema echo/,
      ],
    ])('%s stops start-up', async (_what, tables, message) => {
      const plugin = echoWith((m) => ({ ...m, database: { schema: 'echo', tables } }));
      await expect(startTestGateway({ databaseUrl: db.url, plugins: [core, plugin] })).rejects.toThrow(ConfigError);
      await expect(startTestGateway({ databaseUrl: db.url, plugins: [core, plugin] })).rejects.toMatchObject({
        problems: [expect.objectContaining({ message: expect.stringMatching(message) })],
      });
    });

    it('starts when they agree', async () => {
      const gateway = await startTestGateway({
        databaseUrl: db.url,
        plugins: [core, echoWith((m) => ({ ...m, database: { schema: 'echo', tables: ['messages'] } }))],
      });
      await gateway.close();
    });
  });
});

/**
 * The `plugboard` command line: serve, migrate, plugin list/info/status, schema, and each
 * plugin's own `plugboard <plugin> <command>`. Exit codes: 0 success, 1 failure, 2 bad
 * configuration or usage.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { Logger } from 'pino';
import { InputError, UsageError } from './errors.ts';
import { collectConfigErrors, ConfigError, readConfig, type Env } from './config/variables.ts';
import { EmbeddedPostgresError, openDatabase, type Database } from './db.ts';
import type { Gateway } from './gateway.ts';
import { createLogger } from './logger.ts';
import { table } from './text-table.ts';
import { MigrationError, migrationStatus, runMigrations, type MigrationSource } from './migrations.ts';
import { claims } from './plugin/conflicts.ts';
import type { Plugin } from './plugin/contract.ts';
import { checkRegistry, selectAll, selectPlugins, statusOfPlugins } from './plugin/selection.ts';
import { instantiatePlugins, loadConfiguration, migrationSources, openServices } from './plugin/services.ts';
import { loadGatewaySettings } from './config/settings.ts';
import { eventRows, type EventListOptions, replayEvent } from './webhooks/commands.ts';
import { PRUNE_BATCH, runRetention } from './retention.ts';

export const SCHEMA_FILE = new URL('../schema/schema.graphql', import.meta.url);

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** A failure that has already been explained to the user; carries the exit code. */
class CliExit extends Error {
  readonly code: number;
  constructor(code: number, message = '') {
    super(message);
    this.code = code;
  }
}

/** A logger for commands other than `serve`: warnings and errors only, on stderr. */
function commandLogger(env: Env): Logger {
  const level = env['LOG_LEVEL'] && env['LOG_LEVEL'] !== 'info' ? env['LOG_LEVEL'] : 'warn';
  return createLogger(level as 'warn', { write: (line: string) => process.stderr.write(line) });
}

/**
 * `afterCommand` collects what a plugin command's `open()` connected (pools, Redis), for the
 * caller to close when the command ends.
 */
export function createProgram(
  registry: readonly Plugin[],
  env: Env,
  io: CliIo,
  afterCommand: (() => Promise<void>)[],
): Command {
  const program = new Command('plugboard')
    .description(
      'Plugboard: one GraphQL gateway over plugins that own synced Postgres tables, webhooks, jobs and CLI commands.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const findPlugin = (name: string) => {
    const all = selectAll(registry);
    const found = all.find((s) => s.manifest.name === name);
    if (!found)
      throw new CliExit(2, `Unknown plugin "${name}". Registered: ${all.map((s) => s.manifest.name).join(', ')}`);
    return found;
  };

  const openFor = async (log: Logger): Promise<Database> => {
    const settings = loadGatewaySettings(env);
    return openDatabase({
      databaseUrl: settings.databaseUrl,
      dataDir: settings.dataDir,
      embeddedPort: settings.embeddedPgPort,
      log,
    });
  };

  program
    .command('serve')
    .description('Run the gateway: GraphQL over HTTP and WebSocket at /graphql, /healthz, /readyz, /metrics')
    .action(async () => {
      // Signal handlers go in before start-up, so a SIGTERM that arrives while starting (or
      // right after the "listening" line) still shuts down cleanly. A second signal kills.
      let gateway: Gateway | undefined;
      let signalled: NodeJS.Signals | undefined;
      let stopped!: () => void;
      let failed!: (error: unknown) => void;
      const done = new Promise<void>((resolve, reject) => {
        stopped = resolve;
        failed = reject;
      });
      // SIGTERM is how orchestrators stop an instance: drain first, so the balancer in front
      // moves traffic elsewhere. SIGINT (Ctrl-C in a terminal) stops at once.
      const shutDown = () => {
        gateway!.log.info({ signal: signalled }, 'signal received');
        gateway!.close({ drain: signalled === 'SIGTERM' }).then(stopped, failed);
      };
      const onSignal = (signal: NodeJS.Signals) => {
        signalled = signal;
        if (gateway) shutDown();
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      // SIGHUP reads the trusted documents again; connections and sockets stay.
      process.on('SIGHUP', () => void gateway?.reloadTrustedDocuments());
      // The server and everything it serves with load only here, so other commands start quickly.
      const { startGateway } = await import('./gateway.ts');
      gateway = await startGateway({ registry, env });
      if (signalled) shutDown();
      await done;
    });

  program
    .command('migrate')
    .description('Apply pending migrations of the enabled plugins (or of one plugin)')
    .option('--plugin <name>', 'only this plugin (enabled or not)')
    .option('--status', 'show what is applied and pending; change nothing')
    .action(async (options: { plugin?: string; status?: boolean }) => {
      let sources: MigrationSource[];
      if (options.plugin) {
        loadGatewaySettings(env);
        sources = migrationSources([findPlugin(options.plugin)]);
      } else {
        sources = migrationSources(loadConfiguration(registry, env).selected.filter((s) => s.enabled));
      }
      const log = commandLogger(env);
      const database = await openFor(log);
      try {
        if (options.status) {
          const statuses = await migrationStatus(database.pool, sources);
          io.out(
            table(
              statuses.map((s) => ({
                plugin: s.plugin,
                version: s.version,
                name: s.name,
                state: s.state,
                applied_at: s.appliedAt?.toISOString() ?? null,
              })),
            ),
          );
          return;
        }
        const applied = await runMigrations(database.pool, sources, log);
        io.out(
          applied.length === 0
            ? 'Nothing to apply: every migration is applied.'
            : applied.map((m) => `applied ${m.plugin} ${String(m.version).padStart(3, '0')}_${m.name}`).join('\n'),
        );
      } finally {
        await database.close();
      }
    });

  const pluginCommand = program.command('plugin').description('Inspect the registered plugins');
  pluginCommand
    .command('list')
    .description('Every registered plugin, whether it is enabled, and why not')
    .action(() => {
      const { selected } = loadConfiguration(registry, env);
      io.out(
        table(
          statusOfPlugins(selected).map((p) => ({
            name: p.name,
            version: p.version,
            enabled: p.enabled ? 'yes' : 'no',
            reason: p.reason,
          })),
        ),
      );
    });
  pluginCommand
    .command('info')
    .description("A plugin's manifest and configuration (secrets masked)")
    .argument('<name>', 'plugin name')
    .action((name: string) => {
      const { manifest } = findPlugin(name);
      const { values, problems } = readConfig(manifest.configuration, env, `plugin ${name}`);
      const capabilities = Object.entries(manifest.capabilities)
        .filter(([, on]) => on)
        .map(([c]) => c);
      io.out(
        [
          `${manifest.name} ${manifest.version}`,
          manifest.description,
          `capabilities: ${capabilities.join(', ') || 'none'}`,
          `schema: ${manifest.database?.schema ?? manifest.name}`,
          '',
          'configuration:',
          table(
            values.entries().map((e) => ({
              variable: e.key,
              required: e.required ? 'yes' : 'no',
              value: e.value,
              description: e.description,
            })),
          ),
          ...(problems.length > 0 ? ['', 'problems:', ...problems.map((p) => `  - ${p.variable}: ${p.message}`)] : []),
          ...(manifest.commands
            ? [
                '',
                'commands:',
                ...Object.entries(manifest.commands).map(([c, d]) => `  ${c.padEnd(12)} ${d.description}`),
              ]
            : []),
        ].join('\n'),
      );
    });
  pluginCommand
    .command('status')
    .description('Enabled plugins with the state of their migrations (connects to Postgres)')
    .action(async () => {
      const { selected } = loadConfiguration(registry, env);
      const database = await openFor(commandLogger(env));
      try {
        const statuses = await migrationStatus(database.pool, migrationSources(selected));
        io.out(
          table(
            statusOfPlugins(selected).map((p) => {
              const own = statuses.filter((s) => s.plugin === p.name);
              return {
                name: p.name,
                enabled: p.enabled ? 'yes' : 'no',
                migrations:
                  own.length === 0
                    ? 'none'
                    : `${own.filter((s) => s.state === 'applied').length}/${own.length} applied`,
                reason: p.reason,
              };
            }),
          ),
        );
      } finally {
        await database.close();
      }
    });

  program
    .command('schema')
    .description('Print the composed SDL of every registered plugin (what schema/schema.graphql holds)')
    .option('--write', 'write schema/schema.graphql')
    .option('--check', 'exit 1 when schema/schema.graphql is stale')
    .action(async (options: { write?: boolean; check?: boolean }) => {
      const { printComposedSchema } = await import('./plugin/compose.ts');
      const sdl = printComposedSchema(await instantiatePlugins(selectAll(registry)).schema());
      if (options.check) {
        let current = '';
        try {
          current = readFileSync(SCHEMA_FILE, 'utf8');
        } catch {}
        if (current !== sdl)
          throw new CliExit(1, 'schema/schema.graphql is stale: run `npm run schema` and commit the result');
        io.out('schema/schema.graphql is up to date');
      } else if (options.write) {
        writeFileSync(SCHEMA_FILE, sdl);
        io.out('wrote schema/schema.graphql');
      } else {
        io.out(sdl);
      }
    });

  program
    .command('metadata')
    .description(
      "Generate Hasura metadata (actions, custom types, tracked tables, event triggers) from every registered plugin, and the allow list from the client's persisted documents, into metadata/",
    )
    .option('--write', 'write the files under metadata/')
    .option('--check', 'exit 1 when metadata/ is stale')
    .action(async (options: { write?: boolean; check?: boolean }) => {
      const [{ actionFields }, { hasuraMetadata, METADATA_DIR, pluginTables }] = await Promise.all([
        import('./hasura/routes.ts'),
        import('./hasura/metadata.ts'),
      ]);
      const plugins = instantiatePlugins(selectAll(registry));
      const tables = plugins.instances.flatMap(({ selected: entry }) =>
        pluginTables(entry.schema, entry.plugin.hasura),
      );
      // The codegen'd client's persisted documents (`npm run codegen`), for Hasura's allow list.
      const manifest = fileURLToPath(new URL('../client/generated/persisted-documents.json', import.meta.url));
      const documents = existsSync(manifest)
        ? (JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, string>)
        : undefined;
      const files = hasuraMetadata(actionFields(await plugins.schema(), plugins.hasuraActions()), tables, documents);
      const root = fileURLToPath(new URL(`../${METADATA_DIR}/`, import.meta.url));
      // Generated files left over from a table or action that is gone (README.md is hand-written).
      const leftOver = existsSync(root)
        ? readdirSync(root, { recursive: true, encoding: 'utf8' })
            .filter((path) => path.endsWith('.yaml') || path.endsWith('.graphql'))
            .filter((path) => !files.has(path.split('\\').join('/')))
        : [];
      if (options.check) {
        const stale = [...files]
          .filter(
            ([path, content]) => !existsSync(join(root, path)) || readFileSync(join(root, path), 'utf8') !== content,
          )
          .map(([path]) => path);
        if (stale.length + leftOver.length > 0)
          throw new CliExit(
            1,
            `metadata/ is stale (${[...stale, ...leftOver].join(', ')}): run \`npm run metadata\` and commit the result`,
          );
        io.out('metadata/ is up to date');
      } else if (options.write) {
        for (const [path, content] of files) {
          mkdirSync(dirname(join(root, path)), { recursive: true });
          writeFileSync(join(root, path), content);
        }
        for (const path of leftOver) rmSync(join(root, path));
        io.out(
          `wrote ${files.size} files under metadata/${leftOver.length > 0 ? `, removed ${leftOver.join(', ')}` : ''}`,
        );
      } else {
        for (const [path, content] of files) io.out(`# ${path}\n${content}`);
      }
    });

  /** Services for the enabled plugins (and `alsoEnable`, whose config must then hold), attached to them. */
  const openPlugins = async (alsoEnable?: string) => {
    const [settings, selected] = collectConfigErrors(
      () => loadGatewaySettings(env),
      () => selectPlugins(registry, env, alsoEnable ? { alsoEnable } : {}),
    );
    const log = commandLogger(env);
    const plugins = instantiatePlugins(selected);
    const services = await openServices(settings, log, migrationSources(selected.filter((s) => s.enabled)));
    afterCommand.push(() => services.close());
    plugins.attach(services);
    return plugins;
  };

  const webhooks = program.command('webhooks').description("The plugins' durable webhook logs");
  const logOf = async (plugin: string | undefined) => {
    const { webhooks: logs } = await openPlugins();
    const names = [...logs.keys()];
    if (names.length === 0) throw new CliExit(2, 'No enabled plugin receives webhooks');
    const name = plugin ?? (names.length === 1 ? names[0]! : undefined);
    if (!name) throw new CliExit(2, `Several plugins receive webhooks (${names.join(', ')}): choose one with --plugin`);
    const log = logs.get(name);
    if (!log) throw new CliExit(2, `Plugin "${name}" receives no webhooks here; enabled: ${names.join(', ')}`);
    return log;
  };
  webhooks
    .command('list')
    .description('Events in a webhook log, newest first')
    .option('--plugin <name>', 'whose log (needed when several plugins receive webhooks)')
    .option('--failed', 'only dead letters: events whose every attempt failed')
    .option('--status <status>', 'received, processed or failed')
    .option('--type <glob>', 'event types, e.g. invoice.*')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (options: { plugin?: string } & EventListOptions) => {
      const log = await logOf(options.plugin);
      io.out(table(await eventRows(log, options)));
    });
  webhooks
    .command('replay')
    .description('Apply a stored event again (a failed one, or any other) and show how it went')
    .argument('<id>', "the provider's event id")
    .option('--plugin <name>', 'whose log (needed when several plugins receive webhooks)')
    .action(async (id: string, options: { plugin?: string }) => {
      io.out(await replayEvent(await logOf(options.plugin), id));
    });

  program
    .command('prune')
    .description("Remove what is past the plugins' retention settings, in short batches, showing progress")
    .option('--plugin <name>', 'only this plugin')
    .option('--dry-run', 'count what would go, remove nothing')
    .option('--batch-size <n>', 'rows a statement deletes at most', String(PRUNE_BATCH))
    .action(async (options: { plugin?: string; dryRun?: boolean; batchSize: string }) => {
      const batchSize = Number(options.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1_000_000)
        throw new UsageError(`--batch-size must be a whole number from 1 to 1000000, got "${options.batchSize}"`);
      const plugins = await openPlugins();
      const rules = plugins.retention();
      if (options.plugin !== undefined) {
        if (!rules.has(options.plugin))
          throw new CliExit(
            2,
            `Plugin "${options.plugin}" prunes nothing here; pruning: ${[...rules.keys()].join(', ')}`,
          );
        for (const name of [...rules.keys()]) if (name !== options.plugin) rules.delete(name);
      }
      const dryRun = options.dryRun === true;
      const totals = new Map<string, number>();
      const outcomes = await runRetention(plugins.instances[0]!.runtime.db, rules, {
        now: new Date(),
        dryRun,
        batchSize,
        progress(_plugin, rule, rows, note) {
          const total = (totals.get(rule.name) ?? 0) + rows;
          totals.set(rule.name, total);
          io.err(`${rule.name}: ${note ?? `${total} rows ${dryRun ? 'to remove' : 'removed'} so far`}`);
        },
      });
      io.out(
        table(
          outcomes.map((o) => ({
            plugin: o.plugin,
            what: o.rule,
            keeps: o.keeps,
            [dryRun ? 'would remove' : 'removed']: o.skipped ? 'skipped: a prune of it is running' : String(o.rows),
          })),
        ),
      );
    });

  // `plugboard <plugin> …` sits beside the built-in commands: a plugin's command whose name (or an
  // alias the plugin gives it) is a built-in's or another plugin's stops the CLI naming both.
  const claimCommand = claims('The command');
  for (const builtIn of [...program.commands.flatMap((c) => [c.name(), ...c.aliases()]), 'help'])
    claimCommand('gateway', builtIn);
  for (const plugin of registry) {
    if (!plugin.commands) continue;
    const { manifest } = checkRegistry([plugin])[0]!;
    // Made apart from the program and added once its names are checked (commander would refuse a
    // clash with an error naming neither plugin); it takes the program's settings as `command()` would.
    const command = new Command(manifest.name).copyInheritedSettings(program).description(manifest.description);
    plugin.commands(command, async () => {
      // The commanded plugin runs even when PLUGBOARD_PLUGINS leaves it out; its config must hold.
      const plugins = await openPlugins(manifest.name);
      const { runtime, instance } = plugins.instances.find((found) => found.selected.manifest.name === manifest.name)!;
      return { runtime, instance: instance() };
    });
    for (const name of [command.name(), ...command.aliases()]) claimCommand(manifest.name, name);
    program.addCommand(command);
  }
  return program;
}

export async function runCli(
  argv: string[],
  registry: readonly Plugin[],
  env: Env = process.env,
  io: CliIo = processIo,
): Promise<number> {
  const afterCommand: (() => Promise<void>)[] = [];
  try {
    await createProgram(registry, env, io, afterCommand).parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof CliExit) {
      if (error.message) io.err(error.message);
      return error.code;
    }
    if (
      error instanceof ConfigError ||
      error instanceof UsageError ||
      error instanceof InputError ||
      error instanceof EmbeddedPostgresError
    ) {
      io.err(error.message);
      return 2;
    }
    if (error instanceof MigrationError) {
      io.err(error.message);
      return 1;
    }
    io.err(`plugboard: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    for (const close of afterCommand.reverse()) await close().catch(() => {});
  }
}

/**
 * Start-up checks of the registry: each manifest against the JSON schema, PLUGBOARD_PLUGINS
 * against the registered names, and each enabled plugin's configuration against its manifest.
 * Every problem is collected, then reported at once (the CLI exits 2).
 */
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { Command } from 'commander';
import manifestSchema from './manifest.schema.json' with { type: 'json' };
import {
  ConfigError,
  missingRequired,
  readConfig,
  type ConfigProblem,
  type ConfigValues,
  type Env,
} from '../config/variables.ts';
import type { MigrationSource } from '../migrations.ts';
import type { Plugin, PluginManifest, PluginStatus } from './contract.ts';

export interface SelectedPlugin {
  plugin: Plugin;
  manifest: PluginManifest;
  /** The Postgres schema the plugin owns. */
  schema: string;
  migrationsDir: string | null;
  enabled: boolean;
  reason: string | null;
  /** Validated values (set for enabled plugins; partial for disabled ones, for display). */
  values: ConfigValues;
}

const validateManifest = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile<PluginManifest>(
  manifestSchema,
);

function describe(error: ErrorObject): string {
  return `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}`;
}

/** Validates one manifest; throws ConfigError naming what is wrong. */
export function checkManifest(raw: object, where: string): PluginManifest {
  if (validateManifest(raw)) return raw;
  throw new ConfigError(
    (validateManifest.errors ?? []).map((e) => ({ variable: 'plugin.json', owner: where, message: describe(e) })),
  );
}

/** The hook that delivers each capability a manifest can claim ("service" is start/stop, optional either way). */
const CAPABILITY_HOOKS = {
  graphql: 'schema',
  webhooks: 'webhooks',
  jobs: 'jobs',
  cli: 'commands',
  database: 'migrations',
} as const;

/**
 * Where a manifest and its plugin disagree: a capability claimed without the hook that delivers it
 * (or a hook whose capability is not claimed), and CLI commands listed but not defined, or defined
 * but not listed. The tables it lists are compared with the database after migrations (gateway.ts).
 */
function mismatches(plugin: Plugin, manifest: PluginManifest): string[] {
  const found: string[] = [];
  for (const [capability, hook] of Object.entries(CAPABILITY_HOOKS)) {
    const claimed = manifest.capabilities[capability as keyof typeof CAPABILITY_HOOKS] === true;
    const defined = plugin[hook] !== undefined;
    if (claimed && !defined) found.push(`/capabilities/${capability} is true, but the plugin defines no \`${hook}\``);
    if (!claimed && defined) found.push(`the plugin defines \`${hook}\`, but /capabilities/${capability} is not true`);
  }
  const listed = Object.keys(manifest.commands ?? {}).sort();
  const command = new Command(manifest.name);
  plugin.commands?.(command, () => Promise.reject(new Error('not run: only listing commands')));
  const defined = command.commands.map((sub) => sub.name()).sort();
  const unlisted = defined.filter((name) => !listed.includes(name));
  const undefinedCommands = listed.filter((name) => !defined.includes(name));
  if (unlisted.length > 0) found.push(`/commands lacks ${unlisted.join(', ')}, which the plugin defines`);
  if (undefinedCommands.length > 0)
    found.push(`/commands lists ${undefinedCommands.join(', ')}, which the plugin does not define`);
  return found;
}

export function parsePluginList(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
}

/** Checks manifests only (for `npm run schema` and CLI listings that need no configuration). */
export function checkRegistry(registry: readonly Plugin[]): { plugin: Plugin; manifest: PluginManifest }[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const checked: { plugin: Plugin; manifest: PluginManifest }[] = [];
  registry.forEach((plugin, index) => {
    const label = `plugin #${index + 1}${'name' in plugin.manifest ? ` (${String(plugin.manifest.name)})` : ''}`;
    try {
      const manifest = checkManifest(plugin.manifest, label);
      for (const message of mismatches(plugin, manifest))
        problems.push({ variable: 'plugin.json', owner: label, message });
      if (seen.has(manifest.name))
        problems.push({
          variable: 'plugin.json',
          owner: label,
          message: `/name "${manifest.name}" is registered twice`,
        });
      seen.add(manifest.name);
      checked.push({ plugin, manifest });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return checked;
}

export function selectPlugins(
  registry: readonly Plugin[],
  env: Env,
  options: { alsoEnable?: string } = {},
): SelectedPlugin[] {
  const checked = checkRegistry(registry);
  const problems: ConfigProblem[] = [];
  const requested = parsePluginList(env['PLUGBOARD_PLUGINS']);
  const known = new Set(checked.map((c) => c.manifest.name));
  for (const name of requested ?? []) {
    if (!known.has(name)) {
      problems.push({
        variable: 'PLUGBOARD_PLUGINS',
        owner: 'gateway',
        message: `names an unknown plugin "${name}": expected a comma-separated list of ${[...known].join(', ')}`,
      });
    }
  }

  const selected = checked.map(({ plugin, manifest }): SelectedPlugin => {
    const missing = missingRequired(manifest.configuration, env);
    let enabled: boolean;
    let reason: string | null = null;
    if (plugin.alwaysEnabled || manifest.name === options.alsoEnable) enabled = true;
    else if (requested) {
      enabled = requested.includes(manifest.name);
      if (!enabled) reason = 'not listed in PLUGBOARD_PLUGINS';
    } else {
      enabled = missing.length === 0;
      if (!enabled) reason = `missing required configuration: ${missing.join(', ')}`;
    }
    const { values, problems: configProblems } = readConfig(manifest.configuration, env, `plugin ${manifest.name}`);
    if (enabled) problems.push(...configProblems);
    return toSelected(plugin, manifest, enabled, reason, values);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return selected;
}

/**
 * Every registered plugin as if enabled, without configuration: for printing the full schema
 * and migrating one plugin, which need no configuration values.
 */
export function selectAll(registry: readonly Plugin[]): SelectedPlugin[] {
  return checkRegistry(registry).map(({ plugin, manifest }) =>
    toSelected(plugin, manifest, true, null, readConfig(manifest.configuration, {}, `plugin ${manifest.name}`).values),
  );
}

function toSelected(
  plugin: Plugin,
  manifest: PluginManifest,
  enabled: boolean,
  reason: string | null,
  values: ConfigValues,
): SelectedPlugin {
  return {
    plugin,
    manifest,
    schema: manifest.database?.schema ?? manifest.name,
    migrationsDir: plugin.migrations ? fileURLToPath(plugin.migrations) : null,
    enabled,
    reason,
    values,
  };
}

/** Where a plugin's migrations are and the schema they build. */
export function migrationSourceOf(s: SelectedPlugin): MigrationSource {
  return { plugin: s.manifest.name, schema: s.schema, dir: s.migrationsDir, tables: s.manifest.database?.tables };
}

export function statusOfPlugins(selected: readonly SelectedPlugin[]): PluginStatus[] {
  return selected.map((s) => ({
    name: s.manifest.name,
    version: s.manifest.version,
    description: s.manifest.description,
    enabled: s.enabled,
    reason: s.reason,
    config: s.values.entries(),
    migrations: migrationSourceOf(s),
    hasura: {
      actions: Object.keys(s.plugin.hasura?.actions ?? {}),
      eventTriggers: Object.keys(s.plugin.hasura?.triggers ?? {}),
    },
  }));
}

import {
  type Builder,
  type ConfigEntry,
  type MigrationStatus,
  migrationStatus,
  type PluginRuntime,
  type PluginStatus,
  type Session,
} from '../../gateway/sdk.ts';

export function addCoreSchema(builder: Builder, runtime: PluginRuntime<unknown>): void {
  const ConfigEntryType = builder.objectRef<ConfigEntry>('PluginConfigEntry').implement({
    description: 'One configuration variable of a plugin. Secret values are never shown.',
    fields: (t) => ({
      key: t.exposeString('key', { description: 'The environment variable.' }),
      value: t.exposeString('value', {
        nullable: true,
        description: 'The value, `********` for a secret that is set, null when unset.',
      }),
      isSet: t.exposeBoolean('isSet'),
      secret: t.exposeBoolean('secret'),
      required: t.exposeBoolean('required'),
      description: t.exposeString('description', { nullable: true }),
    }),
  });

  const MigrationType = builder.objectRef<MigrationStatus>('PluginMigration').implement({
    description: "One of a plugin's migrations and whether this database has it.",
    fields: (t) => ({
      version: t.exposeInt('version'),
      name: t.exposeString('name'),
      state: t.exposeString('state', {
        description: 'applied, pending, changed (edited after it ran) or missing (ran, but its file is gone).',
      }),
      appliedAt: t.field({ type: 'DateTime', nullable: true, resolve: (m) => m.appliedAt }),
    }),
  });

  const PluginType = builder.objectRef<PluginStatus>('Plugin').implement({
    description: 'A registered plugin and whether this gateway runs it.',
    fields: (t) => ({
      name: t.exposeString('name'),
      version: t.exposeString('version'),
      description: t.exposeString('description'),
      enabled: t.exposeBoolean('enabled'),
      reason: t.exposeString('reason', {
        nullable: true,
        description: 'Why the plugin is disabled; null when enabled.',
      }),
      config: t.field({
        type: [ConfigEntryType],
        description: 'Configuration variables with secrets masked (admin only).',
        authScopes: { admin: true },
        resolve: (plugin) => plugin.config,
      }),
      // Batched by DataLoader: the plugins a request asks about are read in one status query.
      migrations: t.loadableList({
        type: MigrationType,
        description: 'Its migrations, applied or pending in this database (admin only).',
        authScopes: { admin: true },
        load: async (plugins: readonly PluginStatus[]) => {
          const statuses = await migrationStatus(
            runtime.db,
            plugins.map((p) => p.migrations),
          );
          return plugins.map((p) => statuses.filter((m) => m.plugin === p.name));
        },
        resolve: (plugin) => plugin,
      }),
      hasuraActions: t.stringList({
        description: 'The fields Hasura may call as actions (admin only).',
        authScopes: { admin: true },
        resolve: (plugin) => plugin.hasura.actions,
      }),
      hasuraEventTriggers: t.stringList({
        description: 'The Hasura event triggers it handles (admin only).',
        authScopes: { admin: true },
        resolve: (plugin) => plugin.hasura.eventTriggers,
      }),
    }),
  });

  const ViewerType = builder.objectRef<Session>('Viewer').implement({
    description: 'The caller, as the gateway authenticated them.',
    fields: (t) => ({
      role: t.exposeString('role'),
      userId: t.exposeID('userId', { nullable: true }),
      allowedRoles: t.exposeStringList('allowedRoles'),
    }),
  });

  builder.queryFields((t) => ({
    plugins: t.field({
      type: [PluginType],
      description: 'Every registered plugin, enabled or not.',
      resolve: () => runtime.plugins,
    }),
    plugin: t.field({
      type: PluginType,
      nullable: true,
      args: { name: t.arg.string({ required: true }) },
      resolve: (_root, { name }) => runtime.plugins.find((p) => p.name === name) ?? null,
    }),
    viewer: t.field({
      type: ViewerType,
      resolve: (_root, _args, context) => context.session,
    }),
  }));
}

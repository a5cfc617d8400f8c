/**
 * What a plugin's descriptors expect of its migrations: every synced table with the core's
 * bookkeeping columns, each child's parent column, every column its GraphQL views read, filter,
 * join or order on, and the webhook log and sync bookkeeping tables. `verifySyncSchema` holds the
 * database against it when the plugin starts, so a migration and its descriptors cannot drift
 * apart unnoticed: the gateway refuses to start and names what is missing.
 */
import { syncStatement } from './statements.ts';
import { type Queryable, type SyncTables, tablesOf } from './resource.ts';
import { fieldsOf, type SyncViews } from './views.ts';

const BOOKKEEPING = ['id', 'data', 'is_deleted', 'last_event_id', 'synced_at'];
const CORE_TABLES: Readonly<Record<string, readonly string[]>> = {
  events: ['id', 'type', 'payload', 'status', 'received_at', 'processed_at', 'attempts', 'last_error'],
  sync_state: [
    'resource',
    'status',
    'cursor',
    'run_id',
    'run_since',
    'last_sync_at',
    'last_event_at',
    'objects_synced',
  ],
  sync_runs: ['id', 'kind', 'resources', 'since', 'status', 'counts', 'error', 'started_at', 'finished_at'],
};

/** table → the columns it must have. */
export function expectedColumns(tables: SyncTables, views?: SyncViews): Map<string, Set<string>> {
  const expected = new Map<string, Set<string>>();
  const need = (table: string, ...columns: string[]) => {
    const set = expected.get(table) ?? new Set<string>();
    for (const column of columns) set.add(column);
    expected.set(table, set);
  };
  for (const [table, columns] of Object.entries(CORE_TABLES)) need(table, ...columns);
  for (const [table, { parentColumn }] of tablesOf(tables)) {
    need(table, ...BOOKKEEPING, tables.versionColumn);
    if (parentColumn) need(table, parentColumn);
  }
  if (views) {
    const orders = Object.values(views.orders);
    for (const [table, view] of Object.entries(views.views)) {
      need(table, ...BOOKKEEPING, ...orders);
      for (const field of fieldsOf(views, view).values()) if (field.path === undefined) need(table, field.column!);
      const filters = [
        ...Object.entries(view.filters),
        ...Object.entries(typeof view.single === 'string' ? {} : view.single.by),
        ...Object.entries(view.pluralBy ?? {}),
      ];
      for (const [name, filter] of filters) if (filter.match !== 'contains') need(table, filter.column ?? name);
      for (const relation of [...Object.values(view.belongsTo ?? {}), ...Object.values(view.hasMany ?? {})]) {
        need(relation.table, ...Object.keys(relation.on));
        need(table, ...Object.values(relation.on));
      }
    }
  }
  return expected;
}

/** Throws, naming each missing `schema.table.column`, when the database lacks what the descriptors expect. */
export async function verifySyncSchema(db: Queryable, tables: SyncTables, views?: SyncViews): Promise<void> {
  const { rows } = await db.query<{ table: string; column: string }>(
    syncStatement('schema-columns', { schema: tables.schema }),
    [tables.schema],
  );
  const present = new Set(rows.map((row) => `${row.table}.${row.column}`));
  const missing = [...expectedColumns(tables, views)].flatMap(([table, columns]) =>
    [...columns]
      .filter((column) => !present.has(`${table}.${column}`))
      .map((column) => `${tables.schema}.${table}.${column}`),
  );
  if (missing.length > 0)
    throw new Error(
      `The ${tables.schema} schema lacks what the plugin's descriptors expect (a migration is missing or out of step): ${missing.join(', ')}`,
    );
}

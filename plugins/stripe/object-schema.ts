/**
 * GraphQL over the synced tables: `stripeCustomer(id)` and a `stripeCustomers` Relay connection
 * (filters, created range, ordering) per resource, and the relations between them resolved
 * through per-request DataLoaders, so a page with its nested relations costs one query per
 * level, not one per row. Readable by admins and by the roles in STRIPE_READ_ROLES.
 */
import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import type { Session } from '../../gateway/auth.ts';
import type { FieldRef } from '@pothos/core';
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import pg from 'pg';
import type { Builder, Context, PlugboardTypes } from '../../gateway/builder.ts';
import { decodeCursor, encodeCursor } from '../../gateway/cursor.ts';
import { badUserInput } from '../../gateway/errors.ts';
import type { PluginRuntime } from '../../gateway/plugin.ts';
import type { StripeConfig } from './config.ts';
import type { ObjectResource } from './resources.ts';
import { tableSql } from './sql.ts';
import { camelCase, VIEWS, type ColumnType, type ResourceView } from './views.ts';

/**
 * A row of a resource table without `data` (the whole object is loaded only if a client asks
 * for it), its timestamps still as Postgres sent them (parsed only if a client asks for them).
 */
interface StripeRow {
  id: string;
  created: string | null;
  is_deleted: boolean;
  stripe_at: string;
  synced_at: string;
  cursor_at?: string;
  parent_id?: string;
  [column: string]: unknown;
}

type Field = FieldRef<PothosSchemaTypes.ExtendDefaultTypes<PlugboardTypes>, unknown, 'Object'>;

const PAGE_DEFAULT = 20;
const PAGE_LIMIT = 100;
const RELATION_DEFAULT = 20;

/** Each GraphQL field of a view's type → the column it reads (`data` and `metadata` read none here). */
function fieldColumns(view: ResourceView): Map<string, string> {
  const columns = new Map([
    ['id', 'id'],
    ['created', 'created'],
    ['isDeleted', 'is_deleted'],
    ['stripeAt', 'stripe_at'],
    ['syncedAt', 'synced_at'],
  ]);
  for (const column of Object.keys(view.columns)) columns.set(camelCase(column), column);
  for (const [field, relation] of Object.entries(view.belongsTo ?? {})) columns.set(field, relation.column);
  return columns;
}
const FIELD_COLUMNS = Object.fromEntries(Object.entries(VIEWS).map(([table, view]) => [table, fieldColumns(view)])) as Record<ObjectResource, Map<string, string>>;

/**
 * The field names selected under `path` (e.g. edges → node) of the field being resolved,
 * through inline fragments and fragment spreads.
 */
function selectedFields(info: GraphQLResolveInfo, path: string[]): Set<string> {
  let sets: SelectionSetNode[] = info.fieldNodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
  const fieldsOf = (selections: SelectionSetNode[]): FieldNode[] =>
    selections.flatMap((set) =>
      set.selections.flatMap((selection): FieldNode[] => {
        if (selection.kind === Kind.FIELD) return [selection];
        if (selection.kind === Kind.INLINE_FRAGMENT) return fieldsOf([selection.selectionSet]);
        const fragment = info.fragments[selection.name.value];
        return fragment ? fieldsOf([fragment.selectionSet]) : [];
      }),
    );
  for (const step of path) sets = fieldsOf(sets).filter((field) => field.name.value === step && field.selectionSet).map((field) => field.selectionSet!);
  return new Set(fieldsOf(sets).map((field) => field.name.value));
}

/**
 * The columns a row query reads: `id` and the generated columns behind the fields selected,
 * never `data` — rows are decoded in full, so reading columns nobody asked for (a subscription's
 * object is kilobytes) dominated a page.
 */
function columnsFor(table: ObjectResource, fields: Set<string>): string {
  const columns = new Set(['id']);
  for (const field of fields) {
    const column = FIELD_COLUMNS[table].get(field);
    if (column) columns.add(column);
  }
  return [...columns].sort().map((column) => `t."${column}"`).join(', ');
}

/** Worked out once per field of the operation: graphql-js passes every row the same fieldNodes. */
const columnsByFieldNodes = new WeakMap<readonly FieldNode[], string>();
function columnsOf(table: ObjectResource, info: GraphQLResolveInfo, path: string[] = []): string {
  let columns = columnsByFieldNodes.get(info.fieldNodes);
  if (columns === undefined) columnsByFieldNodes.set(info.fieldNodes, (columns = columnsFor(table, selectedFields(info, path))));
  return columns;
}

const TIMESTAMPTZ = 1184;
const parseTimestamp = pg.types.getTypeParser(TIMESTAMPTZ) as (value: string) => Date;
const timestamp = (value: unknown) => (typeof value === 'string' ? parseTimestamp(value) : null);
/** Timestamps stay text: parsing every row's dates into Date objects cost more than the rest of a row. */
const timestampsAsText: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === TIMESTAMPTZ ? (value: string) => value : pg.types.getTypeParser(oid, format))) as pg.CustomTypesConfig['getTypeParser'],
};

export function addStripeObjectSchema(builder: Builder, runtime: PluginRuntime<StripeConfig>): void {
  const mayRead = (session: Session) => session.role === 'admin' || runtime.config.readRoles.includes(session.role);
  const query = async (text: string, values: unknown[]) => (await runtime.db.query<StripeRow>({ text, values, types: timestampsAsText })).rows;

  /** The whole Stripe object of each row, batched per request (only for clients that ask for `data` or `metadata`). */
  const objectOf = (context: Context, table: ObjectResource, row: StripeRow) =>
    context.loaders
      .get(`stripe.${table}.data`, async (ids: readonly string[]) => {
        const { rows } = await runtime.db.query<{ id: string; data: Record<string, unknown> }>(tableSql('view-objects', table), [ids]);
        const objects = new Map(rows.map((r) => [r.id, r.data]));
        return ids.map((id) => objects.get(id) ?? null);
      })
      .load(row.id);

  /** The row of `table` with each id (reading `columns`), batched per request. */
  const byId = (context: Context, table: ObjectResource, columns: string) =>
    context.loaders.get(`stripe.${table}.id:${columns}`, async (ids: readonly string[]) => {
      const rows = new Map((await query(tableSql('view-by-id', table, { columns }), [ids])).map((row) => [row.id, row]));
      return ids.map((id) => rows.get(id) ?? null);
    });

  /** The newest `limit` rows of `table` whose `column` holds each parent id, batched per request. */
  const byParent = (context: Context, table: ObjectResource, column: string, limit: number, columns: string) =>
    context.loaders.get(`stripe.${table}.${column}.${limit}:${columns}`, async (parents: readonly string[]) => {
      const groups = new Map<string, StripeRow[]>(parents.map((id) => [id, []]));
      for (const row of await query(tableSql('view-by-parent', table, { column, columns }), [parents, limit])) groups.get(row.parent_id!)!.push(row);
      return parents.map((id) => groups.get(id)!);
    });

  const OrderEnum = builder.enumType('StripeOrder', {
    description: 'Order of a Stripe connection by the objects\' `created` time (ties by id).',
    values: { CREATED_DESC: { value: 'DESC' }, CREATED_ASC: { value: 'ASC' } } as const,
  });

  const refs = new Map(
    (Object.entries(VIEWS) as [ObjectResource, ResourceView][]).map(([table, view]) => [table, builder.objectRef<StripeRow>(view.type)]),
  );
  const refOf = (table: ObjectResource) => refs.get(table)!;

  for (const [table, view] of Object.entries(VIEWS) as [ObjectResource, ResourceView][]) {
    refOf(table).implement({
      description: view.description,
      fields: (t) => {
        const column = (name: string, type: ColumnType): Field =>
          t.field({ type, nullable: true, resolve: (row) => (type === 'DateTime' ? timestamp(row[name]) : row[name]) as never });
        const fields: Record<string, Field> = {
          id: t.field({ type: 'ID', resolve: (row) => row.id }),
          created: t.field({ type: 'DateTime', nullable: true, resolve: (row) => timestamp(row.created) }),
          isDeleted: t.field({ type: 'Boolean', description: 'Deleted in Stripe (kept so history stays whole).', resolve: (row) => row.is_deleted }),
          stripeAt: t.field({ type: 'DateTime', description: 'Stripe-side time of the state this row holds; an older state never replaces it.', resolve: (row) => parseTimestamp(row.stripe_at) }),
          syncedAt: t.field({ type: 'DateTime', resolve: (row) => parseTimestamp(row.synced_at) }),
          metadata: t.field({ type: 'JSON', nullable: true, resolve: async (row, _args, context) => (await objectOf(context, table, row))?.['metadata'] ?? null }),
          data: t.field({ type: 'JSON', description: 'The whole Stripe object.', resolve: (row, _args, context) => objectOf(context, table, row) }),
        };
        for (const [name, type] of Object.entries(view.columns)) fields[camelCase(name)] = column(name, type);
        for (const [field, relation] of Object.entries(view.belongsTo ?? {})) {
          fields[field] = t.field({
            type: refOf(relation.table),
            nullable: true,
            resolve: (row, _args, context, info) => {
              const id = row[relation.column];
              return typeof id === 'string' ? byId(context, relation.table, columnsOf(relation.table, info)).load(id) : null;
            },
          });
        }
        for (const [field, relation] of Object.entries(view.hasMany ?? {})) {
          fields[field] = t.field({
            type: [refOf(relation.table)],
            description: `Newest first, at most \`first\` (default ${RELATION_DEFAULT}, at most ${PAGE_LIMIT}).`,
            args: { first: t.arg.int({ defaultValue: RELATION_DEFAULT }) },
            resolve: (row, args, context, info) =>
              byParent(context, relation.table, relation.column, pageSize(args.first, RELATION_DEFAULT), columnsOf(relation.table, info)).load(row.id),
          });
        }
        return fields;
      },
    });

    builder.queryField(view.single, (t) =>
      t.field({
        type: refOf(table),
        nullable: true,
        description: `${view.description} By id, deleted or not.`,
        authScopes: (_root, _args, context) => mayRead(context.session),
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, { id }, context, info) => byId(context, table, columnsOf(table, info)).load(String(id)),
      }),
    );

    builder.queryField(view.plural, (t) =>
      t.connection({
        type: refOf(table),
        description: `${view.description.replace(/\.$/, '')}s, newest first unless ordered otherwise; deleted ones left out.`,
        authScopes: (_root, _args, context) => mayRead(context.session),
        args: {
          ...Object.fromEntries(
            Object.entries(view.filters).map(([column, type]) => [camelCase(column), type === 'Boolean' ? t.arg.boolean() : t.arg.string()]),
          ),
          createdFrom: t.arg({ type: 'DateTime', description: 'Created at or after.' }),
          createdTo: t.arg({ type: 'DateTime', description: 'Created before.' }),
          orderBy: t.arg({ type: OrderEnum, defaultValue: 'DESC' }),
        },
        resolve: (_root, args, _context, info) => {
          const columns = columnsOf(table, info, ['edges', 'node']);
          const values: unknown[] = [];
          const where: string[] = [];
          const bind = (value: unknown) => `$${values.push(value) + 1}`; // $1 is the limit
          for (const column of Object.keys(view.filters)) {
            const value = (args as Record<string, unknown>)[camelCase(column)];
            if (value === undefined || value === null) continue;
            where.push(column === 'email' ? `lower(t.email) = lower(${bind(value)})` : `t."${column}" = ${bind(value)}`);
          }
          if (args.createdFrom) where.push(`t.created >= ${bind(args.createdFrom)}`);
          if (args.createdTo) where.push(`t.created < ${bind(args.createdTo)}`);
          const descending = args.orderBy !== 'ASC';
          return resolveCursorConnection(
            { args, defaultSize: PAGE_DEFAULT, maxSize: PAGE_LIMIT, toCursor: (row: StripeRow) => encodeCursor(row.cursor_at!, row.id) },
            ({ after, before, limit, inverted }: ResolveCursorConnectionArgs) => {
              const bounds = [...where];
              // Rows after the cursor in the chosen order, and before the other one.
              if (after) bounds.push(keyset(descending ? '<' : '>', decodeCursor(after), bind));
              if (before) bounds.push(keyset(descending ? '>' : '<', decodeCursor(before), bind));
              const order = descending !== inverted ? 'DESC' : 'ASC';
              const text = tableSql('view-page', table, { columns, where: bounds.map((b) => `AND ${b}`).join(' '), order });
              return query(text, [limit, ...values]);
            },
          );
        },
      }),
    );
  }
}

function keyset(comparison: '<' | '>', cursor: { at: string; id: string }, bind: (value: unknown) => string): string {
  return `(t.created, t.id) ${comparison} (${bind(cursor.at)}::timestamptz, ${bind(cursor.id)}::text)`;
}

function pageSize(requested: number | null | undefined, fallback: number): number {
  const size = requested ?? fallback;
  if (size < 0) throw badUserInput('A page size cannot be negative');
  return Math.min(size, PAGE_LIMIT);
}

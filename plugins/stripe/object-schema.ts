/**
 * GraphQL over the synced tables: `stripeCustomer(id)` and a `stripeCustomers` Relay connection
 * (filters, created range, ordering) per resource, and the relations between them. Each root
 * field is answered by one SQL statement planned from its selection (plan.ts): the relations
 * arrive nested in the rows, so a page with its relations costs one round trip whatever its
 * depth. Readable by admins and by the roles in STRIPE_READ_ROLES.
 */
import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import type { FieldRef } from '@pothos/core';
import pg from 'pg';
import {
  type Builder,
  decodeCursor,
  encodeCursor,
  type PlugboardTypes,
  type PluginRuntime,
  type Session,
} from '../../gateway/sdk.ts';
import type { StripeConfig } from './config.ts';
import {
  PAGE_DEFAULT,
  PAGE_LIMIT,
  pageSize,
  type Plan,
  type PlanCache,
  RELATION_DEFAULT,
  relationKey,
} from './plan.ts';
import type { ObjectResource } from './resources.ts';
import { camelCase, VIEWS, type ColumnType, type ResourceView } from './views.ts';

/**
 * A row of a resource table as planned: the columns behind the selected fields (timestamps and
 * bigints as text), `data` when the whole object is asked for, and each selected relation under
 * its relationKey.
 */
interface StripeRow {
  id: string;
  data?: Record<string, unknown> | null;
  cursor_at?: string;
  [column: string]: unknown;
}

type Field = FieldRef<PothosSchemaTypes.ExtendDefaultTypes<PlugboardTypes>, unknown, 'Object'>;

const TIMESTAMPTZ = 1184;
const parseTimestamp = pg.types.getTypeParser(TIMESTAMPTZ) as (value: string) => Date;
const timestamp = (value: unknown) => (typeof value === 'string' ? parseTimestamp(value) : null);

/** A relation of a row, planned into the statement that read it. */
function planned<T>(row: StripeRow, key: string): T {
  const value = row[key];
  if (value === undefined) throw new Error(`stripe: ${key} was not planned for this row`);
  return value as T;
}

export function addStripeObjectSchema(
  builder: Builder,
  runtime: PluginRuntime<StripeConfig>,
  views: () => PlanCache,
): void {
  const mayRead = (session: Session) => session.role === 'admin' || runtime.config.readRoles.includes(session.role);
  const rowsOf = async (plan: Plan, text: string, values: unknown[]) => {
    const name = views().nameOf(text);
    const { rows } = await runtime.db.query<StripeRow>(name ? { name, text, values } : { text, values });
    for (const row of rows) plan.complete(row);
    return rows;
  };

  const OrderEnum = builder.enumType('StripeOrder', {
    description: "Order of a Stripe connection by the objects' `created` time (ties by id).",
    values: { CREATED_DESC: { value: 'DESC' }, CREATED_ASC: { value: 'ASC' } } as const,
  });

  const refs = new Map(
    (Object.entries(VIEWS) as [ObjectResource, ResourceView][]).map(([table, view]) => [
      table,
      builder.objectRef<StripeRow>(view.type),
    ]),
  );
  const refOf = (table: ObjectResource) => refs.get(table)!;

  for (const [table, view] of Object.entries(VIEWS) as [ObjectResource, ResourceView][]) {
    refOf(table).implement({
      description: view.description,
      fields: (t) => {
        const column = (name: string, type: ColumnType): Field =>
          t.field({
            type,
            nullable: true,
            resolve: (row) => (type === 'DateTime' ? timestamp(row[name]) : row[name]) as never,
          });
        const fields: Record<string, Field> = {
          id: t.field({ type: 'ID', resolve: (row) => row.id }),
          created: t.field({ type: 'DateTime', nullable: true, resolve: (row) => timestamp(row['created']) }),
          isDeleted: t.field({
            type: 'Boolean',
            description: 'Deleted in Stripe (kept so history stays whole).',
            resolve: (row) => row['is_deleted'] as boolean,
          }),
          stripeAt: t.field({
            type: 'DateTime',
            description: 'Stripe-side time of the state this row holds; an older state never replaces it.',
            resolve: (row) => timestamp(row['stripe_at'])!,
          }),
          syncedAt: t.field({ type: 'DateTime', resolve: (row) => timestamp(row['synced_at'])! }),
          metadata: t.field({ type: 'JSON', nullable: true, resolve: (row) => row.data?.['metadata'] ?? null }),
          data: t.field({ type: 'JSON', description: 'The whole Stripe object.', resolve: (row) => row.data ?? null }),
        };
        for (const [name, type] of Object.entries(view.columns)) fields[camelCase(name)] = column(name, type);
        for (const [field, relation] of Object.entries(view.belongsTo ?? {})) {
          fields[field] = t.field({
            type: refOf(relation.table),
            nullable: true,
            resolve: (row) => planned<StripeRow | null>(row, relationKey(field)),
          });
        }
        for (const [field, relation] of Object.entries(view.hasMany ?? {})) {
          fields[field] = t.field({
            type: [refOf(relation.table)],
            description: `Newest first, at most \`first\` (default ${RELATION_DEFAULT}, at most ${PAGE_LIMIT}).`,
            args: { first: t.arg.int({ defaultValue: RELATION_DEFAULT }) },
            resolve: (row, args) =>
              planned<StripeRow[]>(row, relationKey(field, pageSize(args.first, RELATION_DEFAULT))),
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
        resolve: async (_root, { id }, _context, info) => {
          const plan = views().planFor(table, info);
          return (await rowsOf(plan, views().textOf(plan, 'view-by-id', table), [String(id)]))[0] ?? null;
        },
      }),
    );

    builder.queryField(view.plural, (t) =>
      t.connection({
        type: refOf(table),
        description: `${view.description.replace(/\.$/, '')}s, newest first unless ordered otherwise; deleted ones left out.`,
        authScopes: (_root, _args, context) => mayRead(context.session),
        args: {
          ...Object.fromEntries(
            Object.entries(view.filters).map(([column, type]) => [
              camelCase(column),
              type === 'Boolean' ? t.arg.boolean() : t.arg.string(),
            ]),
          ),
          createdFrom: t.arg({ type: 'DateTime', description: 'Created at or after.' }),
          createdTo: t.arg({ type: 'DateTime', description: 'Created before.' }),
          orderBy: t.arg({ type: OrderEnum, defaultValue: 'DESC' }),
        },
        resolve: (_root, args, _context, info) => {
          const plan = views().planFor(table, info, ['edges', 'node']);
          const values: unknown[] = [];
          const where: string[] = [];
          const bind = (value: unknown) => `$${values.push(value) + 1}`; // $1 is the limit
          for (const column of Object.keys(view.filters)) {
            const value = (args as Record<string, unknown>)[camelCase(column)];
            if (value === undefined || value === null) continue;
            where.push(
              column === 'email' ? `lower(t.email) = lower(${bind(value)})` : `t."${column}" = ${bind(value)}`,
            );
          }
          if (args.createdFrom) where.push(`t.created >= ${bind(args.createdFrom)}`);
          if (args.createdTo) where.push(`t.created < ${bind(args.createdTo)}`);
          const descending = args.orderBy !== 'ASC';
          return resolveCursorConnection(
            {
              args,
              defaultSize: PAGE_DEFAULT,
              maxSize: PAGE_LIMIT,
              toCursor: (row: StripeRow) => encodeCursor(row.cursor_at!, row.id),
            },
            ({ after, before, limit, inverted }: ResolveCursorConnectionArgs) => {
              const bounds = [...where];
              // Rows after the cursor in the chosen order, and before the other one.
              if (after) bounds.push(keyset(descending ? '<' : '>', decodeCursor(after), bind));
              if (before) bounds.push(keyset(descending ? '>' : '<', decodeCursor(before), bind));
              const order = descending !== inverted ? 'DESC' : 'ASC';
              const text = views().textOf(plan, 'view-page', table, {
                where: bounds.map((b) => `AND ${b}`).join(' '),
                order,
              });
              return rowsOf(plan, text, [limit, ...values]);
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

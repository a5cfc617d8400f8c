/**
 * GraphQL over a plugin's synced tables, built from its views (views.ts): a type per table, a
 * root field for one row and a Relay connection per table (filters, ordering, keyset cursors),
 * and the relations between them as fields taking `first` and the target's filters. Each root
 * field is answered by one SQL statement planned from its selection (planner.ts): relations
 * arrive nested in the rows, so a page with its relations costs one round trip whatever its
 * depth. Readable by whom the views' `mayRead` lets in.
 */
import type { FieldRef, InputFieldRef } from '@pothos/core';
import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import pg, { escapeIdentifier } from 'pg';
import type { Builder, PlugboardTypes } from '../builder.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { badUserInput } from '../errors.ts';
import {
  filterConditions,
  filterValues,
  isBigintId,
  PAGE_DEFAULT,
  PAGE_LIMIT,
  pageSize,
  type Plan,
  type PlanCache,
  RELATION_DEFAULT,
  CURSOR_KEY,
  relationArguments,
  relationKey,
  viewConditions,
} from './planner.ts';
import type { Queryable } from './resource.ts';
import { type ColumnField, fieldsOf, type Filter, type SyncView, type SyncViews } from './views.ts';

/**
 * A row as planned: the columns behind the selected fields (timestamps and bigints as text),
 * `.<field>` for fields read from `data`, each selected relation under its relationKey.
 */
export interface ViewRow {
  id: string;
  cursor_at?: string;
  [key: string]: unknown;
}

type Types = PothosSchemaTypes.ExtendDefaultTypes<PlugboardTypes>;
type Field = FieldRef<Types, unknown, 'Object'>;

const TIMESTAMPTZ = 1184;
const parseTimestamp = pg.types.getTypeParser(TIMESTAMPTZ) as (value: string) => Date;
const timestamp = (value: unknown) => (typeof value === 'string' ? parseTimestamp(value) : null);

/** A relation of a row, planned into the statement that read it. */
function planned<T>(row: ViewRow, key: string): T {
  const value = row[key];
  if (value === undefined) throw new Error(`${key} was not planned for this row`);
  return value as T;
}

export interface ViewSchemaOptions {
  views: SyncViews;
  /** Read when a field resolves (the schema is built before the database exists). */
  runtime: { readonly db: Queryable };
  /** The plugin instance's plan cache. */
  plans: () => PlanCache;
}

export function addSyncViewSchema(builder: Builder, { views, runtime, plans }: ViewSchemaOptions): void {
  // A scoped plan's statement takes the reader's scope values last (PlanCache.textOf).
  const rowsOf = async (plan: Plan, text: string, values: unknown[], scope: readonly string[] | null) => {
    const all = plan.scoped ? [...values, ...plan.params, scope] : [...values, ...plan.params];
    const name = plans().nameOf(text);
    const { rows } = await runtime.db.query<ViewRow>(name ? { name, text, values: all } : { text, values: all });
    for (const row of rows) plan.complete(row);
    return rows;
  };
  type ReadSession = Parameters<SyncViews['mayRead']>[0];
  const mayRead = (_root: unknown, _args: unknown, context: { session: ReadSession }) => views.mayRead(context.session);
  /** The values of the row scope the session may read; null when every row (or no scope is declared). */
  const scopeOf = (session: ReadSession) => views.rowScope?.valuesFor(session) ?? null;

  const orderKeys = Object.keys(views.orders);
  const OrderEnum = builder.enumType(views.orderEnum ?? `${views.prefix}Order`, {
    description: `Order of a ${views.prefix} connection (ties by id).`,
    values: Object.fromEntries(
      orderKeys.flatMap((key) => [
        [`${key}_DESC`, { value: `${key}_DESC`, description: `By ${views.orders[key]}, newest first.` }],
        [`${key}_ASC`, { value: `${key}_ASC`, description: `By ${views.orders[key]}, oldest first.` }],
      ]),
    ),
  });
  const orderOf = (value: unknown) => {
    const [key, direction] = String(value ?? `${orderKeys[0]}_DESC`).split(/_(?=[A-Z]+$)/);
    return { column: views.orders[key!]!, direction: direction === 'ASC' ? 'ASC' : 'DESC' };
  };

  const refs = new Map(Object.values(views.views).map((view) => [view.type, builder.objectRef<ViewRow>(view.type)]));
  const refOf = (table: string) => {
    const view = views.views[table];
    if (!view) throw new Error(`${views.schema}.${table} has no view`);
    return refs.get(view.type)!;
  };

  // The filter arguments of a view's connection and of relations to it: arguments of their
  // own, or the fields of one `<Type>Filter` input.
  const filterFields = (f: FilterFieldBuilder, view: SyncView) => {
    const fields: Record<string, unknown> = {};
    for (const [name, filter] of Object.entries(view.filters)) fields[name] = filterArg(f, filter);
    if (views.range) {
      // createdFrom → "Created at or after."
      const what = views.range.from.replace(/From$/, '').replace(/^./, (first) => first.toUpperCase());
      fields[views.range.from] = f.dateTime(`${what} at or after.`);
      fields[views.range.to] = f.dateTime(`${what} before.`);
    }
    return fields;
  };
  const filterInputs = new Map<SyncView, ReturnType<typeof builder.inputType>>();
  // biome-ignore lint/suspicious/noExplicitAny: Pothos' argument builder, typed per field where it is used
  const filterArgs = (arg: any, view: SyncView): Record<string, never> => {
    if (views.filterStyle === 'arguments')
      return filterFields(
        { ...pick(arg), dateTime: (description) => arg({ type: 'DateTime', description }) },
        view,
      ) as Record<string, never>;
    let input = filterInputs.get(view);
    if (!input) {
      input = builder.inputType(`${view.type}Filter`, {
        description: `Filters of ${view.type} rows; every one given must hold.`,
        fields: (f) =>
          filterFields(
            { ...pick(f), dateTime: (description) => f.field({ type: 'DateTime', description }) },
            view,
          ) as Record<string, InputFieldRef<Types, unknown>>,
      });
      filterInputs.set(view, input);
    }
    return { filter: arg({ type: input }) as never };
  };

  // Arguments of their own, each required: a lookup's key columns, a connection's pluralBy.
  // biome-ignore lint/suspicious/noExplicitAny: see filterArgs
  const requiredArgs = (arg: any, filters: Readonly<Record<string, Filter>>): Record<string, never> =>
    Object.fromEntries(
      Object.entries(filters).map(([name, filter]) => [
        name,
        arg({ type: filter.type, required: true, ...(filter.description && { description: filter.description }) }),
      ]),
    ) as Record<string, never>;

  for (const [table, view] of Object.entries(views.views)) {
    const idType = tableIdType(view);
    refOf(table).implement({
      description: view.description,
      fields: (t) => {
        const fields: Record<string, Field> = {};
        for (const [name, field] of fieldsOf(views, view)) fields[name] = columnFieldOf(t, name, field);
        for (const [name, relation] of Object.entries(view.belongsTo ?? {})) {
          fields[name] = t.field({
            type: refOf(relation.table),
            nullable: true,
            ...(relation.description ? { description: relation.description } : {}),
            resolve: (row) => planned<ViewRow | null>(row, relationKey(name)),
          });
        }
        for (const [name, relation] of Object.entries(view.hasMany ?? {})) {
          const target = views.views[relation.table]!;
          const keyOf = (args: Record<string, unknown>) =>
            relationKey(
              name,
              pageSize(args['first'] as number | null | undefined, RELATION_DEFAULT),
              relationArguments(views, target, args),
            );
          if (views.relationStyle === 'connection') {
            fields[name] = t.connection({
              type: refOf(relation.table),
              description:
                relation.description ??
                `Most recent first, \`first\` at a time (default ${RELATION_DEFAULT}, at most ${PAGE_LIMIT}), forward with \`after\`.`,
              args: filterArgs(t.arg, target),
              resolve: (row, args) => {
                const first = pageSize(args.first, RELATION_DEFAULT);
                return connectionOf(planned<ViewRow[]>(row, keyOf(args as Record<string, unknown>)), first, args.after);
              },
            }) as Field;
            continue;
          }
          fields[name] = t.field({
            type: [refOf(relation.table)],
            description:
              relation.description ??
              `Newest first, at most \`first\` (default ${RELATION_DEFAULT}, at most ${PAGE_LIMIT}).`,
            args: {
              first: t.arg.int({ defaultValue: RELATION_DEFAULT }),
              ...filterArgs(t.arg, target),
            },
            resolve: (row, args) => planned<ViewRow[]>(row, keyOf(args as Record<string, unknown>)),
          });
        }
        return fields;
      },
    });

    const single = typeof view.single === 'string' ? { name: view.single, by: null } : view.single;
    builder.queryField(single.name, (t) =>
      t.field({
        type: refOf(table),
        nullable: true,
        description: `${view.description} ${single.by ? `By ${Object.keys(single.by).join(' and ')}` : 'By id'}, deleted or not.`,
        authScopes: mayRead,
        args: single.by ? requiredArgs(t.arg, single.by) : { id: t.arg.id({ required: true }) },
        resolve: async (_root, args, context, info) => {
          const scope = scopeOf(context.session);
          const values: unknown[] = [];
          const bind = (value: unknown) => `$${values.push(value)}`;
          let where: string[];
          if (single.by) where = filterConditions(single.by, args as Record<string, unknown>, 't', bind);
          else {
            const id = String((args as { id: unknown }).id);
            if (idType === 'bigint' && !isBigintId(id)) return null;
            where = [`t.id = ${bind(id)}`];
          }
          const plan = plans().planFor(table, info, [], scope !== null);
          const text = plans().textOf(plan, 'view-single', table, {
            rootValues: values.length,
            where: where.map((condition) => `AND ${condition}`).join(' '),
            order: orderOf(null),
          });
          return (await rowsOf(plan, text, values, scope))[0] ?? null;
        },
      }),
    );

    builder.queryField(view.plural, (t) =>
      t.connection({
        type: refOf(table),
        description: `${view.description.replace(/\.$/, '')}: newest first unless ordered otherwise; deleted ones left out.`,
        authScopes: mayRead,
        args: {
          ...requiredArgs(t.arg, view.pluralBy ?? {}),
          ...filterArgs(t.arg, view),
          orderBy: t.arg({ type: OrderEnum, defaultValue: `${orderKeys[0]}_DESC` }),
        },
        resolve: (_root, args, context, info) => {
          const scope = scopeOf(context.session);
          const plan = plans().planFor(table, info, ['edges', 'node'], scope !== null);
          const values: unknown[] = [];
          const bind = (value: unknown) => `$${values.push(value) + 1}`; // $1 is the limit
          const where = [
            ...filterConditions(view.pluralBy ?? {}, args as Record<string, unknown>, 't', bind),
            ...viewConditions(views, view, filterValues(views, view, args as Record<string, unknown>), 't', bind),
          ];
          const order = orderOf(args.orderBy);
          const keyset = (comparison: '<' | '>', cursor: string) => {
            const { at, id } = decodeCursor(cursor);
            if (idType === 'bigint' && !isBigintId(id)) throw badUserInput('Invalid cursor');
            return `(t.${escapeIdentifier(order.column)}, t.id) ${comparison} (${bind(at)}::timestamptz, ${bind(id)}::${idType})`;
          };
          const descending = order.direction === 'DESC';
          return resolveCursorConnection(
            {
              args,
              defaultSize: PAGE_DEFAULT,
              maxSize: PAGE_LIMIT,
              toCursor: (row: ViewRow) => encodeCursor(row.cursor_at!, row.id),
            },
            ({ after, before, limit, inverted }: ResolveCursorConnectionArgs) => {
              const bounds = [...where];
              // Rows after the cursor in the chosen order, and before the other one.
              if (after) bounds.push(keyset(descending ? '<' : '>', after));
              if (before) bounds.push(keyset(descending ? '>' : '<', before));
              const text = plans().textOf(plan, 'view-page', table, {
                rootValues: values.length + 1,
                where: bounds.map((bound) => `AND ${bound}`).join(' '),
                order: { column: order.column, direction: descending !== inverted ? 'DESC' : 'ASC' },
              });
              return rowsOf(plan, text, [limit, ...values], scope);
            },
          );
        },
      }),
    );
  }
}

const tableIdType = (view: SyncView) => view.idType ?? 'text';

/** A connection-style relation's rows (one more than `first` when there is a next page) as a Relay connection. */
function connectionOf(rows: ViewRow[], first: number, after: string | null | undefined) {
  const edges = rows.slice(0, first).map((node) => ({ cursor: encodeCursor(String(node[CURSOR_KEY]), node.id), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

interface FilterFieldBuilder {
  string(options: object): unknown;
  boolean(options: object): unknown;
  int(options: object): unknown;
  stringList(options: object): unknown;
  dateTime(description: string): unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: see filterArgs
const pick = (f: any): Omit<FilterFieldBuilder, 'dateTime'> => ({
  string: (options) => f.string(options),
  boolean: (options) => f.boolean(options),
  int: (options) => f.int(options),
  stringList: (options) => f.stringList(options),
});

function filterArg(f: FilterFieldBuilder, filter: Filter): unknown {
  const options = filter.description ? { description: filter.description } : {};
  if (filter.match === 'contains' && filter.list) return f.stringList(options);
  if (filter.type === 'Boolean') return f.boolean(options);
  if (filter.type === 'Int') return f.int(options);
  return f.string(options);
}

function columnFieldOf(
  t: PothosSchemaTypes.ObjectFieldBuilder<Types, ViewRow>,
  name: string,
  field: ColumnField,
): Field {
  const key = field.path === undefined ? field.column! : `.${name}`;
  const nullable = field.nullable ?? true;
  const options = field.description ? { description: field.description } : {};
  if (name === 'id') return t.field({ type: 'ID', ...options, resolve: (row) => row.id });
  if (field.type === 'DateTime')
    return t.field({ type: 'DateTime', nullable, ...options, resolve: (row) => timestamp(row[key]) as Date });
  return t.field({ type: field.type, nullable, ...options, resolve: (row) => (row[key] ?? null) as never });
}

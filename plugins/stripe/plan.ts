/**
 * Plans one SQL statement for a Stripe root field and everything selected under it: the row's
 * columns behind the selected fields, and each selected relation as a correlated subquery that
 * returns its rows as JSON, nested as deep as the selection goes. A page of customers with their
 * subscriptions, items and prices is one round trip, and Postgres — not per-row resolvers — joins
 * the levels. Table and column names come from views.ts; only validated integers (page sizes)
 * are written into the statement.
 */
import { getArgumentValues, GraphQLObjectType, Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { badUserInput } from '../../gateway/errors.ts';
import type { ObjectResource } from './resources.ts';
import { tableSql } from './sql.ts';
import { camelCase, VIEWS, type ColumnType, type ResourceView } from './views.ts';

export const PAGE_DEFAULT = 20;
export const PAGE_LIMIT = 100;
export const RELATION_DEFAULT = 20;

/** json_build_object takes at most 100 arguments. */
const MAX_ENTRIES = 50;

export function pageSize(requested: number | null | undefined, fallback: number): number {
  const size = requested ?? fallback;
  if (size < 0) throw badUserInput('A page size cannot be negative');
  return Math.min(size, PAGE_LIMIT);
}

/** Where a row carries a relation planned for it: `@price`, or `@items:20` with the page size. */
export const relationKey = (field: string, limit?: number) => (limit === undefined ? `@${field}` : `@${field}:${limit}`);

interface Column {
  name: string;
  type: ColumnType;
}

/** Each GraphQL field of a view's type → the column behind it (`data` and `metadata` read `data`). */
function fieldColumns(view: ResourceView): Map<string, Column> {
  const columns = new Map<string, Column>([
    ['id', { name: 'id', type: 'String' }],
    ['created', { name: 'created', type: 'DateTime' }],
    ['isDeleted', { name: 'is_deleted', type: 'Boolean' }],
    ['stripeAt', { name: 'stripe_at', type: 'DateTime' }],
    ['syncedAt', { name: 'synced_at', type: 'DateTime' }],
    ['data', { name: 'data', type: 'String' }],
    ['metadata', { name: 'data', type: 'String' }],
  ]);
  for (const [name, type] of Object.entries(view.columns)) columns.set(camelCase(name), { name, type });
  return columns;
}
const FIELD_COLUMNS = Object.fromEntries(Object.entries(VIEWS).map(([table, view]) => [table, fieldColumns(view)])) as Record<ObjectResource, Map<string, Column>>;

/**
 * A column as the row carries it. Timestamps and bigints travel as text, at the top level and
 * inside JSON alike: parsing every row's dates into Date objects cost more than the rest of a
 * row, so a field parses its own value when it is asked for.
 */
const columnValue = (alias: string, { name, type }: Column) => (type === 'DateTime' || type === 'BigInt' ? `${alias}."${name}"::text` : `${alias}."${name}"`);

/** The fields selected in `sets`, grouped by name, through inline fragments and fragment spreads. */
function fieldsByName(sets: readonly SelectionSetNode[], info: GraphQLResolveInfo, into = new Map<string, FieldNode[]>()): Map<string, FieldNode[]> {
  for (const set of sets) {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        into.set(name, [...(into.get(name) ?? []), selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        fieldsByName([selection.selectionSet], info, into);
      } else {
        const fragment = info.fragments[selection.name.value];
        if (fragment) fieldsByName([fragment.selectionSet], info, into);
      }
    }
  }
  return into;
}

const selectionSets = (nodes: readonly FieldNode[]) => nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));

class Planner {
  private aliases = 0;
  private readonly info: GraphQLResolveInfo;

  constructor(info: GraphQLResolveInfo) {
    this.info = info;
  }

  /** key → SQL value of a row of `table` (as `alias`) for the fields selected in `sets`. */
  entries(table: ObjectResource, alias: string, sets: readonly SelectionSetNode[]): Map<string, string> {
    const view = VIEWS[table];
    const type = this.info.schema.getType(view.type);
    if (!(type instanceof GraphQLObjectType)) throw new Error(`type ${view.type} is missing from the schema`);
    const entries = new Map([['id', `${alias}.id`]]);
    for (const [name, nodes] of fieldsByName(sets, this.info)) {
      const column = FIELD_COLUMNS[table].get(name);
      if (column) entries.set(column.name, columnValue(alias, column));
      const belongsTo = view.belongsTo?.[name];
      if (belongsTo) {
        const inner = this.alias();
        const object = this.object(belongsTo.table, inner, selectionSets(nodes));
        entries.set(relationKey(name), tableSql('view-belongs-to', belongsTo.table, { object, alias: inner, parent: alias, column: belongsTo.column }));
      }
      const hasMany = view.hasMany?.[name];
      if (hasMany) {
        // Each page size asked for (aliases may ask for several) is a subquery of its own.
        const byLimit = new Map<number, FieldNode[]>();
        const field = type.getFields()[name]!;
        for (const node of nodes) {
          const limit = pageSize(getArgumentValues(field, node, this.info.variableValues)['first'] as number | null, RELATION_DEFAULT);
          byLimit.set(limit, [...(byLimit.get(limit) ?? []), node]);
        }
        for (const [limit, sameLimit] of byLimit) {
          const inner = this.alias();
          const object = this.object(hasMany.table, inner, selectionSets(sameLimit));
          entries.set(relationKey(name, limit), tableSql('view-has-many', hasMany.table, { object, alias: inner, parent: alias, column: hasMany.column, limit: String(limit) }));
        }
      }
    }
    if (entries.size > MAX_ENTRIES) throw badUserInput(`Too many fields of ${view.type} in one selection (at most ${MAX_ENTRIES} distinct fields and page sizes)`);
    return entries;
  }

  private object(table: ObjectResource, alias: string, sets: readonly SelectionSetNode[]): string {
    const pairs = [...this.entries(table, alias, sets)].map(([key, value]) => `'${key}', ${value}`);
    return `json_build_object(${pairs.join(', ')})`;
  }

  private alias(): string {
    return `r${++this.aliases}`;
  }
}

/** Plans are worked out once per field of an operation and set of variables. */
const plans = new WeakMap<readonly FieldNode[], Map<string, string>>();

/**
 * The select list for rows of `table` (aliased `t`) answering the field being resolved, whose
 * rows sit at `path` under it (['edges', 'node'] for a connection).
 */
export function selectList(table: ObjectResource, info: GraphQLResolveInfo, path: string[] = []): string {
  let byVariables = plans.get(info.fieldNodes);
  if (!byVariables) plans.set(info.fieldNodes, (byVariables = new Map()));
  const variables = JSON.stringify(info.variableValues);
  let list = byVariables.get(variables);
  if (list === undefined) {
    let sets = selectionSets(info.fieldNodes);
    for (const step of path) sets = selectionSets(fieldsByName(sets, info).get(step) ?? []);
    const entries = new Planner(info).entries(table, 't', sets);
    list = [...entries].map(([key, value]) => `${value} AS "${key}"`).join(', ');
    byVariables.set(variables, list);
  }
  return list;
}

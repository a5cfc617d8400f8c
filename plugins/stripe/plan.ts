/**
 * Plans one SQL statement for a Stripe root field and everything selected under it: the row's
 * columns behind the selected fields, and each selected relation as a correlated subquery that
 * returns its rows as JSON, nested as deep as the selection goes. A page of customers with their
 * subscriptions, items and prices is one round trip, and Postgres — not per-row resolvers — joins
 * the levels. Table and column names come from views.ts; only validated integers (page sizes)
 * are written into the statement.
 */
import {
  getArgumentValues,
  GraphQLObjectType,
  Kind,
  visit,
  type FieldNode,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';
import { badUserInput } from '../../gateway/sdk.ts';
import type { ObjectResource } from './resources.ts';
import { tableSql } from './sql.ts';
import { camelCase, VIEWS, type ColumnType, type ResourceView } from './views.ts';

export const PAGE_DEFAULT = 20;
export const PAGE_LIMIT = 100;
export const RELATION_DEFAULT = 20;

/** json_build_array takes at most 100 arguments. */
const MAX_VALUES = 100;

export function pageSize(requested: number | null | undefined, fallback: number): number {
  const size = requested ?? fallback;
  if (size < 0) throw badUserInput('A page size cannot be negative');
  return Math.min(size, PAGE_LIMIT);
}

/** Where a row carries a relation planned for it: `@price`, or `@items:20` with the page size. */
export const relationKey = (field: string, limit?: number) =>
  limit === undefined ? `@${field}` : `@${field}:${limit}`;

interface Column {
  name: string;
  type: ColumnType | 'JSON';
}

/** Each GraphQL field of a view's type → the column behind it (`data` and `metadata` read `data`). */
function fieldColumns(view: ResourceView): Map<string, Column> {
  const columns = new Map<string, Column>([
    ['id', { name: 'id', type: 'String' }],
    ['created', { name: 'created', type: 'DateTime' }],
    ['isDeleted', { name: 'is_deleted', type: 'Boolean' }],
    ['stripeAt', { name: 'stripe_at', type: 'DateTime' }],
    ['syncedAt', { name: 'synced_at', type: 'DateTime' }],
    ['data', { name: 'data', type: 'JSON' }],
    ['metadata', { name: 'data', type: 'JSON' }],
  ]);
  for (const [name, type] of Object.entries(view.columns)) columns.set(camelCase(name), { name, type });
  return columns;
}
const FIELD_COLUMNS = Object.fromEntries(
  Object.entries(VIEWS).map(([table, view]) => [table, fieldColumns(view)]),
) as Record<ObjectResource, Map<string, Column>>;

/**
 * A column as the row carries it. Timestamps and bigints travel as text, at the top level and
 * inside JSON alike: parsing every row's dates into Date objects cost more than the rest of a
 * row, so a field parses its own value when it is asked for.
 */
const columnValue = (alias: string, { name, type }: Column) =>
  type === 'DateTime' || type === 'BigInt' ? `${alias}."${name}"::text` : `${alias}."${name}"`;

/** The fields selected in `sets`, grouped by name, through inline fragments and fragment spreads. */
function fieldsByName(
  sets: readonly SelectionSetNode[],
  info: GraphQLResolveInfo,
  into = new Map<string, FieldNode[]>(),
): Map<string, FieldNode[]> {
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

const selectionSets = (nodes: readonly FieldNode[]) =>
  nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));

/**
 * How a planned row arrives inside JSON: an array of its values in `keys` order (positional
 * arrays cost Postgres a third less than objects with keys), relations at their positions.
 */
export interface Shape {
  keys: string[];
  relations: { index: number; many: boolean; shape: Shape }[];
}

interface Entry {
  sql: string;
  relation?: { many: boolean; shape: Shape };
}

class Planner {
  private aliases = 0;
  private readonly info: GraphQLResolveInfo;

  constructor(info: GraphQLResolveInfo) {
    this.info = info;
  }

  /** key → what a row of `table` (as `alias`) carries for the fields selected in `sets`. */
  entries(table: ObjectResource, alias: string, sets: readonly SelectionSetNode[]): Map<string, Entry> {
    const view = VIEWS[table];
    const type = this.info.schema.getType(view.type);
    if (!(type instanceof GraphQLObjectType)) throw new Error(`type ${view.type} is missing from the schema`);
    const entries = new Map<string, Entry>([['id', { sql: `${alias}.id` }]]);
    for (const [name, nodes] of fieldsByName(sets, this.info)) {
      const column = FIELD_COLUMNS[table].get(name);
      if (column) entries.set(column.name, { sql: columnValue(alias, column) });
      const belongsTo = view.belongsTo?.[name];
      if (belongsTo) {
        const inner = this.alias();
        const { values, shape } = this.row(belongsTo.table, inner, selectionSets(nodes));
        const sql = tableSql('view-belongs-to', belongsTo.table, {
          values,
          alias: inner,
          parent: alias,
          column: belongsTo.column,
        });
        entries.set(relationKey(name), { sql, relation: { many: false, shape } });
      }
      const hasMany = view.hasMany?.[name];
      if (hasMany) {
        // Each page size asked for (aliases may ask for several) is a subquery of its own.
        const byLimit = new Map<number, FieldNode[]>();
        const field = type.getFields()[name]!;
        for (const node of nodes) {
          const limit = pageSize(
            getArgumentValues(field, node, this.info.variableValues)['first'] as number | null,
            RELATION_DEFAULT,
          );
          byLimit.set(limit, [...(byLimit.get(limit) ?? []), node]);
        }
        for (const [limit, sameLimit] of byLimit) {
          const inner = this.alias();
          const { values, shape } = this.row(hasMany.table, inner, selectionSets(sameLimit));
          const sql = tableSql('view-has-many', hasMany.table, {
            values,
            alias: inner,
            parent: alias,
            column: hasMany.column,
            limit: String(limit),
          });
          entries.set(relationKey(name, limit), { sql, relation: { many: true, shape } });
        }
      }
    }
    if (entries.size > MAX_VALUES)
      throw badUserInput(
        `Too many fields of ${view.type} in one selection (at most ${MAX_VALUES} distinct fields and page sizes)`,
      );
    return entries;
  }

  private row(
    table: ObjectResource,
    alias: string,
    sets: readonly SelectionSetNode[],
  ): { values: string; shape: Shape } {
    const entries = [...this.entries(table, alias, sets)];
    return {
      values: entries.map(([, entry]) => entry.sql).join(', '),
      shape: {
        keys: entries.map(([key]) => key),
        relations: entries.flatMap(([, entry], index) => (entry.relation ? [{ index, ...entry.relation }] : [])),
      },
    };
  }

  private alias(): string {
    return `r${++this.aliases}`;
  }
}

/** A row that arrived as an array of values in `shape`'s order, as an object. */
function rowOf(values: unknown[], shape: Shape): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (let i = 0; i < shape.keys.length; i++) row[shape.keys[i]!] = values[i];
  for (const { index, many, shape: inner } of shape.relations)
    row[shape.keys[index]!] = relationOf(values[index], many, inner);
  return row;
}

function relationOf(value: unknown, many: boolean, shape: Shape): unknown {
  if (many) return (value as unknown[][]).map((values) => rowOf(values, shape));
  return value === null ? null : rowOf(value as unknown[], shape);
}

export interface Plan {
  /** The select list for rows of the table, aliased `t`. */
  columns: string;
  /** Turns the relations of a row as read (arrays of values) into rows. */
  complete(row: Record<string, unknown>): void;
}

function planOf(entries: Map<string, Entry>): Plan {
  const relations = [...entries].flatMap(([key, entry]) => (entry.relation ? [{ key, ...entry.relation }] : []));
  return {
    columns: [...entries].map(([key, entry]) => `${entry.sql} AS "${key}"`).join(', '),
    complete(row) {
      for (const { key, many, shape } of relations) row[key] = relationOf(row[key], many, shape);
    },
  };
}

/** The variables used below the fields (through fragment spreads): a plan depends on them only. */
function variablesBelow(nodes: readonly FieldNode[], info: GraphQLResolveInfo): string[] {
  const names = new Set<string>();
  const spread = new Set<string>();
  const walk = (set: SelectionSetNode) =>
    visit(set, {
      Variable: (node) => void names.add(node.name.value),
      FragmentSpread: (node) => {
        const fragment = info.fragments[node.name.value];
        if (fragment && !spread.has(node.name.value)) {
          spread.add(node.name.value);
          walk(fragment.selectionSet);
        }
      },
    });
  for (const set of selectionSets(nodes)) walk(set);
  return [...names].sort();
}

/** Distinct variable values planned per field before the oldest plans are dropped. */
const PLANS_PER_FIELD = 100;
/** Statements named (prepared once per connection) at most: later distinct ones run unnamed. */
const MAX_NAMED = 200;

/**
 * The Stripe instance's view caches. Plans are worked out once per field of an operation and
 * values of the variables used below it (a cursor or filter on the root field does not change
 * the plan), keyed weakly by the parsed document's field nodes, so they go with the document.
 * A plan's statement text is filled in once per plan and filter shape rather than per request.
 */
export class PlanCache {
  readonly #plans = new WeakMap<readonly FieldNode[], { variables: string[]; byValues: Map<string, Plan> }>();
  readonly #texts = new WeakMap<Plan, Map<string, string>>();
  // Statements are named, so each connection parses and plans one once (planning a nested
  // statement costs Postgres about as much as running it) — the first MAX_NAMED distinct ones:
  // clients sending endless distinct selections must not fill the server's memory.
  readonly #names = new Map<string, string>();

  /**
   * The plan for rows of `table` answering the field being resolved, whose rows sit at `path`
   * under it (['edges', 'node'] for a connection).
   */
  planFor(table: ObjectResource, info: GraphQLResolveInfo, path: string[] = []): Plan {
    let cached = this.#plans.get(info.fieldNodes);
    if (!cached) {
      cached = { variables: variablesBelow(info.fieldNodes, info), byValues: new Map() };
      this.#plans.set(info.fieldNodes, cached);
    }
    const values = JSON.stringify(cached.variables.map((name) => info.variableValues[name] ?? null));
    let plan = cached.byValues.get(values);
    if (plan === undefined) {
      let sets = selectionSets(info.fieldNodes);
      for (const step of path) sets = selectionSets(fieldsByName(sets, info).get(step) ?? []);
      plan = planOf(new Planner(info).entries(table, 't', sets));
      if (cached.byValues.size >= PLANS_PER_FIELD) cached.byValues.clear();
      cached.byValues.set(values, plan);
    }
    return plan;
  }

  /** A plan's statement `name`.sql over `table`, with `fill`'s placeholders filled. */
  textOf(plan: Plan, name: string, table: ObjectResource, fill: Record<string, string> = {}): string {
    let byFill = this.#texts.get(plan);
    if (!byFill) {
      byFill = new Map();
      this.#texts.set(plan, byFill);
    }
    const key = [name, ...Object.entries(fill).flat()].join('\n');
    let text = byFill.get(key);
    if (text === undefined) {
      text = tableSql(name, table, { columns: plan.columns, ...fill });
      byFill.set(key, text);
    }
    return text;
  }

  /** The prepared-statement name of a statement text; undefined once MAX_NAMED are named. */
  nameOf(text: string): string | undefined {
    let name = this.#names.get(text);
    if (name === undefined && this.#names.size < MAX_NAMED) {
      name = `stripe_view_${this.#names.size + 1}`;
      this.#names.set(text, name);
    }
    return name;
  }
}

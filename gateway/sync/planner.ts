/**
 * Plans one SQL statement for a root field over a synced table and everything selected under it:
 * the columns behind the selected fields, and each selected relation as a correlated subquery
 * returning its rows as JSON, nested as deep as the selection goes. A page of repositories with
 * their issues and each issue's comments is one round trip, and Postgres, not per-row resolvers,
 * joins the levels. Table and column names come from the plugin's views (views.ts); values from
 * the request (filters on relations) are statement parameters, and only validated integers (page
 * sizes) are written into the text.
 */
import { createHash } from 'node:crypto';
import {
  getArgumentValues,
  GraphQLObjectType,
  Kind,
  visit,
  type FieldNode,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';
import { escapeIdentifier, escapeLiteral } from 'pg';
import { decodeCursor } from '../cursor.ts';
import { badUserInput } from '../errors.ts';
import { statementNames } from '../sql.ts';
import { fillPlaceholders, syncStatement } from './statements.ts';
import {
  type ColumnField,
  fieldsOf,
  type Filter,
  type Relation,
  type RowScope,
  type SyncView,
  type SyncViews,
} from './views.ts';

export const PAGE_DEFAULT = 20;
export const PAGE_LIMIT = 100;
export const RELATION_DEFAULT = 20;

/** json_build_array takes at most 100 arguments. */
const MAX_VALUES = 100;
/** Where a connection-style relation's rows carry their cursor time. */
export const CURSOR_KEY = '@cursor';
/** Whether `id` fits a bigint id column; anything else would fail in SQL as an internal error. */
export const isBigintId = (id: string) => /^\d{1,19}$/.test(id) && BigInt(id) <= 9_223_372_036_854_775_807n;

/**
 * The arguments of a relation that decide what it reads: its filters and, for a connection, the
 * cursor it continues after. Backward paging (`last`, `before`) is refused.
 */
export function relationArguments(
  views: SyncViews,
  target: SyncView,
  args: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const filters = filterValues(views, target, args);
  if (views.relationStyle === 'list') return filters;
  if (args['last'] != null || args['before'] != null)
    throw badUserInput('Related rows page forward only: use first and after');
  return args['after'] == null ? filters : { ...filters, after: args['after'] };
}

/** Values a list filter (`labels: […]`) may carry. */
const MAX_LIST_FILTER = 100;
/** Parameters a statement may carry (Postgres allows 65,535; a selection needs far fewer). */
const MAX_PARAMS = 1000;

export function pageSize(requested: number | null | undefined, fallback: number): number {
  const size = requested ?? fallback;
  if (size < 0) throw badUserInput('A page size cannot be negative');
  return Math.min(size, PAGE_LIMIT);
}

/** The filter values given to a connection of `view` or a relation to it, whichever style the plugin uses. */
export function filterValues(
  views: SyncViews,
  view: SyncView,
  args: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const given =
    views.filterStyle === 'arguments' ? args : ((args['filter'] as Record<string, unknown> | null | undefined) ?? {});
  const names = [...Object.keys(view.filters), ...(views.range ? [views.range.from, views.range.to] : [])];
  return Object.fromEntries(names.flatMap((name) => (given[name] == null ? [] : [[name, given[name]]])));
}

/**
 * Where a row carries a relation planned for it: `@price`, `@items:20`, and for a relation asked
 * with filters a digest of them (`@issues:50:k3…`), so aliases asking differently get their own.
 */
export function relationKey(field: string, limit?: number, filters?: Readonly<Record<string, unknown>>): string {
  if (limit === undefined) return `@${field}`;
  const given = Object.entries(filters ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  if (given.length === 0) return `@${field}:${limit}`;
  return `@${field}:${limit}:${createHash('sha1').update(JSON.stringify(given)).digest('base64url').slice(0, 12)}`;
}

/** SQL conditions (`AND`ed) for the filters given in `values`, on the row aliased `alias`. */
export function filterConditions(
  filters: Readonly<Record<string, Filter>>,
  values: Readonly<Record<string, unknown>>,
  alias: string,
  bind: (value: unknown) => string,
): string[] {
  const conditions: string[] = [];
  for (const [name, filter] of Object.entries(filters)) {
    const value = values[name];
    if (value === undefined || value === null) continue;
    if (filter.match === 'contains') {
      const items = (Array.isArray(value) ? value : [value]).map((item: unknown) => ({ [filter.key]: item }));
      if (items.length === 0) continue;
      if (items.length > MAX_LIST_FILTER) throw badUserInput(`${name} takes at most ${MAX_LIST_FILTER} values`);
      conditions.push(`${alias}.data->${escapeLiteral(filter.path)} @> ${bind(JSON.stringify(items))}::jsonb`);
      continue;
    }
    const column = `${alias}.${escapeIdentifier(filter.column ?? name)}`;
    conditions.push(
      filter.match === 'caseInsensitive' ? `lower(${column}) = lower(${bind(value)})` : `${column} = ${bind(value)}`,
    );
  }
  return conditions;
}

/** The conditions of a view's filters and of the plugin's range arguments (`createdFrom`…). */
export function viewConditions(
  views: SyncViews,
  view: SyncView,
  values: Readonly<Record<string, unknown>>,
  alias: string,
  bind: (value: unknown) => string,
): string[] {
  const conditions = filterConditions(view.filters, values, alias, bind);
  if (views.range) {
    const column = `${alias}.${escapeIdentifier(Object.values(views.orders)[0]!)}`;
    const from = values[views.range.from];
    const to = values[views.range.to];
    if (from !== undefined && from !== null) conditions.push(`${column} >= ${bind(from)}`);
    if (to !== undefined && to !== null) conditions.push(`${column} < ${bind(to)}`);
  }
  return conditions;
}

/** The SQL of a field as the row carries it (timestamps and bigints as text: see below). */
function valueSql(alias: string, field: ColumnField): string {
  if (field.path !== undefined) return `${alias}.data->${escapeLiteral(field.path)}`;
  const column = `${alias}.${escapeIdentifier(field.column!)}`;
  // Parsing every row's dates into Date objects cost more than the rest of a row, so they
  // travel as text (at the top level and inside JSON alike) and a field parses its own value.
  return field.type === 'DateTime' || field.type === 'BigInt' ? `${column}::text` : column;
}

const joinSql = (relation: Relation, alias: string, parent: string) =>
  Object.entries(relation.on)
    .map(([target, source]) => `${alias}.${escapeIdentifier(target)} = ${parent}.${escapeIdentifier(source)}`)
    .join(' AND ');

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

/** View statement `name` over `table`, its own placeholders ({columns}, {where}, …) filled with `values`. */
const viewStatement = (views: SyncViews, name: string, table: string, values: Readonly<Record<string, string>>) =>
  fillPlaceholders(syncStatement(name, { schema: views.schema, table }), /\{([a-z_]+)\}/g, values, name);

/**
 * How a planned row arrives inside JSON: an array of its values in `keys` order (positional
 * arrays cost Postgres a third less than objects with keys), relations at their positions.
 */
interface Shape {
  keys: string[];
  relations: { index: number; many: boolean; shape: Shape }[];
}

interface Entry {
  sql: string;
  relation?: { many: boolean; shape: Shape };
}

class Planner {
  private aliases = 0;
  /** Values of the relations' filters; written `$@1`, `$@2`… and numbered after the root's own. */
  readonly params: unknown[] = [];

  private readonly views: SyncViews;
  private readonly info: GraphQLResolveInfo;
  /** Whether the views' row scope applies: every subquery then carries its condition. */
  private readonly scoped: boolean;

  constructor(views: SyncViews, info: GraphQLResolveInfo, scoped: boolean) {
    this.views = views;
    this.info = info;
    this.scoped = scoped;
  }

  /** The row scope's condition on the row aliased `alias`, when it applies. */
  scopeConditions(alias: string): string[] {
    const scope = this.views.rowScope;
    return this.scoped && scope ? [scopeCondition(scope, alias)] : [];
  }

  /** key → what a row of `table` (as `alias`) carries for the fields selected in `sets`. */
  entries(table: string, alias: string, sets: readonly SelectionSetNode[]): Map<string, Entry> {
    const view = viewOf(this.views, table);
    const type = this.info.schema.getType(view.type);
    if (!(type instanceof GraphQLObjectType)) throw new Error(`type ${view.type} is missing from the schema`);
    const fields = fieldsOf(this.views, view);
    // A bigint id travels as text: inside JSON it would be a number, exact in JS only below 2^53.
    const id = view.idType === 'bigint' ? `${alias}.id::text` : `${alias}.id`;
    const entries = new Map<string, Entry>([['id', { sql: id }]]);
    for (const [name, nodes] of fieldsByName(sets, this.info)) {
      const field = fields.get(name);
      if (field && name !== 'id')
        entries.set(field.path === undefined ? field.column! : `.${name}`, { sql: valueSql(alias, field) });
      const belongsTo = view.belongsTo?.[name];
      if (belongsTo) {
        const inner = this.alias();
        const { values, shape } = this.row(belongsTo.table, inner, selectionSets(nodes));
        const sql = viewStatement(this.views, 'view-belongs-to', belongsTo.table, {
          values,
          alias: inner,
          join: [joinSql(belongsTo, inner, alias), ...this.scopeConditions(inner)].join(' AND '),
        });
        entries.set(relationKey(name), { sql, relation: { many: false, shape } });
      }
      const hasMany = view.hasMany?.[name];
      if (hasMany) this.hasMany(entries, type, name, hasMany, alias, nodes);
    }
    if (entries.size > MAX_VALUES)
      throw badUserInput(
        `Too many fields of ${view.type} in one selection (at most ${MAX_VALUES} distinct fields and relation arguments)`,
      );
    return entries;
  }

  private hasMany(
    entries: Map<string, Entry>,
    type: GraphQLObjectType,
    name: string,
    relation: Relation,
    alias: string,
    nodes: FieldNode[],
  ): void {
    // Each distinct page size and filter asked for (aliases may ask for several) is a subquery of its own.
    const byKey = new Map<string, { limit: number; filters: Record<string, unknown>; nodes: FieldNode[] }>();
    const definition = type.getFields()[name]!;
    const target = viewOf(this.views, relation.table);
    for (const node of nodes) {
      const args = getArgumentValues(definition, node, this.info.variableValues);
      const limit = pageSize(args['first'] as number | null, RELATION_DEFAULT);
      const filters = relationArguments(this.views, target, args);
      const key = relationKey(name, limit, filters);
      const same = byKey.get(key);
      if (same) same.nodes.push(node);
      else byKey.set(key, { limit, filters, nodes: [node] });
    }
    const orderColumn = escapeIdentifier(Object.values(this.views.orders)[0]!);
    const connection = this.views.relationStyle === 'connection';
    for (const [key, { limit, filters, nodes: sameKey }] of byKey) {
      const inner = this.alias();
      // A connection's rows sit at edges.node, carry their cursor time, and one more row is read
      // than asked for: whether there is a next page.
      const sets = connection ? this.below(selectionSets(sameKey), ['edges', 'node']) : selectionSets(sameKey);
      const cursor = connection ? { key: CURSOR_KEY, sql: `${inner}.${orderColumn}::text` } : undefined;
      const { values, shape } = this.row(relation.table, inner, sets, cursor);
      const bind = (value: unknown) => this.bind(value);
      const where = [...this.scopeConditions(inner), ...viewConditions(this.views, target, filters, inner, bind)];
      if (typeof filters['after'] === 'string') {
        const { at, id } = decodeCursor(filters['after']);
        const idType = target.idType ?? 'text';
        if (idType === 'bigint' && !isBigintId(id)) throw badUserInput('Invalid cursor');
        where.push(`(${inner}.${orderColumn}, ${inner}.id) < (${bind(at)}::timestamptz, ${bind(id)}::${idType})`);
      }
      const sql = viewStatement(this.views, 'view-has-many', relation.table, {
        values,
        alias: inner,
        join: joinSql(relation, inner, alias),
        where: where.map((condition) => `AND ${condition}`).join(' '),
        order_column: orderColumn,
        limit: String(connection ? limit + 1 : limit),
      });
      entries.set(key, { sql, relation: { many: true, shape } });
    }
  }

  /** The selection sets at `path` below `sets` (['edges', 'node'] in a connection). */
  below(sets: readonly SelectionSetNode[], path: readonly string[]): readonly SelectionSetNode[] {
    for (const step of path) sets = selectionSets(fieldsByName(sets, this.info).get(step) ?? []);
    return sets;
  }

  private row(
    table: string,
    alias: string,
    sets: readonly SelectionSetNode[],
    extra?: { key: string; sql: string },
  ): { values: string; shape: Shape } {
    const entries = [...this.entries(table, alias, sets)];
    if (extra) entries.push([extra.key, { sql: extra.sql }]);
    if (entries.length > MAX_VALUES)
      throw badUserInput(
        `Too many fields in one selection (at most ${MAX_VALUES - 1} distinct fields and relation arguments)`,
      );
    return {
      values: entries.map(([, entry]) => entry.sql).join(', '),
      shape: {
        keys: entries.map(([key]) => key),
        relations: entries.flatMap(([, entry], index) => (entry.relation ? [{ index, ...entry.relation }] : [])),
      },
    };
  }

  private bind(value: unknown): string {
    if (this.params.length >= MAX_PARAMS) throw badUserInput('Too many filters in one selection');
    return `$@${this.params.push(value)}`;
  }

  private alias(): string {
    return `r${++this.aliases}`;
  }
}

/**
 * `alias.column = ANY(<the scope's values>)`. The values are one parameter, written `$@0` and
 * numbered after all others when the text is made (PlanCache.textOf).
 */
const scopeCondition = (scope: RowScope, alias: string) =>
  `${alias}.${escapeIdentifier(scope.column)} = ANY(${SCOPE_PARAM}::text[])`;
const SCOPE_PARAM = '$@0';

function viewOf(views: SyncViews, table: string): SyncView {
  const view = views.views[table];
  if (!view) throw new Error(`${views.schema}.${table} has no view`);
  return view;
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
  readonly columns: string;
  /** Values of the `$@n` parameters in `columns`, in order. */
  readonly params: readonly unknown[];
  /**
   * Whether the views' row scope applies: its condition is in every subquery (`$@0`) and goes
   * in the root's where (textOf), and its values are the statement's last parameter.
   */
  readonly scoped: boolean;
  /** Turns the relations of a row as read (arrays of values) into rows. */
  complete(row: Record<string, unknown>): void;
}

function planOf(entries: Map<string, Entry>, params: unknown[], scoped: boolean): Plan {
  const relations = [...entries].flatMap(([key, entry]) => (entry.relation ? [{ key, ...entry.relation }] : []));
  return {
    columns: [...entries].map(([key, entry]) => `${entry.sql} AS ${escapeIdentifier(key)}`).join(', '),
    params,
    scoped,
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
 * A plugin's plan caches, held by its instance. Plans are worked out once per field of an
 * operation and values of the variables used below it (a cursor or filter on the root field does
 * not change the plan), keyed weakly by the parsed document's field nodes, so they go with the
 * document. A plan's statement text is filled in once per plan and root-filter shape.
 */
export class PlanCache {
  readonly #plans = new WeakMap<readonly FieldNode[], { variables: string[]; byValues: Map<string, Plan> }>();
  readonly #texts = new WeakMap<Plan, Map<string, string>>();
  // Statements are named, so each connection parses and plans one once (planning a nested
  // statement costs Postgres about as much as running it) — the first MAX_NAMED distinct ones:
  // clients sending endless distinct selections must not fill the server's memory.
  readonly #names: (text: string) => string | undefined;

  readonly #views: SyncViews;

  constructor(views: SyncViews) {
    this.#views = views;
    this.#names = statementNames(`${views.schema}_view`, MAX_NAMED);
  }

  /**
   * The plan for rows of `table` answering the field being resolved, whose rows sit at `path`
   * under it (['edges', 'node'] for a connection); `scoped` when the views' row scope restricts
   * the reader (rowScope.valuesFor gave a list).
   */
  planFor(table: string, info: GraphQLResolveInfo, path: readonly string[] = [], scoped = false): Plan {
    if (scoped && !this.#views.rowScope) throw new Error(`${this.#views.schema} views declare no row scope`);
    let cached = this.#plans.get(info.fieldNodes);
    if (!cached) {
      cached = { variables: variablesBelow(info.fieldNodes, info), byValues: new Map() };
      this.#plans.set(info.fieldNodes, cached);
    }
    const values = `${scoped ? 'scoped' : 'all'}:${JSON.stringify(cached.variables.map((name) => info.variableValues[name] ?? null))}`;
    let plan = cached.byValues.get(values);
    if (plan === undefined) {
      const planner = new Planner(this.#views, info, scoped);
      plan = planOf(
        planner.entries(table, 't', planner.below(selectionSets(info.fieldNodes), path)),
        planner.params,
        scoped,
      );
      if (cached.byValues.size >= PLANS_PER_FIELD) cached.byValues.clear();
      cached.byValues.set(values, plan);
    }
    return plan;
  }

  /**
   * The text of statement `name` (view-single, view-page) over `table` for `plan`, ordered by
   * `order.column` (`order.direction`), with `where` filled in; the plan's parameters are
   * numbered after the `rootValues` first ones, and a scoped plan's scope values come last (the
   * root row's scope condition joins `where`).
   */
  textOf(
    plan: Plan,
    name: string,
    table: string,
    { rootValues, where, order }: { rootValues: number; where: string; order: { column: string; direction: string } },
  ): string {
    let byShape = this.#texts.get(plan);
    if (!byShape) {
      byShape = new Map();
      this.#texts.set(plan, byShape);
    }
    const key = `${name}\n${table}\n${rootValues}\n${order.column}\n${order.direction}\n${where}`;
    let text = byShape.get(key);
    if (text === undefined) {
      const scopeParam = rootValues + plan.params.length + 1;
      const columns = plan.columns.replace(
        /\$@(\d+)/g,
        (_match, n: string) => `$${n === '0' ? scopeParam : rootValues + Number(n)}`,
      );
      const scope = this.#views.rowScope;
      const scoped =
        plan.scoped && scope ? ` AND ${scopeCondition(scope, 't').replace(SCOPE_PARAM, `$${scopeParam}`)}` : '';
      text = viewStatement(this.#views, name, table, {
        columns,
        where: `${where}${scoped}`,
        order: order.direction,
        order_column: escapeIdentifier(order.column),
      });
      byShape.set(key, text);
    }
    return text;
  }

  /** The prepared-statement name of a statement text; undefined once MAX_NAMED are named. */
  nameOf(text: string): string | undefined {
    return this.#names(text);
  }
}

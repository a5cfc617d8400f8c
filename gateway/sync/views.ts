/**
 * How a plugin's synced tables appear in GraphQL, declared once per plugin: a type per table, its
 * fields (generated columns or keys of `data`), the filters its connection and its relations
 * take, and the relations between tables. The core builds the types and root fields from it
 * (object-schema.ts) and plans each root field into one SQL statement (planner.ts). Relations
 * follow columns, not foreign keys: events arrive in any order, so a relation to an object not
 * synced yet is null or empty rather than an error.
 */
import type { Session } from '../auth.ts';

export type ColumnType = 'String' | 'Boolean' | 'BigInt' | 'Int' | 'DateTime' | 'JSON';

export interface ColumnField {
  type: ColumnType;
  /** The column behind the field. Default: the field's name in snake_case. */
  column?: string;
  /** Read `data->'<path>'` instead of a column. */
  path?: string;
  nullable?: boolean;
  description?: string;
}

/**
 * A filter argument. `equals` (the default) matches a column exactly, `caseInsensitive` ignoring
 * case; `contains` matches rows whose `data-><path>` array holds an element with `key` = the
 * value (a list argument: all of them), served by a GIN index on that path.
 */
export type Filter =
  | { type: 'String' | 'Boolean' | 'Int'; column?: string; match?: 'equals' | 'caseInsensitive'; description?: string }
  | { type: 'String'; match: 'contains'; path: string; key: string; list?: boolean; description?: string };

/** Rows of `table` joined to this row: each `target column → this row's column`. */
export interface Relation {
  table: string;
  on: Readonly<Record<string, string>>;
  description?: string;
}

export interface SyncView {
  /** GraphQL type, e.g. StripeCustomer. */
  type: string;
  description: string;
  /** The id column's type. Default `text`. */
  idType?: 'text' | 'bigint';
  /** The root field for one row; `by` maps its arguments to columns (default: `id`). */
  single: string | { name: string; by: Readonly<Record<string, Filter>> };
  /** The root connection, e.g. stripeCustomers. */
  plural: string;
  /**
   * Arguments the root connection requires, each matching a column as a filter does (Shopify's
   * `shopifyInventory(locationId: …)`); relations to the view do not take them.
   */
  pluralBy?: Readonly<Record<string, Filter>>;
  /** Fields besides `id`, `isDeleted`, `syncedAt`, `data` and the plugin's common fields. */
  fields: Readonly<Record<string, ColumnType | ColumnField>>;
  /** Arguments of its connection and of every relation to it. */
  filters: Readonly<Record<string, Filter>>;
  /** field → the one row of another table this row points at. */
  belongsTo?: Readonly<Record<string, Relation>>;
  /** field → rows of another table that point at this row. */
  hasMany?: Readonly<Record<string, Relation>>;
}

/**
 * Which rows of every table a session may read: those whose `column` holds one of the values
 * `valuesFor` returns (a Shopify user reads the shops their session names). `null` is every row
 * (the admin); an empty list is none. The planner adds the condition to every statement and
 * subquery it writes, the values as one parameter, so a scope never changes a statement's text.
 */
export interface RowScope {
  /** A text column every table of the views has. */
  column: string;
  /** The values the session may read, or null for all; throws a client error for a bad session. */
  valuesFor(session: Session): readonly string[] | null;
}

export interface SyncViews {
  /** Type-name prefix of the shared types (`Stripe` → StripeOrder, StripeFilter inputs). */
  prefix: string;
  /** The plugin's Postgres schema. */
  schema: string;
  /** Fields every type of the plugin has (Stripe: created, stripeAt, metadata). */
  commonFields: Readonly<Record<string, ColumnType | ColumnField>>;
  /** The orders a connection offers: enum key → timestamp column (`CREATED` → created); the first is the default, newest first. */
  orders: Readonly<Record<string, string>>;
  /** The name of the enum of `orders`; default `<prefix>Order` (Shopify has an order type of that name). */
  orderEnum?: string;
  /** `from`/`to` range arguments over the first order's column (createdFrom/createdTo). */
  range?: { from: string; to: string };
  /**
   * Related rows as a list (`first`; Stripe) or as a Relay connection paged forward with
   * `first`/`after` (GitHub).
   */
  relationStyle: 'list' | 'connection';
  /** Filters as arguments of their own (`email: …`) or in one `filter:` input object. */
  filterStyle: 'arguments' | 'input';
  views: Readonly<Record<string, SyncView>>;
  /** Who may read the tables. */
  mayRead(session: Session): boolean;
  /** The rows each reader may see, when not all of them. */
  rowScope?: RowScope;
}

export const camelCase = (name: string) => name.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
export const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

export const columnField = (name: string, spec: ColumnType | ColumnField): ColumnField =>
  typeof spec === 'string' ? { type: spec, column: snakeCase(name) } : { column: snakeCase(name), ...spec };

/** The fields every view has, whatever the plugin. */
export const CORE_FIELDS: Readonly<Record<string, ColumnField>> = {
  id: { type: 'String', column: 'id', nullable: false },
  isDeleted: {
    type: 'Boolean',
    column: 'is_deleted',
    nullable: false,
    description: 'Deleted at the provider (kept so history stays whole).',
  },
  syncedAt: { type: 'DateTime', column: 'synced_at', nullable: false },
  data: { type: 'JSON', column: 'data', nullable: false, description: 'The whole object as the provider sent it.' },
};

/** Every field of a view with the column or data key behind it. */
export function fieldsOf(views: SyncViews, view: SyncView): Map<string, ColumnField> {
  const all = new Map<string, ColumnField>(Object.entries(CORE_FIELDS));
  for (const [name, spec] of [...Object.entries(views.commonFields), ...Object.entries(view.fields)])
    all.set(name, columnField(name, spec));
  return all;
}

/**
 * What a provider plugin says about each resource it syncs; the sync core (store, pager, check,
 * CLI) works from this list alone. Every synced table has the same bookkeeping columns: `id`,
 * `data jsonb` (the whole object), `is_deleted`, the provider-side time of the row's state (its
 * name is the plugin's `versionColumn`: Stripe `stripe_at`, GitHub `updated_at`), `last_event_id`
 * and `synced_at`. Typed columns people filter on are generated from `data` by the migration.
 */
import type pg from 'pg';

/** An object as the provider returns it. */
export type SyncedObject = { readonly [key: string]: unknown };

/** One object's state as of `versionAt` (epoch seconds, provider-side): newer states win. */
export interface ObjectState<O extends SyncedObject = SyncedObject> {
  /** The table the object belongs in. */
  table: string;
  object: O;
  deleted: boolean;
  versionAt: number;
  /** The webhook event that produced this state, if one did. */
  eventId: string | null;
  /**
   * Where `object` is in the payload of event `eventId`, already stored in the plugin's webhook
   * log (`<schema>.events`): the store then takes it from there in SQL rather than send and parse
   * it again, with `merge`'s fields laid over it (as `{ ...atPath, ...merge }`).
   */
  inPayload?: { path: readonly string[]; merge?: SyncedObject };
}

export interface Page<O> {
  objects: O[];
  /** Where the next page starts (a checkpoint a resumed backfill continues from); null after the last. */
  next: string | null;
}

/** A page as the provider sent it: the JSON text of an array of objects, never parsed in Node. */
export interface JsonPage {
  json: Buffer;
  /** As in `Page`. */
  next: string | null;
  /** What the page's objects belong to, for a listing that parses its own pages (Shopify: the shop). */
  scope?: string;
}

/**
 * A full backfill's fast path: each page's JSON goes to Postgres as it arrived and is parsed once,
 * there (Node neither parses nor re-encodes each object). By default each page is a JSON array of
 * objects stored exactly as the provider lists them, keyed by their `id`; those holding `skipKey`
 * belong elsewhere (GitHub's issues list carries pull requests) and are left out. A plugin whose
 * pages need more (Shopify's bulk JSONL: several tables, ids from GIDs) turns them into object
 * states itself; the store writes those as it writes parsed pages (COPY when all are new).
 */
export type JsonListing = {
  list(request: { cursor: string | null; scopes?: readonly string[] | undefined }): Promise<JsonPage>;
} & (
  | {
      /** The key of an object's provider-side time (ISO 8601); without one, it is as of when it was listed. */
      versionKey: string;
      skipKey?: string;
      states?: never;
    }
  | {
      /** The object states of a batch of pages listed at `listedAt` (epoch seconds). */
      states(pages: readonly JsonPage[], listedAt: number): ObjectState[];
    }
);

export interface ListRequest {
  /** Continue after this checkpoint (null: from the start). */
  cursor: string | null;
  /** Only objects created (or changed, for an incremental list) at or after this time. */
  since: Date | null;
  /** Only these parts of the provider's data (a plugin's own notion: Shopify's shops); absent = all. */
  scopes?: readonly string[] | undefined;
}

/** Resources carried inside a parent's objects (Stripe subscription items, GitHub PR reviews). */
export interface ChildResource<P extends SyncedObject = SyncedObject> {
  table: string;
  idType?: 'text' | 'bigint';
  /** The child table's column naming its parent's id. */
  parentColumn: string;
  /**
   * The children a parent object carries; `complete` when none were left out, in which case
   * stored children the parent no longer lists are marked deleted.
   */
  of(parent: P): { objects: SyncedObject[]; complete: boolean } | undefined;
}

export interface SyncResource<O extends SyncedObject = SyncedObject> {
  /** Its table in the plugin's schema; also its name in the CLI, in sync_state and in reports. */
  table: string;
  /** The id column's type. Default `text`. */
  idType?: 'text' | 'bigint';
  /** Lists every object page by page. Absent for resources that only arrive inside a parent. */
  list?(request: ListRequest): Promise<Page<O>>;
  /**
   * The same list as raw JSON pages, used by a full backfill (not with `since`) when present.
   * Not for resources with children: their objects are split in Node.
   */
  listJson?: JsonListing;
  /**
   * One object as the provider has it now; null when it is gone. `stored` is the object as last
   * stored (GitHub finds an object by the API URL it carries).
   */
  retrieve?(id: string, stored: SyncedObject | null): Promise<O | null>;
  children?: readonly ChildResource<O>[];
  /** Called before a sync of this resource lists anything (a run, or a resumed one, begins). */
  started?(): void;
  /**
   * Called once a sync of this resource has completed and its checkpoint is cleared: what may only
   * be kept after every page landed (GitHub: the lists' ETags for the next incremental sync).
   */
  completed?(): Promise<void>;
  /** Whether Hasura tracks the table. Default true. */
  hasura?: boolean;
}

/** What the core needs to know about a plugin's synced tables. */
export interface SyncTables {
  /** The plugin's Postgres schema. */
  schema: string;
  /** The column holding each row's provider-side time. */
  versionColumn: string;
  resources: readonly SyncResource[];
  /** An object's id as text. Default `String(object.id)`. */
  idOf?(object: SyncedObject): string;
}

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** Every table of a plugin's resources, children included, with its id type and parent column. */
export function tablesOf(tables: SyncTables): Map<string, { idType: 'text' | 'bigint'; parentColumn?: string }> {
  const all = new Map<string, { idType: 'text' | 'bigint'; parentColumn?: string }>();
  for (const resource of tables.resources) {
    // A child may also be listed as a resource of its own (to be retrieved one by one).
    if (!all.has(resource.table)) all.set(resource.table, { idType: resource.idType ?? 'text' });
    for (const child of resource.children ?? [])
      all.set(child.table, { idType: child.idType ?? 'text', parentColumn: child.parentColumn });
  }
  return all;
}

/**
 * `check [--fix]`: compares the synced tables with the provider, resource by resource. Every
 * object the provider lists is compared with its row (whole-object equality, so any drift counts,
 * not only a newer version); rows the provider did not list are looked up one by one. Missing and
 * stale rows are rewritten from the provider's objects; extra rows are marked deleted when the
 * provider says the object is gone, or rewritten when it turns out to exist (created while the
 * check ran). Children carried in parents (subscription items, reviews) are checked with them.
 */
import type pg from 'pg';
import type { ChildResource, SyncedObject, SyncResource, SyncTables } from './resource.ts';
import { syncStatement } from './statements.ts';
import type { SyncStore } from './store.ts';

export interface CheckReport {
  resource: string;
  /** Objects the provider listed. */
  api: number;
  /** Live (not deleted) rows after the check (and the fixes). */
  database: number;
  missing: number;
  stale: number;
  extra: number;
  fixed: number;
}

export interface CheckRequest {
  resources?: readonly string[];
  fix?: boolean;
  onProgress?(progress: { resource: string; checked: number; done: boolean }): void;
}

export interface CheckerOptions {
  db: pg.Pool;
  tables: SyncTables;
  store: SyncStore;
  /** The provider-side time (epoch seconds) of an object fetched at `fetchedAt` (epoch seconds). */
  versionOf(object: SyncedObject, fetchedAt: number): number;
}

const emptyReport = (resource: string): CheckReport => ({
  resource,
  api: 0,
  database: 0,
  missing: 0,
  stale: 0,
  extra: 0,
  fixed: 0,
});

export function createChecker(options: CheckerOptions) {
  const { db, store, tables } = options;
  const names = (table: string, idType: 'text' | 'bigint' = 'text') => ({ schema: tables.schema, table, idType });

  /** Counts the objects of one page whose rows are missing or differ, and returns those objects. */
  async function comparePage(
    table: string,
    idType: 'text' | 'bigint' | undefined,
    objects: SyncedObject[],
    report: CheckReport,
  ): Promise<SyncedObject[]> {
    if (objects.length === 0) return [];
    const page = objects.map((object) => ({ id: store.idOf(object), data: object }));
    const { rows } = await db.query<{ id: string; problem: 'missing' | 'stale' }>(
      syncStatement('check-page', names(table, idType)),
      [JSON.stringify(page)],
    );
    for (const row of rows) report[row.problem] += 1;
    const wrong = new Set(rows.map((row) => row.id));
    return objects.filter((object) => wrong.has(store.idOf(object)));
  }

  /**
   * Rewrites rows from the provider's objects. A row that meanwhile got a newer state (a webhook
   * during the check) keeps it: it is no longer behind, so it counts as settled too.
   */
  async function rewrite(table: string, objects: SyncedObject[], report: CheckReport) {
    if (objects.length === 0) return;
    const at = Math.floor(Date.now() / 1000);
    await store.write(
      db,
      objects.map((object) => ({
        table,
        object,
        deleted: false,
        versionAt: options.versionOf(object, at),
        eventId: null,
      })),
    );
    report.fixed += objects.length;
  }

  /** Looks up rows the provider did not list: gone objects are marked deleted, live ones rewritten. */
  async function settleExtras(resource: SyncResource | undefined, table: string, ids: string[], report: CheckReport) {
    if (!resource?.retrieve) throw new Error(`${table} rows cannot be looked up one by one`);
    const { rows } = await db.query<{ id: string; data: SyncedObject }>(
      syncStatement('check-stored', names(table, resource.idType)),
      [ids],
    );
    const stored = new Map(rows.map((row) => [row.id, row.data]));
    const gone: string[] = [];
    const found: SyncedObject[] = [];
    const failed: string[] = [];
    for (const id of ids) {
      try {
        const object = await resource.retrieve(id, stored.get(id) ?? null);
        if (object === null || object['deleted'] === true) gone.push(id);
        else found.push(object);
      } catch (error) {
        failed.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    report.fixed += await store.markDeleted(db, table, gone);
    await rewrite(table, found, report);
    // The rest is fixed first: one row that cannot be looked up holds up no other.
    if (failed.length > 0)
      throw new Error(`${failed.length} ${table} row(s) could not be looked up: ${failed.slice(0, 5).join('; ')}`);
  }

  async function liveRows(table: string): Promise<number> {
    return (await db.query<{ live: number }>(syncStatement('check-count', names(table)))).rows[0]!.live;
  }

  async function checkResource(resource: SyncResource, request: CheckRequest): Promise<CheckReport[]> {
    const fix = request.fix ?? false;
    const report = emptyReport(resource.table);
    const children = (resource.children ?? []).map((child) => ({
      child,
      report: emptyReport(child.table),
      seen: [] as string[],
      completeParents: [] as string[],
    }));
    const seen: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await resource.list!({ cursor, since: null });
      const wrong = await comparePage(resource.table, resource.idType, page.objects, report);
      for (const object of page.objects) seen.push(store.idOf(object));
      // Children are compared before any fix: rewriting a parent rewrites its children too.
      const wrongChildren: { child: ChildResource; report: CheckReport; objects: SyncedObject[] }[] = [];
      for (const entry of children) {
        const carried: SyncedObject[] = [];
        for (const parent of page.objects) {
          const list = entry.child.of(parent);
          if (!list) continue;
          carried.push(...list.objects);
          if (list.complete) entry.completeParents.push(store.idOf(parent));
        }
        entry.seen.push(...carried.map(store.idOf));
        const objects = await comparePage(entry.child.table, entry.child.idType, carried, entry.report);
        wrongChildren.push({ child: entry.child, report: entry.report, objects });
      }
      if (fix) {
        await rewrite(resource.table, wrong, report);
        for (const { child, report: childReport, objects } of wrongChildren)
          await rewrite(child.table, objects, childReport);
      }
      request.onProgress?.({ resource: resource.table, checked: seen.length, done: page.next === null });
      if (page.next === null || page.objects.length === 0) break;
      cursor = page.next;
    }
    report.api = seen.length;

    const extras = (
      await db.query<{ id: string }>(syncStatement('check-extra', names(resource.table, resource.idType)), [seen])
    ).rows.map((row) => row.id);
    report.extra = extras.length;
    if (fix && extras.length > 0) await settleExtras(resource, resource.table, extras, report);
    report.database = await liveRows(resource.table);

    const reports = [report];
    for (const { child, report: childReport, seen: childSeen, completeParents } of children) {
      childReport.api = childSeen.length;
      const extraChildren = (
        await db.query<{ id: string }>(
          // {id_type} is the parent's: the parent column holds its ids.
          syncStatement('check-extra-children', {
            ...names(child.table, resource.idType),
            parent: child.parentColumn,
          }),
          [completeParents, childSeen],
        )
      ).rows.map((row) => row.id);
      childReport.extra = extraChildren.length;
      const childResource = tables.resources.find((r) => r.table === child.table);
      if (fix && extraChildren.length > 0) await settleExtras(childResource, child.table, extraChildren, childReport);
      childReport.database = await liveRows(child.table);
      reports.push(childReport);
    }
    return reports;
  }

  async function check(request: CheckRequest = {}): Promise<CheckReport[]> {
    const wanted = request.resources?.length ? request.resources : undefined;
    // Children are listed inside their parents: asking for a child checks its parent too.
    const resources = tables.resources.filter(
      (resource) =>
        resource.list &&
        (!wanted ||
          wanted.includes(resource.table) ||
          (resource.children ?? []).some((child) => wanted.includes(child.table))),
    );
    const reports: CheckReport[] = [];
    for (const resource of resources) reports.push(...(await checkResource(resource, request)));
    return reports;
  }

  return { check };
}

export type Checker = ReturnType<typeof createChecker>;

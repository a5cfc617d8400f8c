/**
 * `check [--fix]`: compares the synced tables with the API, resource by resource. Every object
 * the API lists is compared with its row (whole-object equality, so any drift counts, not only a
 * newer `updated`); rows the API did not list are looked up one by one. Missing and stale rows
 * are rewritten from the API's objects; extra rows are marked deleted when the API says the
 * object is gone, or rewritten when it turns out to exist (created while the check ran).
 */
import type Stripe from 'stripe';
import type { PluginRuntime } from '../../gateway/sdk.ts';
import type { StripeConfig } from './config.ts';
import {
  API,
  LISTED_RESOURCES,
  TABLE_OF_OBJECT,
  type ObjectResource,
  type Resource,
  type StripeObject,
} from './resources.ts';
import { stripeSql, tableSql } from './sql.ts';
import { itemsOf, writeStates } from './store.ts';

export interface CheckReport {
  resource: ObjectResource;
  /** Objects the API listed. */
  api: number;
  /** Live (not deleted) rows after the check (and the fixes). */
  database: number;
  missing: number;
  stale: number;
  extra: number;
  fixed: number;
}

export interface CheckRequest {
  resources?: Resource[];
  fix?: boolean;
  onProgress?(progress: { resource: string; checked: number; done: boolean }): void;
}

const PAGE = 100;

interface Problem {
  id: string;
  problem: 'missing' | 'stale';
}

type Listed = Exclude<ObjectResource, 'subscription_items'>;

export function createChecker(runtime: PluginRuntime<StripeConfig>, stripe: () => Stripe) {
  const db = runtime.db;
  const fetchedAt = () => Math.floor(Date.now() / 1000);

  /** Counts the objects of one page whose rows are missing or differ, and returns those objects. */
  async function comparePage(
    table: ObjectResource,
    objects: StripeObject[],
    report: CheckReport,
  ): Promise<StripeObject[]> {
    if (objects.length === 0) return [];
    const { rows } = await db.query<Problem>(tableSql('check-page', table), [JSON.stringify(objects)]);
    for (const row of rows) report[row.problem] += 1;
    const wrong = new Set(rows.map((row) => row.id));
    return objects.filter((object) => wrong.has(object.id));
  }

  /**
   * Rewrites rows from the API's objects. A row that meanwhile got a newer state (a webhook
   * during the check) keeps it: it is no longer behind, so it counts as settled too.
   */
  async function rewrite(objects: StripeObject[], reports: CheckReport[]) {
    if (objects.length === 0) return;
    const at = fetchedAt();
    await writeStates(
      db,
      objects.map((object) => ({ object, deleted: false, stripeAt: at, eventId: null })),
    );
    for (const report of reports)
      report.fixed += objects.filter((object) => TABLE_OF_OBJECT[object.object] === report.resource).length;
  }

  /** Looks up rows the API did not list: gone objects are marked deleted, live ones rewritten. */
  async function settleExtras(table: ObjectResource, ids: string[], report: CheckReport) {
    const gone: string[] = [];
    const found: StripeObject[] = [];
    for (const id of ids) {
      try {
        const object = await API[table].retrieve(stripe(), id);
        if (object.deleted === true) gone.push(id);
        else found.push(object);
      } catch (error) {
        if ((error as { code?: string }).code !== 'resource_missing') throw error;
        gone.push(id);
      }
    }
    if (gone.length > 0) {
      await db.query(tableSql('mark-deleted', table), [gone]);
      report.fixed += gone.length;
    }
    await rewrite(found, [report]);
  }

  const emptyReport = (resource: ObjectResource): CheckReport => ({
    resource,
    api: 0,
    database: 0,
    missing: 0,
    stale: 0,
    extra: 0,
    fixed: 0,
  });

  async function checkResource(resource: Listed, request: CheckRequest): Promise<CheckReport[]> {
    const fix = request.fix ?? false;
    const report = emptyReport(resource);
    const items = resource === 'subscriptions' ? emptyReport('subscription_items') : undefined;
    const seen: string[] = [];
    const seenItems: string[] = [];
    const completeSubscriptions: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await API[resource].list(stripe(), { limit: PAGE, ...(after ? { starting_after: after } : {}) });
      const wrong = await comparePage(resource, page.data, report);
      for (const object of page.data) seen.push(object.id);
      if (items) {
        const pageItems: StripeObject[] = [];
        for (const subscription of page.data) {
          const list = itemsOf(subscription);
          if (!list) continue;
          pageItems.push(...list.data);
          if (list.complete) completeSubscriptions.push(subscription.id);
        }
        // Compared before any fix: rewriting a subscription rewrites its items too.
        wrong.push(...(await comparePage('subscription_items', pageItems, items)));
        seenItems.push(...pageItems.map((item) => item.id));
      }
      if (fix) await rewrite(wrong, items ? [report, items] : [report]);
      request.onProgress?.({ resource, checked: seen.length, done: !page.has_more });
      after = page.data.at(-1)?.id;
      if (!page.has_more || !after) break;
    }
    report.api = seen.length;

    const extras = (await db.query<{ id: string }>(tableSql('check-extra', resource), [seen])).rows.map(
      (row) => row.id,
    );
    report.extra = extras.length;
    if (fix && extras.length > 0) await settleExtras(resource, extras, report);
    report.database = (await db.query<{ live: number }>(tableSql('check-count', resource))).rows[0]!.live;
    if (!items) return [report];

    items.api = seenItems.length;
    const extraItems = (
      await db.query<{ id: string }>(stripeSql('check-extra-items'), [completeSubscriptions, seenItems])
    ).rows.map((row) => row.id);
    items.extra = extraItems.length;
    if (fix && extraItems.length > 0) await settleExtras('subscription_items', extraItems, items);
    items.database = (await db.query<{ live: number }>(tableSql('check-count', 'subscription_items'))).rows[0]!.live;
    return [report, items];
  }

  async function check(request: CheckRequest = {}): Promise<CheckReport[]> {
    const wanted = request.resources?.length ? request.resources : LISTED_RESOURCES;
    // Items are listed inside their subscriptions.
    const resources = LISTED_RESOURCES.filter(
      (r) => wanted.includes(r) || (r === 'subscriptions' && wanted.includes('subscription_items')),
    );
    const reports: CheckReport[] = [];
    for (const resource of resources) reports.push(...(await checkResource(resource, request)));
    return reports;
  }

  return { check };
}

export type Checker = ReturnType<typeof createChecker>;

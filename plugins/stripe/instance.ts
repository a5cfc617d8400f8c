import type Stripe from 'stripe';
import {
  type Checker,
  createChecker,
  createSyncer,
  createSyncStore,
  PlanCache,
  type PluginRuntime,
  type SyncStore,
  type Syncer,
  type SyncTables,
  type SyncViews,
} from '../../gateway/sdk.ts';
import { createStripeClient } from './client.ts';
import type { StripeConfig } from './config.ts';
import { stripeSyncTables } from './resources.ts';
import { stripeCatchUp } from './sync.ts';
import { stripeViews } from './views.ts';

/** The Stripe plugin's instance: one SDK client, and the sync core's parts over Stripe's tables. */
export interface StripeInstance {
  /** The SDK client, made (and the SDK loaded) on first use. */
  client(): Promise<Stripe>;
  tables: SyncTables;
  store: SyncStore;
  syncer: Syncer;
  checker: Checker;
  /** How the synced tables appear in GraphQL. */
  views: SyncViews;
  /** Query plans, statement texts and prepared-statement names of the GraphQL views. */
  plans: PlanCache;
  /** The periodic incremental sync (set by start when STRIPE_SYNC_INTERVAL is above 0, cleared by stop). */
  timer: NodeJS.Timeout | null;
}

/** A listed object's state is as of when the API returned it (whole seconds, like event times). */
const versionOf = (_object: unknown, fetchedAt: number) => fetchedAt;

export function setupStripe(runtime: PluginRuntime<StripeConfig>): StripeInstance {
  let stripe: Promise<Stripe> | undefined;
  const client = () => (stripe ??= createStripeClient(runtime.config));
  const tables = stripeSyncTables(client);
  const store = createSyncStore(tables);
  const views = stripeViews(() => runtime.config.readRoles);
  const { db, pubsub } = runtime;
  return {
    client,
    tables,
    store,
    syncer: createSyncer({
      plugin: runtime.name,
      db,
      pubsub,
      tables,
      store,
      versionOf,
      catchUp: stripeCatchUp(runtime, client),
    }),
    checker: createChecker({ db, tables, store, versionOf }),
    views,
    plans: new PlanCache(views),
    timer: null,
  };
}

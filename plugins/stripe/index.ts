import type Stripe from 'stripe';
import { definePlugin, type PluginRuntime } from '../../gateway/plugin.ts';
import { createChecker, type Checker } from './check.ts';
import { addStripeCommands } from './cli.ts';
import { createStripeClient } from './client.ts';
import { stripeConfig, type StripeConfig } from './config.ts';
import manifest from './plugin.json' with { type: 'json' };
import { addStripeObjectSchema } from './object-schema.ts';
import { addStripeSchema } from './schema.ts';
import { createSyncer, type Syncer } from './sync.ts';
import { stripeReceiver } from './webhooks.ts';

const clients = new WeakMap<StripeConfig, Stripe>();
/** One SDK client per configuration, made on first use. */
const clientFor = (config: StripeConfig) => {
  let client = clients.get(config);
  if (!client) clients.set(config, (client = createStripeClient(config)));
  return client;
};

const syncers = new WeakMap<PluginRuntime<StripeConfig>, Syncer>();
const syncerFor = (runtime: PluginRuntime<StripeConfig>) => {
  let syncer = syncers.get(runtime);
  if (!syncer) syncers.set(runtime, (syncer = createSyncer(runtime, () => clientFor(runtime.config))));
  return syncer;
};

const checkers = new WeakMap<PluginRuntime<StripeConfig>, Checker>();
const checkerFor = (runtime: PluginRuntime<StripeConfig>) => {
  let checker = checkers.get(runtime);
  if (!checker) checkers.set(runtime, (checker = createChecker(runtime, () => clientFor(runtime.config))));
  return checker;
};

const timers = new WeakMap<PluginRuntime<StripeConfig>, NodeJS.Timeout>();

export default definePlugin<StripeConfig>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  config: stripeConfig,
  hasuraActions: { syncStripe: { kind: 'asynchronous', roles: [] } },
  hasuraTables: ['customers', 'subscriptions', 'subscription_items', 'invoices', 'payment_intents', 'charges', 'refunds', 'disputes', 'payouts', 'products', 'prices'],
  webhooks: (runtime) => stripeReceiver(runtime, () => clientFor(runtime.config)),
  schema: (builder, runtime) => {
    addStripeSchema(builder, runtime, () => syncerFor(runtime));
    addStripeObjectSchema(builder, runtime);
  },
  commands: (command, open) => addStripeCommands(command, open, { syncer: syncerFor, checker: checkerFor, client: (runtime) => clientFor(runtime.config) }),
  start(runtime) {
    const minutes = runtime.config.syncInterval;
    if (minutes === 0) return;
    // The periodic incremental sync; a failure is logged and the next interval tries again.
    const timer = setInterval(() => {
      syncerFor(runtime).run().catch((error: unknown) => runtime.log.error({ err: error }, 'periodic stripe sync failed'));
    }, minutes * 60_000);
    timer.unref();
    timers.set(runtime, timer);
  },
  stop(runtime) {
    clearInterval(timers.get(runtime));
  },
});

import type Stripe from 'stripe';
import type { PluginRuntime } from '../../gateway/sdk.ts';
import { createChecker, type Checker } from './check.ts';
import { createStripeClient } from './client.ts';
import type { StripeConfig } from './config.ts';
import { createSyncer, type Syncer } from './sync.ts';

/** The Stripe plugin's instance: one SDK client, the syncer, the checker, the periodic sync's timer. */
export interface StripeInstance {
  /** The SDK client, made on first use. */
  client(): Stripe;
  syncer: Syncer;
  checker: Checker;
  /** The periodic incremental sync (set by start when STRIPE_SYNC_INTERVAL is above 0, cleared by stop). */
  timer: NodeJS.Timeout | null;
}

export function setupStripe(runtime: PluginRuntime<StripeConfig>): StripeInstance {
  let stripe: Stripe | undefined;
  const client = () => (stripe ??= createStripeClient(runtime.config));
  return { client, syncer: createSyncer(runtime, client), checker: createChecker(runtime, client), timer: null };
}

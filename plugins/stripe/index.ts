import type Stripe from 'stripe';
import { definePlugin } from '../../gateway/plugin.ts';
import { createStripeClient } from './client.ts';
import { stripeConfig, type StripeConfig } from './config.ts';
import manifest from './plugin.json' with { type: 'json' };
import { stripeReceiver } from './webhooks.ts';

const clients = new WeakMap<StripeConfig, Stripe>();
/** One SDK client per configuration, made on first use. */
const clientFor = (config: StripeConfig) => {
  let client = clients.get(config);
  if (!client) clients.set(config, (client = createStripeClient(config)));
  return client;
};

export default definePlugin<StripeConfig>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  config: stripeConfig,
  webhooks: (runtime) => stripeReceiver(runtime, () => clientFor(runtime.config)),
});

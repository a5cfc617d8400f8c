import type Stripe from 'stripe';
import type { StripeConfig } from './config.ts';

/**
 * The real Stripe SDK, pointed at STRIPE_API_BASE_URL; it retries 429s and network errors with backoff.
 * The SDK (a couple of hundred modules) loads here, so CLI commands that never call Stripe start without it.
 */
export async function createStripeClient(config: StripeConfig): Promise<Stripe> {
  const { default: Stripe } = await import('stripe');
  const base = config.apiBaseUrl;
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(config.apiKey, {
    host: base.hostname,
    port: base.port || (protocol === 'https' ? 443 : 80),
    protocol,
    ...(config.apiVersion ? { apiVersion: config.apiVersion as Stripe.LatestApiVersion } : {}),
    maxNetworkRetries: 5,
    timeout: 30_000,
    telemetry: false,
    appInfo: { name: 'plugboard-stripe' },
  });
}

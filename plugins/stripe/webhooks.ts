/**
 * Stripe webhooks: verified with the SDK (`webhooks.constructEvent`: HMAC-SHA256 over
 * "<timestamp>.<body>", constant-time compare, timestamp tolerance), applied with applyEvents.
 */
import type Stripe from 'stripe';
import { type PluginRuntime, type WebhookReceiver, WebhookVerificationError } from '../../gateway/sdk.ts';
import { applyEvents, type Refetch } from './apply.ts';
import type { StripeConfig } from './config.ts';
import { API } from './resources.ts';

export function stripeReceiver(runtime: PluginRuntime<StripeConfig>, stripe: () => Stripe): WebhookReceiver {
  const { config } = runtime;
  const refetch: Refetch = async (table, id) => {
    try {
      return await API[table].retrieve(stripe(), id);
    } catch (error) {
      if ((error as { code?: string }).code === 'resource_missing') return null;
      throw error;
    }
  };
  return {
    path: config.webhookPath,
    maxAttempts: config.webhookMaxAttempts,
    verify(body, headers) {
      const signature = headers['stripe-signature'];
      if (typeof signature !== 'string' || signature === '')
        throw new WebhookVerificationError('Missing Stripe-Signature header');
      let event: Stripe.Event;
      try {
        event = stripe().webhooks.constructEvent(body, signature, config.webhookSecret, config.webhookTolerance);
      } catch (error) {
        if (error instanceof SyntaxError) throw error;
        throw new WebhookVerificationError(`Invalid Stripe signature: ${(error as Error).message}`);
      }
      if (typeof event?.id !== 'string' || typeof event.type !== 'string') throw new SyntaxError('Not a Stripe event');
      return { id: event.id, type: event.type, payload: event, json: body.toString('utf8') };
    },
    apply: (events, client) => applyEvents(client, events, refetch),
  };
}

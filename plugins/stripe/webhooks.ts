/**
 * Stripe webhooks: verified with the SDK (`webhooks.constructEvent`: HMAC-SHA256 over
 * "<timestamp>.<body>", constant-time compare, timestamp tolerance), applied with applyEvents.
 */
import type Stripe from 'stripe';
import { type PluginRuntime, type WebhookReceiver, WebhookVerificationError } from '../../gateway/sdk.ts';
import { applyEvents, objectOf, type Fetched, type StripeEvent } from './apply.ts';
import type { StripeConfig } from './config.ts';
import type { StripeInstance } from './instance.ts';
import { API } from './resources.ts';

export function stripeReceiver(runtime: PluginRuntime<StripeConfig>, instance: () => StripeInstance): WebhookReceiver {
  const { config } = runtime;
  const stripe = () => instance().client();
  return {
    path: config.webhookPath,
    maxAttempts: config.webhookMaxAttempts,
    async verify(body, headers) {
      const signature = headers['stripe-signature'];
      if (typeof signature !== 'string' || signature === '')
        throw new WebhookVerificationError('Missing Stripe-Signature header');
      const { webhooks } = await stripe();
      let event: Stripe.Event;
      try {
        event = webhooks.constructEvent(body, signature, config.webhookSecret, config.webhookTolerance);
      } catch (error) {
        if (error instanceof SyntaxError) throw error;
        throw new WebhookVerificationError(`Invalid Stripe signature: ${(error as Error).message}`);
      }
      if (typeof event?.id !== 'string' || typeof event.type !== 'string') throw new SyntaxError('Not a Stripe event');
      return { id: event.id, type: event.type, payload: event, body };
    },
    apply: (events, client, fetched) => applyEvents(instance().store, client, events, fetched),
    // Only for events whose same-second ties the events cannot settle (see apply.ts).
    async fetchCurrent(event): Promise<Fetched> {
      const { table, id } = objectOf(event.payload as StripeEvent)!;
      const askedAt = Math.floor(Date.now() / 1000);
      try {
        return { object: await API[table].retrieve(await stripe(), id), askedAt };
      } catch (error) {
        if ((error as { code?: string }).code === 'resource_missing') return { object: null, askedAt };
        throw error;
      }
    },
  };
}

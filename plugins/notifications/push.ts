/**
 * Web Push with VAPID through the `web-push` library (payload encrypted per RFC 8291), only to
 * the push services of NOTIFICATIONS_PUSH_ALLOWED_HOSTS, through an agent that checks each
 * connection's address (push-endpoints.ts).
 */
import type { NotificationsConfig } from './config.ts';
import { DeliveryError, type Provider } from './providers.ts';
import { PushAgent, PushEndpointError } from './push-endpoints.ts';

/** A push service that does not answer within this is a provider failure (retried). */
const PUSH_TIMEOUT_MS = 10_000;

export function webPushProvider(
  push: NonNullable<NotificationsConfig['push']>,
  endpoints: NotificationsConfig['pushEndpoints'],
): Provider<'PUSH'> {
  const { publicKey, privateKey, subject } = push.vapid;
  const agent = new PushAgent(endpoints.allowed);
  return {
    name: 'webpush',
    channel: 'PUSH',
    async send(to, message) {
      const payload = JSON.stringify({
        id: message.id,
        title: message.subject,
        body: message.body,
        category: message.category,
      });
      // web-push loads with the first message (the module cache makes later imports immediate).
      const { default: webpush } = await import('web-push');
      try {
        const sent = await webpush.sendNotification({ endpoint: to.endpoint, keys: to.keys }, payload, {
          vapidDetails: { subject, publicKey, privateKey },
          TTL: 24 * 60 * 60,
          agent,
          timeout: PUSH_TIMEOUT_MS,
        });
        return sent.headers['location'] ?? null;
      } catch (error) {
        // Not an allowed push service (any more): the subscription's problem, not the provider's.
        if (error instanceof PushEndpointError)
          throw new DeliveryError(`push endpoint refused: ${error.message}`, 'recipient', { cause: error });
        if (error instanceof webpush.WebPushError) {
          // 404/410: the subscription is gone (the browser unsubscribed); 413: payload too large.
          if (error.statusCode === 404 || error.statusCode === 410) throw new PushGoneError(to.id, error);
          if (error.statusCode === 413 || error.statusCode === 400)
            throw new DeliveryError(
              `push service refused the message (${error.statusCode}): ${error.body}`,
              'recipient',
              { cause: error },
            );
          throw new DeliveryError(`push service answered ${error.statusCode}: ${error.body}`, 'provider', {
            cause: error,
          });
        }
        throw new DeliveryError(`push service unreachable: ${(error as Error).message}`, 'provider', { cause: error });
      }
    },
    async close() {
      agent.destroy();
    },
  };
}

/** The push service says the subscription no longer exists: forget it. */
export class PushGoneError extends DeliveryError {
  readonly subscriptionId: string;
  constructor(subscriptionId: string, cause: unknown) {
    super(`push subscription ${subscriptionId} is gone`, 'recipient', { cause });
    this.subscriptionId = subscriptionId;
  }
}

/** Web Push with VAPID through the `web-push` library (payload encrypted per RFC 8291). */
import webpush from 'web-push';
import type { NotificationsConfig } from './config.ts';
import { DeliveryError, type Provider } from './providers.ts';

export function webPushProvider(push: NonNullable<NotificationsConfig['push']>): Provider<'PUSH'> {
  const { publicKey, privateKey, subject } = push.vapid;
  return {
    name: 'webpush',
    channel: 'PUSH',
    async send(to, message) {
      const payload = JSON.stringify({ id: message.id, title: message.subject, body: message.body, category: message.category });
      try {
        const sent = await webpush.sendNotification({ endpoint: to.endpoint, keys: to.keys }, payload, {
          vapidDetails: { subject, publicKey, privateKey },
          TTL: 24 * 60 * 60,
        });
        return sent.headers['location'] ?? null;
      } catch (error) {
        if (error instanceof webpush.WebPushError) {
          // 404/410: the subscription is gone (the browser unsubscribed); 413: payload too large.
          if (error.statusCode === 404 || error.statusCode === 410) throw new PushGoneError(to.id, error);
          if (error.statusCode === 413 || error.statusCode === 400) throw new DeliveryError(`push service refused the message (${error.statusCode}): ${error.body}`, 'recipient', { cause: error });
          throw new DeliveryError(`push service answered ${error.statusCode}: ${error.body}`, 'provider', { cause: error });
        }
        throw new DeliveryError(`push service unreachable: ${(error as Error).message}`, 'provider', { cause: error });
      }
    },
    async close() {},
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

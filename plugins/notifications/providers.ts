/**
 * Providers: what actually sends. Each channel has providers in failover order; a provider
 * failure (connection refused, 4xx from SMTP, 429/5xx from an API, bad credentials) moves on to
 * the next one, and when every one fails the attempt is retried later with backoff. A recipient
 * failure (mailbox unknown, invalid number, push subscription gone) is final for that
 * notification: another provider would get the same answer.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RedisClient } from '../../gateway/sdk.ts';
import type { Channel } from './config.ts';

export interface Message {
  /** The notification's id (carried to providers that take a reference). */
  id: string;
  subject: string | null;
  body: string;
  html: string | null;
  category: string;
}

export interface PushTarget {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** Where each channel's messages go: an email address, an E.164 number, a push subscription. */
export interface Targets {
  EMAIL: string;
  SMS: string;
  PUSH: PushTarget;
}

export type ProviderChannel = Exclude<Channel, 'IN_APP'>;

export interface Provider<C extends ProviderChannel = ProviderChannel> {
  readonly name: string;
  readonly channel: C;
  /** Sends one message; resolves with the provider's message id. Throws DeliveryError. */
  send(to: Targets[C], message: Message): Promise<string | null>;
  close(): Promise<void>;
}

export class DeliveryError extends Error {
  /** `recipient`: final for this notification. `provider`: try the next provider, or later. */
  readonly blame: 'recipient' | 'provider';
  constructor(message: string, blame: 'recipient' | 'provider', options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeliveryError';
    this.blame = blame;
  }
}

/**
 * Holds a provider to `perSecond` sends (0: no limit), across every process sharing Redis, or per
 * process without it. A send over the limit waits for its turn rather than failing.
 */
export function rateLimited<C extends ProviderChannel>(
  provider: Provider<C>,
  perSecond: number,
  redis: RedisClient | null,
): Provider<C> {
  if (perSecond <= 0) return provider;
  const limiter: RateLimiterAbstract = redis
    ? new RateLimiterRedis({
        // One key per provider, its script takes only that key: fine on a Redis Cluster.
        storeClient: redis,
        keyPrefix: 'plugboard:notifications:rate',
        points: perSecond,
        duration: 1,
      })
    : new RateLimiterMemory({ points: perSecond, duration: 1 });
  return {
    name: provider.name,
    channel: provider.channel,
    async send(to, message) {
      for (;;) {
        try {
          await limiter.consume(provider.name);
          break;
        } catch (error) {
          if (!(error instanceof RateLimiterRes))
            throw new DeliveryError(`rate limiter unavailable: ${String(error)}`, 'provider', { cause: error });
          await new Promise((resolve) => setTimeout(resolve, error.msBeforeNext));
        }
      }
      return provider.send(to, message);
    },
    close: () => provider.close(),
  };
}

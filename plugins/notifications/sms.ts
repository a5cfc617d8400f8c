/** SMS through the official `twilio` SDK (Programmable Messaging), loaded with the first message. */
import type { Twilio } from 'twilio';
import type TwilioRequestClient from 'twilio/lib/base/RequestClient.js';
import type { NotificationsConfig } from './config.ts';
import { DeliveryError, type Provider } from './providers.ts';

const TWILIO_API = 'https://api.twilio.com';

async function twilioClient(sms: NonNullable<NotificationsConfig['sms']>): Promise<Twilio> {
  const { default: twilio } = await import('twilio');
  /**
   * The SDK's own HTTP client, sending to NOTIFICATIONS_TWILIO_API_URL instead of api.twilio.com
   * (a proxy, or a local stand-in in tests). The SDK has no base-URL option; its requests go
   * through `httpClient.request`, so only the origin is swapped there.
   */
  class OriginRequestClient extends twilio.RequestClient {
    private readonly origin: URL;
    constructor(origin: string) {
      super();
      this.origin = new URL(origin);
    }
    override request<TData>(options: TwilioRequestClient.RequestOptions<TData>) {
      const uri = new URL(options.uri);
      uri.protocol = this.origin.protocol;
      uri.host = this.origin.host;
      return super.request({ ...options, uri: uri.href });
    }
  }
  return twilio(sms.accountSid, sms.authToken, {
    ...(sms.apiUrl.replace(/\/+$/, '') !== TWILIO_API ? { httpClient: new OriginRequestClient(sms.apiUrl) } : {}),
  });
}

interface TwilioRestError extends Error {
  status?: number;
  code?: number;
}

export function twilioProvider(sms: NonNullable<NotificationsConfig['sms']>): Provider<'SMS'> {
  let client: Promise<Twilio> | undefined;
  const sender = sms.from.startsWith('MG') ? { messagingServiceSid: sms.from } : { from: sms.from };
  return {
    name: 'twilio',
    channel: 'SMS',
    async send(to, message) {
      client ??= twilioClient(sms);
      const { messages } = await client;
      try {
        const sent = await messages.create({
          to,
          body: message.subject ? `${message.subject}\n${message.body}` : message.body,
          ...sender,
        });
        return sent.sid;
      } catch (error) {
        const rest = error as TwilioRestError;
        // 4xx other than 401/403/429 are about this message (invalid or unsubscribed number, …).
        if (
          rest.status !== undefined &&
          rest.status >= 400 &&
          rest.status < 500 &&
          ![401, 403, 429].includes(rest.status)
        ) {
          throw new DeliveryError(
            `Twilio refused the message (${rest.code ?? rest.status}): ${rest.message}`,
            'recipient',
            { cause: error },
          );
        }
        throw new DeliveryError(`Twilio: ${rest.message}`, 'provider', { cause: error });
      }
    },
    async close() {},
  };
}

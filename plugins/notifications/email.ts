/** Email through nodemailer's pooled SMTP transport: one pool of connections per provider, made with the first message. */
import type { Transporter } from 'nodemailer';
import type { NotificationsConfig, SmtpProviderConfig } from './config.ts';
import { withSpan } from '../../gateway/sdk.ts';
import { DeliveryError, type Provider } from './providers.ts';

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
}

/** smtp://user:pass@host:port (smtps:// for TLS from the first byte) as nodemailer's options. */
function fromUrl(url: string): Exclude<SmtpProviderConfig['transport'], string> {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'smtps:';
  const user = decodeURIComponent(parsed.username);
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    ...(user ? { auth: { user, pass: decodeURIComponent(parsed.password) } } : {}),
  };
}

export function smtpProvider(
  config: SmtpProviderConfig,
  email: NonNullable<NotificationsConfig['email']>,
): Provider<'EMAIL'> {
  const server = typeof config.transport === 'string' ? fromUrl(config.transport) : config.transport;
  let transport: Promise<Transporter> | undefined;
  const transportOf = () =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({ ...server, pool: true, maxConnections: email.poolSize, maxMessages: Infinity }),
    ));
  return {
    name: config.name,
    channel: 'EMAIL',
    async send(to, message) {
      const smtp = await transportOf();
      try {
        // SMTP is no HTTP, so no instrumentation sees it: the span names the server, never the message.
        const info = await withSpan(
          'smtp send',
          { 'server.address': server.host, 'server.port': server.port, 'plugboard.provider': config.name },
          () =>
            smtp.sendMail({
              from: email.from,
              to,
              subject: message.subject ?? '',
              text: message.body,
              ...(message.html ? { html: message.html } : {}),
              headers: { 'X-Plugboard-Notification': message.id },
            }),
          { outbound: true },
        );
        return info.messageId;
      } catch (error) {
        const smtp = error as SmtpError;
        // A 5xx refusal of the recipient is about the address; anything else is the server's.
        if (smtp.code === 'EENVELOPE' && (smtp.responseCode ?? 0) >= 500) {
          throw new DeliveryError(`${config.name} refused the recipient: ${smtp.message}`, 'recipient', {
            cause: error,
          });
        }
        throw new DeliveryError(`${config.name}: ${smtp.message}`, 'provider', { cause: error });
      }
    },
    async close() {
      (await transport)?.close();
    },
  };
}

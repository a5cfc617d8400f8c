/**
 * An SMTP server (the `smtp-server` library) that keeps what it receives, parsed by mailparser:
 *
 *   const sink = await startMailSink({ user: 'u', pass: 'p' });
 *   // NOTIFICATIONS_SMTP_URL = sink.url; … later: await sink.waitFor(3)
 *
 * `failNext(n, code)` answers the next n RCPT TO commands with that code (451: try later, 550:
 * no such mailbox), as a real server would; `connections` counts SMTP sessions (pooling).
 */
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  headers: Map<string, unknown>;
}

export interface MailSink {
  url: string;
  port: number;
  messages: ReceivedMail[];
  /** SMTP sessions opened so far. */
  connections(): number;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  failNext(count: number, code: number, message?: string): void;
  close(): Promise<void>;
}

export async function startMailSink(options: { user?: string; pass?: string } = {}): Promise<MailSink> {
  const messages: ReceivedMail[] = [];
  let sessions = 0;
  let failures: { left: number; code: number; message: string } = { left: 0, code: 0, message: '' };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: !options.user,
    logger: false,
    onConnect(_session, callback) {
      sessions++;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.pass)
        return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(_address, _session, callback) {
      if (failures.left > 0) {
        failures.left--;
        return callback(Object.assign(new Error(failures.message), { responseCode: failures.code }));
      }
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            html: typeof mail.html === 'string' ? mail.html : null,
            headers: mail.headers,
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  server.on('error', () => {}); // a client dropping mid-session is not the sink's failure
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const auth = options.user ? `${encodeURIComponent(options.user)}:${encodeURIComponent(options.pass ?? '')}@` : '';
  return {
    url: `smtp://${auth}127.0.0.1:${port}`,
    port,
    messages,
    connections: () => sessions,
    waitFor(count, timeoutMs = 10_000) {
      return vi.waitFor(
        () => {
          if (messages.length < count)
            throw new Error(`mail sink: ${messages.length} of ${count} messages after ${timeoutMs} ms`);
          return messages.slice(0, count);
        },
        { timeout: timeoutMs, interval: 20 },
      );
    },
    failNext(count, code, message = code >= 500 ? 'Mailbox unavailable' : 'Try again later') {
      failures = { left: count, code, message };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

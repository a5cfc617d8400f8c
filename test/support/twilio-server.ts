/**
 * A stand-in for api.twilio.com's Messages API, for the real `twilio` SDK (the plugin points it
 * here with NOTIFICATIONS_TWILIO_API_URL):
 *
 *   const twilio = await startTwilioServer();
 *   // NOTIFICATIONS_SMS_ACCOUNT_SID = twilio.accountSid, _AUTH_TOKEN = twilio.authToken, _TWILIO_API_URL = twilio.url
 *
 * POST /2010-04-01/Accounts/{Sid}/Messages.json takes form-encoded To, From (or
 * MessagingServiceSid) and Body with HTTP Basic auth, and answers 201 with Twilio's message
 * resource; errors are Twilio's JSON ({code, message, more_info, status}): 401 (20003) for bad
 * credentials, 400 (21211) for a To that is not E.164. `failNext` injects errors such as 429
 * (20429) or 500.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';

export interface TwilioMessage {
  sid: string;
  to: string;
  from: string | null;
  messaging_service_sid: string | null;
  body: string;
  status: string;
}

export interface TwilioServer {
  url: string;
  accountSid: string;
  authToken: string;
  messages: TwilioMessage[];
  waitFor(count: number, timeoutMs?: number): Promise<TwilioMessage[]>;
  failNext(count: number, error: { status: number; code: number; message: string }): void;
  close(): Promise<void>;
}

function twilioError(response: ServerResponse, status: number, code: number, message: string): void {
  response
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
}

export async function startTwilioServer(): Promise<TwilioServer> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const messages: TwilioMessage[] = [];
  let injected = { left: 0, status: 0, code: 0, message: '' };

  const server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const [user, pass] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':');
      if (user !== accountSid || pass !== authToken) return twilioError(response, 401, 20003, 'Authenticate');
      const path = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages(?:\/(SM[0-9a-f]{32}))?\.json$/.exec(
        (request.url ?? '').split('?')[0]!,
      );
      if (!path || path[1] !== accountSid)
        return twilioError(response, 404, 20404, `The requested resource ${request.url} was not found`);
      if (request.method === 'GET' && path[2]) {
        const found = messages.find((m) => m.sid === path[2]);
        return found
          ? response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(resource(found)))
          : twilioError(response, 404, 20404, 'not found');
      }
      if (request.method !== 'POST' || path[2]) return twilioError(response, 405, 20004, 'Method not allowed');
      if (injected.left > 0) {
        injected.left--;
        return twilioError(response, injected.status, injected.code, injected.message);
      }
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      const to = form.get('To') ?? '';
      if (!/^\+[1-9]\d{6,14}$/.test(to))
        return twilioError(response, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
      if (!form.get('From') && !form.get('MessagingServiceSid'))
        return twilioError(response, 400, 21603, "A 'From' phone number is required.");
      const body = form.get('Body') ?? '';
      if (body === '') return twilioError(response, 400, 21602, 'Message body is required.');
      const message: TwilioMessage = {
        sid: `SM${randomBytes(16).toString('hex')}`,
        to,
        from: form.get('From'),
        messaging_service_sid: form.get('MessagingServiceSid'),
        body,
        status: 'queued',
      };
      messages.push(message);
      response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(resource(message)));
    })().catch((error: unknown) => twilioError(response, 500, 20500, String(error)));
  });

  // The message resource as Twilio returns it (the fields the SDK maps).
  const resource = (m: TwilioMessage) => {
    const now = new Date().toUTCString().replace('GMT', '+0000');
    return {
      sid: m.sid,
      account_sid: accountSid,
      to: m.to,
      from: m.from,
      messaging_service_sid: m.messaging_service_sid,
      body: m.body,
      status: m.status,
      num_segments: String(Math.max(1, Math.ceil(m.body.length / 160))),
      num_media: '0',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      price: null,
      price_unit: 'USD',
      error_code: null,
      error_message: null,
      date_created: now,
      date_updated: now,
      date_sent: null,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${m.sid}.json`,
      subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${m.sid}/Media.json` },
    };
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accountSid,
    authToken,
    messages,
    waitFor(count, timeoutMs = 10_000) {
      return vi.waitFor(
        () => {
          if (messages.length < count)
            throw new Error(`twilio: ${messages.length} of ${count} messages after ${timeoutMs} ms`);
          return messages.slice(0, count);
        },
        { timeout: timeoutMs, interval: 20 },
      );
    },
    failNext(count, error) {
      injected = { left: count, ...error };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A Web Push service (RFC 8030) stand-in that checks what a real one checks and decrypts what
 * it receives:
 *
 *   const push = await startWebPushService();
 *   const { subscription } = push.subscribe();   // what a browser's PushManager would hand out
 *   … web-push sends to subscription.endpoint …
 *   (await push.waitFor(1))[0].payload          // the decrypted plaintext
 *
 * Each POST must carry VAPID (RFC 8292: `Authorization: vapid t=<ES256 JWT>, k=<public key>`,
 * the JWT verified with that key by jose, `aud` = this origin, `exp` within 24 h, `sub` mailto:
 * or https:), a `TTL` header and an `aes128gcm` body (RFC 8291), decrypted with the
 * subscription's private key and auth secret by `http_ece`, the library web-push encrypts with.
 * `respondNext(n, status)` injects failures (429, 500, …); `gone(id)` makes a subscription 410.
 * `connections` counts TCP connections accepted, so a test can see that nothing connected at all.
 *
 * web-push speaks only HTTPS, so the service has a self-signed certificate for 127.0.0.1, made at
 * start by `selfsigned`; `trust()` adds it to this process's default CAs (tls.setDefaultCACertificates)
 * so the unchanged production code accepts it.
 */
import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import type { AddressInfo } from 'node:net';
import ece from 'http_ece';
import { importJWK, type JWTPayload, jwtVerify } from 'jose';
import { generate } from 'selfsigned';
import { vi } from 'vitest';

export interface PushDelivery {
  id: string;
  payload: string;
  ttl: number;
  vapidSubject: string;
  vapidPublicKey: string;
}

export interface WebPushService {
  origin: string;
  subscribe(): { id: string; subscription: { endpoint: string; keys: { p256dh: string; auth: string } } };
  received: PushDelivery[];
  /** TCP connections accepted so far (before TLS, so refused handshakes count too). */
  readonly connections: number;
  /** Requests refused so far, with the status sent back. */
  refused: { id: string; status: number; reason: string }[];
  waitFor(count: number, timeoutMs?: number): Promise<PushDelivery[]>;
  respondNext(count: number, status: number): void;
  gone(id: string): void;
  /** Makes this process's TLS clients trust the service's certificate. */
  trust(): void;
  close(): Promise<void>;
}

const b64url = (buffer: Buffer) => buffer.toString('base64url');

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startWebPushService(): Promise<WebPushService> {
  const subscriptions = new Map<string, { ecdh: ReturnType<typeof createECDH>; auth: Buffer; gone: boolean }>();
  const received: PushDelivery[] = [];
  const refused: WebPushService['refused'] = [];
  let injected = { left: 0, status: 0 };
  let origin = '';

  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const server = createServer({ key: pems.private, cert: pems.cert }, (request, response) => {
    const id = /^\/push\/([\w-]+)$/.exec(request.url ?? '')?.[1];
    const refuse = (status: number, reason: string) => {
      refused.push({ id: id ?? '', status, reason });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(reason);
    };
    void (async () => {
      const raw = await body(request);
      if (request.method !== 'POST' || !id) return refuse(404, 'no such endpoint');
      const subscription = subscriptions.get(id);
      if (!subscription) return refuse(404, 'no such subscription');
      if (subscription.gone) return refuse(410, 'subscription expired');
      if (injected.left > 0) {
        injected.left--;
        response.setHeader('retry-after', '1');
        return refuse(injected.status, `injected ${injected.status}`);
      }
      const vapid = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(request.headers.authorization ?? '');
      if (!vapid) return refuse(401, 'missing VAPID authorization');
      const publicKey = Buffer.from(vapid[2]!, 'base64url');
      if (publicKey.length !== 65 || publicKey[0] !== 4) return refuse(401, 'k is not an uncompressed P-256 key');
      let claims: JWTPayload;
      try {
        const key = await importJWK(
          { kty: 'EC', crv: 'P-256', x: b64url(publicKey.subarray(1, 33)), y: b64url(publicKey.subarray(33)) },
          'ES256',
        );
        ({ payload: claims } = await jwtVerify(vapid[1]!, key, { audience: origin, algorithms: ['ES256'] }));
      } catch (error) {
        return refuse(403, `VAPID token rejected: ${(error as Error).message}`);
      }
      if (typeof claims.exp !== 'number' || claims.exp > Date.now() / 1000 + 24 * 3600)
        return refuse(403, 'exp missing or more than 24 h away');
      if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub))
        return refuse(403, 'sub must be a mailto: or https: URL');
      const ttl = Number(request.headers['ttl']);
      if (request.headers['ttl'] === undefined || !Number.isInteger(ttl) || ttl < 0)
        return refuse(400, 'TTL header required');
      if (request.headers['content-encoding'] !== 'aes128gcm') return refuse(415, 'only aes128gcm is supported');
      let payload: string;
      try {
        payload = ece
          .decrypt(raw, { version: 'aes128gcm', privateKey: subscription.ecdh, authSecret: b64url(subscription.auth) })
          .toString('utf8');
      } catch (error) {
        return refuse(400, `payload does not decrypt: ${(error as Error).message}`);
      }
      received.push({ id, payload, ttl, vapidSubject: claims.sub, vapidPublicKey: vapid[2]! });
      response.writeHead(201, { location: `${origin}/message/${randomUUID()}` }).end();
    })().catch((error: unknown) => refuse(500, String(error)));
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    received,
    refused,
    get connections() {
      return connections;
    },
    subscribe() {
      const id = randomUUID();
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      subscriptions.set(id, { ecdh, auth, gone: false });
      return {
        id,
        subscription: {
          endpoint: `${origin}/push/${id}`,
          keys: { p256dh: b64url(ecdh.getPublicKey()), auth: b64url(auth) },
        },
      };
    },
    waitFor(count, timeoutMs = 10_000) {
      return vi.waitFor(
        () => {
          if (received.length < count)
            throw new Error(`push service: ${received.length} of ${count} messages after ${timeoutMs} ms`);
          return received.slice(0, count);
        },
        { timeout: timeoutMs, interval: 20 },
      );
    },
    respondNext(count, status) {
      injected = { left: count, status };
    },
    gone(id) {
      const subscription = subscriptions.get(id);
      if (subscription) subscription.gone = true;
    },
    trust() {
      setDefaultCACertificates([...getCACertificates('default'), pems.cert]);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

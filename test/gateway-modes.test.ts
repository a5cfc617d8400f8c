import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway } from './support/gateway.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import { connectWs } from './support/ws-client.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('JWKS-verified tokens', () => {
  let jwks: Server;
  let jwksUrl: string;
  const keys = generateKeyPair('RS256', { extractable: true });

  beforeAll(async () => {
    const { publicKey } = await keys;
    const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    jwks?.close();
  });

  it('accepts RS256 tokens signed by a key the JWKS serves, and refuses others', async () => {
    const gateway = await startTestGateway({
      databaseUrl: db.url,
      env: {
        PLUGBOARD_JWT_SECRET: undefined,
        PLUGBOARD_JWKS_URL: jwksUrl,
        PLUGBOARD_JWT_ISSUER: 'https://idp.test/',
        PLUGBOARD_JWT_AUDIENCE: 'plugboard',
      },
    });
    try {
      const { privateKey } = await keys;
      const { SignJWT } = await import('jose');
      const sign = (claims: { iss: string; aud: string }, key = privateKey, kid = 'key-1') =>
        new SignJWT({
          'https://hasura.io/jwt/claims': {
            'x-hasura-default-role': 'user',
            'x-hasura-allowed-roles': ['user'],
            'x-hasura-user-id': 'rs-1',
          },
        })
          .setProtectedHeader({ alg: 'RS256', kid })
          .setIssuer(claims.iss)
          .setAudience(claims.aud)
          .setExpirationTime('5m')
          .sign(key);

      const good = await gateway.gql('{ viewer { userId } }', {
        headers: { authorization: `Bearer ${await sign({ iss: 'https://idp.test/', aud: 'plugboard' })}` },
      });
      expect(good.body).toEqual({ data: { viewer: { userId: 'rs-1' } } });

      const wrongAudience = await gateway.gql('{ viewer { userId } }', {
        headers: { authorization: `Bearer ${await sign({ iss: 'https://idp.test/', aud: 'other' })}` },
      });
      expect(wrongAudience.status).toBe(401);
      expect(wrongAudience.body.errors?.[0]?.message).toBe('Token claim "aud" is invalid');

      const stranger = (await generateKeyPair('RS256')).privateKey;
      const unknownKey = await gateway.gql('{ viewer { userId } }', {
        headers: { authorization: `Bearer ${await sign({ iss: 'https://idp.test/', aud: 'plugboard' }, stranger)}` },
      });
      expect(unknownKey.status).toBe(401);

      const hs256 = await gateway.gql('{ viewer { userId } }', {
        headers: { authorization: `Bearer ${await signToken({ userId: 'x' })}` },
      });
      expect(hs256.status).toBe(401);
    } finally {
      await gateway.close();
    }
  });
});

describe('anonymous access turned off', () => {
  it('answers 401 to requests without credentials', async () => {
    const gateway = await startTestGateway({ databaseUrl: db.url, env: { PLUGBOARD_ALLOW_ANONYMOUS: 'false' } });
    try {
      const { status, body } = await gateway.gql('{ viewer { role } }');
      expect(status).toBe(401);
      expect(body.errors?.[0]).toEqual({
        message: 'Authentication required: send Authorization: Bearer <token>',
        extensions: { code: 'UNAUTHENTICATED' },
      });
      const token = await signToken({ userId: 'u' });
      expect(
        (await gateway.gql('{ viewer { role } }', { headers: { authorization: `Bearer ${token}` } })).body.data,
      ).toEqual({ viewer: { role: 'user' } });
    } finally {
      await gateway.close();
    }
  });
});

describe('production mode', () => {
  it("runs trusted documents only by default: the codegen'd client's by id; text only from admins", async () => {
    const gateway = await startTestGateway({ databaseUrl: db.url, env: { NODE_ENV: 'production' } });
    try {
      const text = await gateway.gql('{ viewer { role } }');
      expect(text.body.errors?.[0]?.extensions).toEqual({ code: 'PERSISTED_QUERY_ONLY' });
      const manifest = JSON.parse(readFileSync('client/generated/persisted-documents.json', 'utf8')) as object;
      const [documentId] = Object.entries(manifest).find(([, text]) => String(text).startsWith('query Viewer'))!;
      const token = await signToken({ userId: 'prod-user' });
      const response = await fetch(gateway.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ documentId }),
      });
      const body = (await response.json()) as { data?: { viewer?: { userId?: string } } };
      expect(body.data?.viewer?.userId).toBe('prod-user');
      const admin = await gateway.gql('{ viewer { role } }', { headers: { 'x-hasura-admin-secret': ADMIN_SECRET } });
      expect(admin.body.data).toEqual({ viewer: { role: 'admin' } });
    } finally {
      await gateway.close();
    }
  });

  it('turns off GraphiQL, introspection and field suggestions, and masks errors', async () => {
    const gateway = await startTestGateway({
      databaseUrl: db.url,
      env: { NODE_ENV: 'production', PLUGBOARD_DOCUMENTS: 'any' },
    });
    try {
      const introspection = await gateway.gql('{ __schema { queryType { name } } }');
      expect(introspection.body.errors?.[0]?.message).toMatch(/introspection/i);
      expect(introspection.body.data ?? undefined).toBeUndefined();

      const typo = await gateway.gql('{ viewr { role } }');
      expect(typo.body.errors?.[0]?.message).not.toMatch(/Did you mean/);
      // Asked again, it is answered from the validation cache: the same error, still no suggestion.
      const typoAgain = await gateway.gql('{ viewr { role } }');
      expect(typoAgain.body.errors).toEqual(typo.body.errors);
      expect(typo.body.errors).toHaveLength(1);

      const graphiql = await fetch(gateway.graphqlUrl, { headers: { accept: 'text/html' } });
      expect(await graphiql.text()).not.toMatch(/graphiql/i);

      const failing = await gateway.gql('{ echoFail }');
      expect(failing.body.errors?.[0]).toMatchObject({
        message: 'Unexpected error.',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
    } finally {
      await gateway.close();
    }
  });

  it('outside production, offers GraphiQL and suggestions; in development shows error messages', async () => {
    const gateway = await startTestGateway({ databaseUrl: db.url, env: { NODE_ENV: 'development' } });
    try {
      const graphiql = await fetch(gateway.graphqlUrl, { headers: { accept: 'text/html' } });
      expect(await graphiql.text()).toMatch(/graphiql/i);
      expect((await gateway.gql('{ viewr { role } }')).body.errors?.[0]?.message).toMatch(/Did you mean "viewer"/);
      expect((await gateway.gql('{ echoFail }')).body.errors?.[0]).toMatchObject({
        message: 'database password is hunter2',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
    } finally {
      await gateway.close();
    }
  });

  it('serves GraphiQL from the package: the page loads nothing from another origin', async () => {
    const gateway = await startTestGateway({ databaseUrl: db.url });
    try {
      const response = await fetch(gateway.graphqlUrl, { headers: { accept: 'text/html' } });
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const page = await response.text();
      // Scripts, styles, icon and editor workers are inline (a public CDN's page fetches them).
      expect(page).toContain('YogaGraphiQL.renderYogaGraphiQL');
      const external = [
        ...page.matchAll(/\b(?:src|href)\s*=\s*["']?((?:https?:)?\/\/[^"'\s>]+)/gi),
        ...page.matchAll(/url\(\s*["']?((?:https?:)?\/\/[^"')\s]+)/gi),
        ...page.matchAll(/@import\s+(?:url\()?\s*["']?((?:https?:)?\/\/[^"')\s;]+)/gi),
        ...page.matchAll(/["']((?:https?:)?\/\/[^"'\s]+\.(?:js|css|mjs))["']/gi),
      ]
        .map((match) => match[1])
        .filter((url) => new URL(url!, gateway.url).origin !== new URL(gateway.url).origin);
      expect(external).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});

describe('/metrics and /readyz checks kept from the public', () => {
  const basic = `Basic ${Buffer.from(`admin:${ADMIN_SECRET}`).toString('base64')}`;

  it('serves them on PLUGBOARD_METRICS_PORT without credentials, and to admins only on the main port', async () => {
    const gateway = await startTestGateway({ databaseUrl: db.url, env: { PLUGBOARD_METRICS_PORT: '0' } });
    try {
      expect(gateway.metricsUrl).not.toBeNull();
      expect(gateway.metricsUrl).not.toBe(gateway.url);
      const scraped = await fetch(`${gateway.metricsUrl}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('process_cpu_user_seconds_total');
      expect(await (await fetch(`${gateway.metricsUrl}/readyz`)).json()).toMatchObject({
        status: 'ok',
        checks: { postgres: { ok: true } },
      });
      expect((await fetch(`${gateway.metricsUrl}/graphql`)).status).toBe(404);

      const anonymous = await fetch(`${gateway.url}/metrics`);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
      const user = await fetch(`${gateway.url}/metrics`, {
        headers: { authorization: `Bearer ${await signToken({ userId: 'u-1' })}` },
      });
      expect(user.status).toBe(403);
      expect((await fetch(`${gateway.url}/metrics`, { headers: { authorization: basic } })).status).toBe(200);
      expect(
        (await fetch(`${gateway.url}/metrics`, { headers: { 'x-hasura-admin-secret': ADMIN_SECRET } })).status,
      ).toBe(200);

      // A load balancer still gets its answer from the status code; the checks are the admin's.
      const ready = await fetch(`${gateway.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ok' });
      expect(await (await fetch(`${gateway.url}/readyz`, { headers: { authorization: basic } })).json()).toMatchObject({
        checks: { migrations: { ok: true } },
      });
    } finally {
      await gateway.close();
    }
    await expect(fetch(`${gateway.metricsUrl}/healthz`)).rejects.toThrow();
  });

  it('keeps them behind the admin secret with PLUGBOARD_METRICS_ACCESS=admin, and has no second port', async () => {
    const gateway = await startTestGateway({ databaseUrl: db.url, env: { PLUGBOARD_METRICS_ACCESS: 'admin' } });
    try {
      expect(gateway.metricsUrl).toBeNull();
      expect((await fetch(`${gateway.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${gateway.url}/metrics`, { headers: { authorization: basic } })).status).toBe(200);
      expect(await (await fetch(`${gateway.url}/readyz`)).json()).toEqual({ status: 'ok' });
    } finally {
      await gateway.close();
    }
  });
});

/** A raw HTTP/1.1 connection: what a slow or hostile client does, byte by byte. */
async function openConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let received = '';
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return {
    socket,
    closed,
    /** Sends GET path and resolves with the answer's status (or null when the connection closes first). */
    async get(path: string): Promise<number | null> {
      received = '';
      socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`);
      const complete = () => {
        const end = received.indexOf('\r\n\r\n');
        const length = Number(/content-length: (\d+)/i.exec(received)?.[1] ?? NaN);
        return end >= 0 && received.length >= end + 4 + length;
      };
      while (!complete()) {
        if (socket.destroyed) return null;
        await Promise.race([new Promise((resolve) => socket.once('data', resolve)), closed]);
      }
      return Number(received.split(' ', 2)[1]);
    },
  };
}

/** Resolves with what `promise` gives, or with 'still waiting' after `ms`: a deadline, not a pause. */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, sleep(ms).then(() => 'still waiting' as const)]);

describe('slow clients and the connection cap', () => {
  it('cuts a client trickling its headers or its body within the timeouts, and leaves WebSockets, SSE streams and slow answers alone', async () => {
    const gateway = await startTestGateway({
      databaseUrl: db.url,
      env: {
        PLUGBOARD_HEADERS_TIMEOUT_MS: '500',
        PLUGBOARD_REQUEST_TIMEOUT_MS: '1000',
        PLUGBOARD_KEEP_ALIVE_TIMEOUT_MS: '500',
      },
    });
    const token = await signToken({ userId: 'u-slow' });
    const ws = connectWs(gateway.wsUrl, { headers: { authorization: `Bearer ${token}` } });
    try {
      await ws.connected;
      const subscription = ws.subscribe<{ echoed: { body: string } }>('subscription { echoed { body } }');
      const sse = await fetch(gateway.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'subscription { echoed { body } }' }),
      });
      expect(sse.status).toBe(200);
      const slowAnswer = gateway.gql('{ echoSlow(ms: 2500) }');

      const port = new URL(gateway.url).port;
      const started = performance.now();
      const bodyTrickle = await openConnection(Number(port));
      bodyTrickle.socket.write(
        'POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"query":"',
      );
      const headerTrickle = await openConnection(Number(port));
      headerTrickle.socket.write('GET /healthz HTTP/1.1\r\n');
      const trickle = setInterval(() => {
        if (!bodyTrickle.socket.destroyed) bodyTrickle.socket.write(' ');
        if (!headerTrickle.socket.destroyed) headerTrickle.socket.write('X-Slow: 1\r\n');
      }, 100);
      try {
        // Node's default would hold them 300 s (body) and 60 s (headers).
        const [body, headers] = await Promise.all([
          within(bodyTrickle.closed, 5000),
          within(headerTrickle.closed, 5000),
        ]);
        expect(body).toMatch(/^HTTP\/1\.1 408 /);
        expect(headers).toMatch(/^HTTP\/1\.1 408 /);
        expect(performance.now() - started).toBeLessThan(4000);
      } finally {
        clearInterval(trickle);
      }

      // An idle keep-alive connection is closed after its timeout.
      const idle = await openConnection(Number(port));
      expect(await idle.get('/healthz')).toBe(200);
      expect(await within(idle.closed, 3000)).not.toBe('still waiting');

      // Past every timeout: the answer that took longer, the socket and the stream still work.
      expect(await slowAnswer).toEqual({ status: 200, body: { data: { echoSlow: 'slept 2500' } } });
      const written = await gateway.gql('mutation { echo(body: "after the timeouts") { id } }', {
        headers: { 'x-hasura-admin-secret': ADMIN_SECRET },
      });
      expect(written.body.errors).toBeUndefined();
      expect(await subscription.next()).toEqual({ data: { echoed: { body: 'after the timeouts' } } });
      const reader = sse.body!.getReader();
      let streamed = '';
      while (!streamed.includes('after the timeouts')) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`SSE stream ended: ${streamed}`);
        streamed += new TextDecoder().decode(value);
      }
      await reader.cancel();
    } finally {
      await ws.client.dispose();
      await gateway.close();
    }
  });

  it('refuses connections past PLUGBOARD_MAX_CONNECTIONS and keeps serving the open ones', async () => {
    const gateway = await startTestGateway({ databaseUrl: db.url, env: { PLUGBOARD_MAX_CONNECTIONS: '4' } });
    const port = Number(new URL(gateway.url).port);
    const open = await Promise.all(Array.from({ length: 4 }, () => openConnection(port)));
    try {
      for (const connection of open) expect(await connection.get('/healthz')).toBe(200);
      // The fifth is closed at once, without an answer.
      const refused = await openConnection(port);
      expect(await within(refused.closed, 3000)).toBe('');
      expect(await refused.get('/healthz')).toBeNull();
      for (const connection of open) expect(await connection.get('/healthz')).toBe(200);
      // Once one closes, a new one is served again.
      open.shift()!.socket.end();
      await expect
        .poll(async () => {
          const next = await openConnection(port);
          const status = await next.get('/healthz');
          next.socket.destroy();
          return status;
        })
        .toBe(200);
    } finally {
      for (const connection of open) connection.socket.destroy();
      await gateway.close();
    }
  });
});

describe('/readyz when a dependency goes away', () => {
  it('answers 503 naming Postgres when it is unreachable (readyz and queries), while /healthz stays 200', async () => {
    const url = new URL(db.url);
    const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    url.port = String(proxy.port);
    const gateway = await startTestGateway({ databaseUrl: url.toString() });
    try {
      expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
      await proxy.cut();
      const down = await fetch(`${gateway.url}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({
        status: 'unavailable',
        checks: { postgres: { ok: false }, migrations: { ok: false } },
      });
      expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);

      // A resolver that needs Postgres answers 503 with a retryable code, not a masked 500.
      const query = await gateway.gql('{ echoCount }', { headers: { 'x-hasura-admin-secret': ADMIN_SECRET } });
      expect(query.status).toBe(503);
      expect(query.body.errors?.[0]).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    } finally {
      await gateway.close();
    }
  });

  it.skipIf(!inject('redisUrl'))('answers 503 naming Redis when it is unreachable', async () => {
    const redis = new URL(inject('redisUrl'));
    const proxy = await startTcpProxy(redis.hostname, Number(redis.port || 6379));
    // A short shutdown timeout: closing without Redis waits that long for the queue workers.
    const gateway = await startTestGateway({
      databaseUrl: db.url,
      env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, PLUGBOARD_SHUTDOWN_TIMEOUT_MS: '500' },
    });
    try {
      expect(await (await fetch(`${gateway.url}/readyz`)).json()).toMatchObject({
        status: 'ok',
        checks: { redis: { ok: true } },
      });
      await proxy.cut();
      const down = await fetch(`${gateway.url}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({
        status: 'unavailable',
        checks: { postgres: { ok: true }, redis: { ok: false } },
      });
    } finally {
      await gateway.close();
    }
  });

  // Last in the file: it removes the echo plugin's migration record from this database.
  it('answers 503 while migrations are not applied', async () => {
    const gateway = await startTestGateway({ databaseUrl: db.url });
    try {
      await db.pool.query("DELETE FROM plugboard.schema_migrations WHERE plugin = 'echo'");
      const pending = await fetch(`${gateway.url}/readyz`);
      expect(pending.status).toBe(503);
      expect(await pending.json()).toMatchObject({ checks: { migrations: { ok: false, notApplied: 1 } } });
    } finally {
      await gateway.close();
    }
  });
});

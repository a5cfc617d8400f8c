/**
 * The operator console's routes under /console: its built pages and assets (console/dist, built
 * by `npm install` and `npm start`), and its session at /console/session — POST signs in with
 * the admin secret, GET tells the page its CSRF token, DELETE signs out. Everything else the
 * console does goes through /graphql as an admin, with the session cookie and the CSRF header.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { ERRORS } from '../errors.ts';
import { clientAddress, isTrustedProxy, type TrustedProxies } from '../http/client-ip.ts';
import { BodyTooLarge, NOSNIFF, readBody, sendError, sendJson } from '../http/replies.ts';
import type { PluginRoute } from '../plugin/contract.ts';
import { CSRF_HEADER, csrfMatches, type ConsoleSessions } from './sessions.ts';

/** Where `npm run build:console` writes the console. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../console/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Nothing from elsewhere: no CDN, no inline script, no framing by another site. Sandboxed frames (a template's HTML preview) inherit it. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'self'", // the page's own sandboxed preview frame; no other site's
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const PAGE_HEADERS = {
  ...NOSNIFF,
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'SAMEORIGIN',
};

/** Sign-in attempts per client address per minute: the admin secret is not to be guessed. */
const SIGN_INS_PER_MINUTE = 10;
const MAX_SIGN_IN_BODY = 4096;

export interface ConsoleRouteOptions {
  /** Null without PLUGBOARD_ADMIN_SECRET: sign-in then answers 503, saying why. */
  sessions: ConsoleSessions | null;
  adminSecret: string | undefined;
  trustedProxies: TrustedProxies;
  log: Logger;
  /** The built console (tests point elsewhere); CONSOLE_DIST by default. */
  dist?: string;
}

export function consoleRoutes(options: ConsoleRouteOptions): PluginRoute[] {
  const dist = options.dist ?? CONSOLE_DIST;
  const signIns = new RateLimiterMemory({ points: SIGN_INS_PER_MINUTE, duration: 60 });
  const secretDigest = options.adminSecret ? createHash('sha256').update(options.adminSecret).digest() : undefined;

  /** HTTPS as the browser sees it: TLS here, or a trusted proxy's X-Forwarded-Proto. */
  const secure = (request: IncomingMessage) =>
    ('encrypted' in request.socket && request.socket.encrypted === true) ||
    (isTrustedProxy(request.socket.remoteAddress, options.trustedProxies) &&
      request.headers['x-forwarded-proto'] === 'https');

  async function signIn(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const sessions = options.sessions;
    if (!sessions || !secretDigest)
      return sendError(response, ERRORS.SERVICE_UNAVAILABLE, 'The console needs PLUGBOARD_ADMIN_SECRET to be set');
    // JSON only: a form on another site can post url-encoded or multipart bodies, never JSON
    // without a CORS preflight this route does not answer.
    if (!(request.headers['content-type'] ?? '').startsWith('application/json'))
      return sendError(response, ERRORS.BAD_REQUEST, 'Send the secret as application/json', { status: 415 });
    const address = clientAddress(
      request.socket.remoteAddress,
      request.headers['x-forwarded-for'],
      options.trustedProxies,
    );
    try {
      await signIns.consume(address);
    } catch {
      return sendError(response, ERRORS.RATE_LIMITED, 'Too many sign-in attempts; wait a minute', {
        headers: { 'retry-after': '60' },
      });
    }
    let secret: unknown;
    try {
      secret = (
        JSON.parse((await readBody(request, response, MAX_SIGN_IN_BODY)).toString('utf8')) as { secret?: unknown }
      )?.secret;
    } catch (error) {
      if (error instanceof BodyTooLarge) return sendError(response, ERRORS.PAYLOAD_TOO_LARGE, 'The body is too large');
      return sendError(response, ERRORS.BAD_REQUEST, 'Expected { "secret": "…" }');
    }
    if (typeof secret !== 'string' || !timingSafeEqual(createHash('sha256').update(secret).digest(), secretDigest)) {
      options.log.warn({ address }, 'console sign-in with a wrong admin secret');
      return sendError(response, ERRORS.UNAUTHENTICATED, 'Wrong admin secret');
    }
    const session = await sessions.issue(secure(request));
    sendJson(
      response,
      200,
      { csrfToken: session.csrfToken, expiresAt: new Date(session.expiresAt).toISOString() },
      { 'set-cookie': session.cookie, 'cache-control': 'no-store' },
    );
  }

  async function session(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const current = await options.sessions?.read(request.headers.cookie);
    if (request.method === 'GET') {
      if (!current) return sendError(response, ERRORS.UNAUTHENTICATED, 'Not signed in');
      return sendJson(
        response,
        200,
        { csrfToken: current.csrfToken, expiresAt: new Date(current.expiresAt).toISOString() },
        { 'cache-control': 'no-store' },
      );
    }
    // DELETE: signing out needs the CSRF token too, or any site could sign an operator out.
    const token = request.headers[CSRF_HEADER];
    if (!current || typeof token !== 'string' || !csrfMatches(current, token))
      return sendError(response, ERRORS.FORBIDDEN, `Signing out needs the session's ${CSRF_HEADER} header`);
    response.writeHead(204, { ...NOSNIFF, 'set-cookie': options.sessions!.clear(secure(request)) });
    response.end();
  }

  async function page(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const index = join(dist, 'index.html');
    if (!existsSync(index))
      return sendError(
        response,
        ERRORS.SERVICE_UNAVAILABLE,
        'The console is not built: run `npm run build:console` (npm install and npm start do)',
      );
    // /console/assets/x.js → console/dist/assets/x.js; any other path is a page of the app.
    const relative = normalize(path.slice('/console'.length)).replace(/^[/\\]+/, '');
    const file = join(dist, relative);
    const asset =
      relative.startsWith(`assets${sep}`) &&
      file.startsWith(dist) &&
      statSync(file, { throwIfNoEntry: false })?.isFile();
    if (relative.startsWith('assets') && !asset)
      return sendError(response, ERRORS.NOT_FOUND, `No console asset at ${path}`);
    const body = await readFile(asset ? file : index);
    response.writeHead(200, {
      ...PAGE_HEADERS,
      'content-type': TYPES[extname(asset ? file : index)] ?? 'application/octet-stream',
      'content-length': body.length,
      // Assets' names carry their content's hash; the page must be fetched again to find new ones.
      'cache-control': asset ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  }

  return [
    {
      method: 'ANY',
      path: '/console',
      prefix: true,
      access: 'public', // the page holds no data; the session route and /graphql check the session
      async handler(request, response) {
        const path = (request.url ?? '/console').split('?', 1)[0]!;
        const method = request.method ?? 'GET';
        if (path === '/console/session') {
          if (method === 'POST') return signIn(request, response);
          if (method === 'GET' || method === 'DELETE') return session(request, response);
        } else if (method === 'GET' || method === 'HEAD') return page(request, response, path);
        sendError(response, ERRORS.BAD_REQUEST, `${method} is not allowed on ${path}`, {
          status: 405,
          headers: { allow: path === '/console/session' ? 'GET, POST, DELETE' : 'GET, HEAD' },
        });
      },
    },
  ];
}

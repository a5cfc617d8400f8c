/**
 * http-request: calls a URL on a host from JOBS_HTTP_ALLOWED_HOSTS (so a job cannot be pointed at
 * internal addresses), with a timeout, retrying only on 5xx answers and network errors, never
 * following redirects (a redirect could leave the allow-list), and optionally signing the body.
 * The host is resolved once, its addresses checked (no private, loopback or link-local address
 * unless the allow-list names that host or address itself), and the request connects to exactly
 * those addresses, so a name that resolves elsewhere a moment later (DNS rebinding) gains nothing.
 */
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPublicAddress, PermanentJobError } from '../../../gateway/sdk.ts';
import { InvalidPayloadError, objectPayload, optionalNumber, requiredString, type JobType } from './job-type.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

export interface HttpRequestPayload {
  url: URL;
  method: Method;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  sign: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Headers the request itself sets; a payload naming them could reach another virtual host or desync the body. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);

/** An allow-list entry: `host` or `[v6]`, and its port if it names one. */
function parseEntry(entry: string): { pattern: string; port: string | undefined } {
  if (entry.startsWith('[')) return { pattern: entry.slice(0, entry.indexOf(']') + 1), port: entry.split(']:')[1] };
  const [pattern, port] = entry.split(':');
  return { pattern: pattern!, port };
}

/** The entries for `url`'s port: an entry without a port is for 80 and 443 only, `host:port` for that port. */
function entriesForPort(url: URL, allowed: readonly string[]): { pattern: string }[] {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowed
    .map(parseEntry)
    .filter((entry) => (entry.port === undefined ? port === '80' || port === '443' : entry.port === port));
}

/** The entries that let `url` through: `example.com`, `*.example.com` (any subdomain, not the apex). */
function matchingEntries(url: URL, allowed: readonly string[]): { pattern: string; wildcard: boolean }[] {
  const host = url.hostname.toLowerCase();
  return entriesForPort(url, allowed).flatMap(({ pattern }): { pattern: string; wildcard: boolean }[] => {
    if (pattern.startsWith('*.'))
      return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 ? [{ pattern, wildcard: true }] : [];
    return host === pattern ? [{ pattern, wildcard: false }] : [];
  });
}

export function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  return matchingEntries(url, allowed).length > 0;
}

/**
 * Checks the addresses `url`'s host resolved to: a non-public one only when the allow-list names
 * the host exactly (not through `*.domain`) or names the address itself.
 */
export function checkAddresses(url: URL, addresses: readonly string[], allowed: readonly string[]): void {
  if (matchingEntries(url, allowed).some((entry) => !entry.wildcard)) return;
  const listed = new Set(entriesForPort(url, allowed).map((entry) => entry.pattern.replace(/^\[|\]$/g, '')));
  for (const address of addresses) {
    if (!isPublicAddress(address) && !listed.has(address)) {
      throw new PermanentJobError(
        `host ${url.hostname} resolved to ${address}, which is not a public address; JOBS_HTTP_ALLOWED_HOSTS must name the host or address itself to allow it`,
      );
    }
  }
}

/** Resolves the host once and checks every address; the lookup hands exactly those to the connection. */
async function checkedLookup(url: URL, allowed: readonly string[]): Promise<LookupFunction> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const resolved = isIP(host) ? [{ address: host, family: isIP(host) }] : await dnsLookup(host, { all: true });
  checkAddresses(
    url,
    resolved.map((entry) => entry.address),
    allowed,
  );
  return (_hostname, options, callback) => {
    const candidates = options.family ? resolved.filter((entry) => entry.family === options.family) : resolved;
    if (candidates.length === 0)
      return callback(
        Object.assign(new Error(`no IPv${options.family} address for ${host}`), { code: 'ENOTFOUND' }),
        '',
        0,
      );
    if (options.all) return callback(null, candidates);
    callback(null, candidates[0]!.address, candidates[0]!.family);
  };
}

/** Stripe-style: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function signature(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Retryable: the server may do better next time. */
class ServerError extends Error {}

export const httpRequest: JobType<HttpRequestPayload> = {
  description: 'Calls an HTTP endpoint on an allowed host; retries on 5xx and network errors',
  // Users reach only the hosts the operator listed, and their requests go out unsigned.
  access: 'user',
  forUser(payload) {
    if (payload['sign'] === true)
      throw new InvalidPayloadError('only jobs an admin enqueues are signed; leave sign out');
    return { ...payload, sign: false };
  },
  unavailable: (runtime) =>
    runtime.config.httpAllowedHosts.length === 0
      ? 'http-request may call no host: list the allowed hosts in JOBS_HTTP_ALLOWED_HOSTS'
      : null,
  parse(raw, config) {
    const payload = objectPayload(raw, 'http-request');
    let url: URL;
    try {
      url = new URL(requiredString(payload['url'], 'url'));
    } catch (error) {
      if (error instanceof InvalidPayloadError) throw error;
      throw new InvalidPayloadError(`url ${JSON.stringify(payload['url'])} is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new InvalidPayloadError('url must be http or https');
    if (url.username || url.password)
      throw new InvalidPayloadError('url must not carry credentials; send them in headers');
    if (!hostAllowed(url, config.httpAllowedHosts)) {
      throw new InvalidPayloadError(`host ${url.host} is not in JOBS_HTTP_ALLOWED_HOSTS`);
    }
    const method = String(payload['method'] ?? 'POST').toUpperCase() as Method;
    if (!METHODS.includes(method)) throw new InvalidPayloadError(`method must be one of ${METHODS.join(', ')}`);
    const headers: Record<string, string> = {};
    const rawHeaders = payload['headers'] ?? {};
    if (typeof rawHeaders !== 'object' || rawHeaders === null || Array.isArray(rawHeaders))
      throw new InvalidPayloadError('headers must be an object of strings');
    for (const [name, value] of Object.entries(rawHeaders)) {
      if (typeof value !== 'string') throw new InvalidPayloadError(`header ${name} must be a string`);
      if (RESERVED_HEADERS.has(name.toLowerCase()))
        throw new InvalidPayloadError(`header ${name} is set by the request itself`);
      headers[name.toLowerCase()] = value;
    }
    let body: string | undefined;
    if (payload['body'] !== undefined && payload['body'] !== null) {
      if (method === 'GET' || method === 'HEAD') throw new InvalidPayloadError(`${method} requests have no body`);
      if (typeof payload['body'] === 'string') body = payload['body'];
      else {
        body = JSON.stringify(payload['body']);
        headers['content-type'] ??= 'application/json';
      }
    }
    const sign = payload['sign'] === undefined ? config.httpSigningSecret !== undefined : payload['sign'] === true;
    if (sign && !config.httpSigningSecret)
      throw new InvalidPayloadError('sign is true but JOBS_HTTP_SIGNING_SECRET is not set');
    // Without its own timeout a request may run until the job's deadline (JOBS_JOB_TIMEOUT) ends it.
    const timeoutMs = optionalNumber(payload['timeoutMs'], 'timeoutMs', 1, config.timeoutMs) ?? DEFAULT_TIMEOUT_MS;
    return { url, method, headers, body, timeoutMs, sign };
  },

  async run(payload, job, runtime) {
    const headers = { ...payload.headers };
    if (payload.sign)
      headers['x-plugboard-signature'] = signature(runtime.config.httpSigningSecret!, payload.body ?? '');
    if (payload.body !== undefined) headers['content-length'] = String(Buffer.byteLength(payload.body));
    const where = `${payload.method} ${payload.url.origin}${payload.url.pathname}`;
    const timeout = AbortSignal.timeout(payload.timeoutMs);
    const signal = AbortSignal.any([job.signal, timeout]);
    let status: number;
    let contentType: string | null;
    let text: string;
    try {
      const lookup = await checkedLookup(payload.url, runtime.config.httpAllowedHosts);
      // node:http follows no redirects; the response is read up to MAX_RESPONSE_BYTES.
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const request = (payload.url.protocol === 'https:' ? https : http).request(
          payload.url,
          { method: payload.method, headers, lookup, signal, agent: false },
          resolve,
        );
        request.once('error', reject);
        request.end(payload.body);
      });
      status = response.statusCode ?? 0;
      contentType = response.headers['content-type'] ?? null;
      const location = response.headers.location;
      let size = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of response as AsyncIterable<Buffer>) {
        if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_RESPONSE_BYTES) {
          response.destroy();
          break;
        }
      }
      text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_RESPONSE_BYTES);
      if (status >= 300 && status < 400)
        throw new PermanentJobError(
          `${where} answered ${status} redirecting to ${location ?? '?'}; redirects are not followed`,
        );
    } catch (error) {
      if (error instanceof PermanentJobError) throw error;
      if (job.signal.aborted) throw job.signal.reason;
      const cause = timeout.aborted
        ? `no answer within ${payload.timeoutMs} ms`
        : error instanceof Error
          ? error.message
          : String(error);
      throw new ServerError(`${where} failed: ${cause}`);
    }
    if (status >= 500) throw new ServerError(`${where} answered ${status}`);
    if (status >= 400) throw new PermanentJobError(`${where} answered ${status}: ${text.slice(0, 200)}`);
    return { status, contentType, body: text };
  },
};

/**
 * http-request: calls a URL on a host from JOBS_HTTP_ALLOWED_HOSTS (so a job cannot be pointed at
 * internal addresses), with a timeout, retrying only on 5xx answers and network errors, never
 * following redirects (a redirect could leave the allow-list), and optionally signing the body.
 */
import { createHmac } from 'node:crypto';
import { PermanentJobError } from '../../../gateway/queue.ts';
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

/** `example.com`, `example.com:8443` or `*.example.com` (any subdomain, not the apex). */
export function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowed.some((entry) => {
    const [pattern, allowedPort] = entry.startsWith('[') ? [entry.slice(0, entry.indexOf(']') + 1), entry.split(']:')[1]] : entry.split(':');
    if (allowedPort !== undefined && allowedPort !== port) return false;
    if (pattern!.startsWith('*.')) return host.endsWith(pattern!.slice(1)) && host.length > pattern!.length - 1;
    return host === pattern;
  });
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
    if (payload['sign'] === true) throw new InvalidPayloadError('only jobs an admin enqueues are signed; leave sign out');
    return { ...payload, sign: false };
  },
  unavailable: (runtime) =>
    runtime.config.httpAllowedHosts.length === 0 ? 'http-request may call no host: list the allowed hosts in JOBS_HTTP_ALLOWED_HOSTS' : null,
  parse(raw, config) {
    const payload = objectPayload(raw, 'http-request');
    let url: URL;
    try {
      url = new URL(requiredString(payload['url'], 'url'));
    } catch (error) {
      if (error instanceof InvalidPayloadError) throw error;
      throw new InvalidPayloadError(`url ${JSON.stringify(payload['url'])} is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidPayloadError('url must be http or https');
    if (url.username || url.password) throw new InvalidPayloadError('url must not carry credentials; send them in headers');
    if (!hostAllowed(url, config.httpAllowedHosts)) {
      throw new InvalidPayloadError(`host ${url.host} is not in JOBS_HTTP_ALLOWED_HOSTS`);
    }
    const method = String(payload['method'] ?? 'POST').toUpperCase() as Method;
    if (!METHODS.includes(method)) throw new InvalidPayloadError(`method must be one of ${METHODS.join(', ')}`);
    const headers: Record<string, string> = {};
    const rawHeaders = payload['headers'] ?? {};
    if (typeof rawHeaders !== 'object' || rawHeaders === null || Array.isArray(rawHeaders)) throw new InvalidPayloadError('headers must be an object of strings');
    for (const [name, value] of Object.entries(rawHeaders)) {
      if (typeof value !== 'string') throw new InvalidPayloadError(`header ${name} must be a string`);
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
    if (sign && !config.httpSigningSecret) throw new InvalidPayloadError('sign is true but JOBS_HTTP_SIGNING_SECRET is not set');
    // Without its own timeout a request may run until the job's deadline (JOBS_JOB_TIMEOUT) ends it.
    const timeoutMs = optionalNumber(payload['timeoutMs'], 'timeoutMs', 1, config.timeoutMs) ?? DEFAULT_TIMEOUT_MS;
    return { url, method, headers, body, timeoutMs, sign };
  },

  async run(payload, job, runtime) {
    const headers = { ...payload.headers };
    if (payload.sign) headers['x-plugboard-signature'] = signature(runtime.config.httpSigningSecret!, payload.body ?? '');
    let response: Response;
    try {
      response = await fetch(payload.url, {
        method: payload.method,
        headers,
        body: payload.body,
        redirect: 'manual',
        signal: AbortSignal.any([job.signal, AbortSignal.timeout(payload.timeoutMs)]),
      });
    } catch (error) {
      if (job.signal.aborted) throw job.signal.reason;
      const cause = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${payload.timeoutMs} ms` : (error as Error).cause ? String((error as Error & { cause: unknown }).cause) : String(error);
      throw new ServerError(`${payload.method} ${payload.url.origin}${payload.url.pathname} failed: ${cause}`);
    }
    const text = (await response.text()).slice(0, MAX_RESPONSE_BYTES);
    const where = `${payload.method} ${payload.url.origin}${payload.url.pathname}`;
    if (response.status >= 500) throw new ServerError(`${where} answered ${response.status}`);
    if (response.status >= 300 && response.status < 400) {
      throw new PermanentJobError(`${where} answered ${response.status} redirecting to ${response.headers.get('location') ?? '?'}; redirects are not followed`);
    }
    if (response.status >= 400) throw new PermanentJobError(`${where} answered ${response.status}: ${text.slice(0, 200)}`);
    return { status: response.status, contentType: response.headers.get('content-type'), body: text };
  },
};

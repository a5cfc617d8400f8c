/**
 * The GitHub client: @octokit/rest with plugin-throttling (waits out primary limits from
 * `x-ratelimit-reset`, and secondary limits from `retry-after`) and plugin-retry (5xx and network
 * errors), authenticated by a token or as a GitHub App installation (@octokit/auth-app). It counts
 * what it spends of the rate limit, so a sync can say what it used.
 */
import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import type { Logger } from 'pino';
import type { GithubConfig } from './config.ts';

const GithubOctokit = Octokit.plugin(throttling, retry);
export type GithubClient = InstanceType<typeof GithubOctokit>;

/** What this process has spent of the rate limit, and what GitHub says is left. */
export interface RateLimitUsage {
  /** Requests answered (304s included). */
  requests: number;
  /** Answers that counted against the limit (a 304 does not). */
  counted: number;
  notModified: number;
  /** From the newest answer's headers. */
  remaining: number | null;
  limit: number | null;
  resetAt: Date | null;
}

/** Waiting out a limit more than this many times for one request gives up on it. */
const LIMIT_RETRIES = 3;

export function createGithubClient(
  config: GithubConfig,
  log: Logger,
): {
  octokit: GithubClient;
  usage: RateLimitUsage;
  /** The bytes of an answer's unparsed body (`data` of a request made with `parseSuccessResponseBody: false`). */
  bodyBytes(data: unknown): Promise<Buffer>;
} {
  /**
   * The bytes of each successful answer, by its body stream: a request made with
   * `parseSuccessResponseBody: false` gets the stream as its `data`, and `bodyBytes` returns what
   * was already read instead of piping it through web streams again (a backfill reads 150 MB).
   */
  const readBodies = new WeakMap<object, Buffer>();
  const bodyBytes = async (data: unknown): Promise<Buffer> => {
    const known = typeof data === 'object' && data !== null ? readBodies.get(data) : undefined;
    return known ?? Buffer.from(await new Response(data as ReadableStream<Uint8Array>).arrayBuffer());
  };
  const usage: RateLimitUsage = {
    requests: 0,
    counted: 0,
    notModified: 0,
    remaining: null,
    limit: null,
    resetAt: null,
  };
  const { credential } = config;
  // Every HTTP answer passes here, retries and waits included: what GitHub counted is what we count.
  const countingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    usage.requests += 1;
    if (response.status === 304) usage.notModified += 1;
    else usage.counted += 1;
    const header = (name: string) => {
      const value = Number(response.headers.get(name) ?? Number.NaN);
      return Number.isFinite(value) ? value : null;
    };
    usage.remaining = header('x-ratelimit-remaining') ?? usage.remaining;
    usage.limit = header('x-ratelimit-limit') ?? usage.limit;
    const reset = header('x-ratelimit-reset');
    if (reset !== null) usage.resetAt = new Date(reset * 1000);
    if (!response.ok || response.status === 204 || response.status === 205) return response;
    // A successful body is read here, at once: a list read ahead may wait in Octokit's queues
    // while its fetch Response, no longer referenced, is collected, and undici then cancels the
    // unread body ("Response body object should not be disturbed or locked").
    const bytes = Buffer.from(await response.arrayBuffer());
    // A body stream that hands over these bytes when read, without a copy (a Response made from
    // the bytes would copy them), and never is when the caller takes them through `bodyBytes`.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    readBodies.set(body, bytes);
    const read = new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    Object.defineProperty(read, 'url', { value: response.url });
    return read;
  };
  const octokit = new GithubOctokit({
    request: { fetch: countingFetch },
    baseUrl: config.apiUrl.href.replace(/\/$/, ''),
    ...('token' in credential
      ? { auth: credential.token }
      : {
          authStrategy: createAppAuth,
          auth: {
            appId: credential.appId,
            privateKey: credential.privateKey,
            installationId: credential.installationId,
          },
        }),
    userAgent: 'plugboard-github',
    log: {
      debug: () => {},
      info: () => {},
      warn: (message: string) => log.warn({ plugin: 'github' }, message),
      error: (message: string) => log.error({ plugin: 'github' }, message),
    },
    throttle: {
      onRateLimit: (
        retryAfter: number,
        options: { method?: string; url?: string },
        _octokit: unknown,
        retryCount: number,
      ) => {
        log.warn({ retryAfter, url: options.url, retryCount }, 'GitHub rate limit reached; waiting for its reset');
        return retryCount < LIMIT_RETRIES;
      },
      onSecondaryRateLimit: (
        retryAfter: number,
        options: { method?: string; url?: string },
        _octokit: unknown,
        retryCount: number,
      ) => {
        log.warn({ retryAfter, url: options.url, retryCount }, 'GitHub secondary rate limit; waiting');
        return retryCount < LIMIT_RETRIES;
      },
    },
  });
  return { octokit, usage, bodyBytes };
}

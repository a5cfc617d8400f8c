/**
 * The Shopify Admin GraphQL client for one shop: @shopify/admin-api-client, the pinned API
 * version on every call, and Shopify's cost-based throttle obeyed: a THROTTLED answer waits
 * until the bucket has restored what the query asks for (from `extensions.cost.throttleStatus`),
 * then asks again. It counts the cost it spent, so a sync can say what it used.
 */
import { setTimeout } from 'node:timers/promises';
import { type AdminApiClient, createAdminApiClient } from '@shopify/admin-api-client';

/** What this process has spent of a shop's query cost bucket. */
export interface CostUsage {
  requests: number;
  /** Sum of `actualQueryCost`. */
  cost: number;
  /** Answers that were THROTTLED (and waited for). */
  throttled: number;
  /** From the newest answer. */
  available: number | null;
  maximum: number | null;
  restoreRate: number | null;
}

export interface ShopifyAdmin {
  readonly shop: string;
  readonly usage: CostUsage;
  /** Runs a query or mutation; throws ShopifyApiError on errors (after waiting out throttling). */
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export class ShopifyApiError extends Error {
  /** Shopify's error code (THROTTLED, ACCESS_DENIED, …) or HTTP_<status>. */
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = 'ShopifyApiError';
    this.code = code;
  }
}

/** A THROTTLED query is asked again at most this many times. */
const THROTTLE_RETRIES = 5;

export interface ShopifyClientOptions {
  /** `name.myshopify.com` */
  shop: string;
  accessToken: string;
  apiVersion: string;
  /**
   * Where a shop's Admin API answers: `{shop}` stands for the shop's domain (SHOPIFY_ADMIN_URL;
   * default `https://{shop}`; tests and benchmarks point it at a local stand-in).
   */
  adminUrl?: string | undefined;
}

export function createShopifyAdmin(options: ShopifyClientOptions): ShopifyAdmin {
  const { shop } = options;
  const usage: CostUsage = {
    requests: 0,
    cost: 0,
    throttled: 0,
    available: null,
    maximum: null,
    restoreRate: null,
  };
  const origin = `https://${shop}`;
  const base = options.adminUrl?.replaceAll('{shop}', shop).replace(/\/$/, '');
  const client: AdminApiClient = createAdminApiClient({
    storeDomain: shop,
    apiVersion: options.apiVersion,
    accessToken: options.accessToken,
    userAgentPrefix: 'plugboard',
    retries: 2,
    // The library's own hook for where requests go: the path (/admin/api/<version>/graphql.json) stays.
    ...(base && base !== origin
      ? {
          customFetchApi: (url: string, init?: RequestInit) =>
            fetch(url.startsWith(origin) ? `${base}${url.slice(origin.length)}` : url, init),
        }
      : {}),
  });

  return {
    shop,
    usage,
    async request<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
      for (let attempt = 0; ; attempt++) {
        const answer = await client.request<T>(query, variables ? { variables } : {});
        usage.requests += 1;
        const cost = answer.extensions?.cost;
        if (typeof cost?.actualQueryCost === 'number') usage.cost += cost.actualQueryCost;
        const status = cost?.throttleStatus;
        if (status) {
          usage.available = status.currentlyAvailable ?? usage.available;
          usage.maximum = status.maximumAvailable ?? usage.maximum;
          usage.restoreRate = status.restoreRate ?? usage.restoreRate;
        }
        const errors = answer.errors;
        const throttled = errors?.graphQLErrors?.some((error) => error.extensions?.code === 'THROTTLED');
        if (throttled && attempt < THROTTLE_RETRIES) {
          usage.throttled += 1;
          // Wait until the bucket holds what the query costs, at the shop's restore rate.
          const needed = (cost?.requestedQueryCost ?? 1) - (status?.currentlyAvailable ?? 0);
          const rate = status?.restoreRate && status.restoreRate > 0 ? status.restoreRate : 50;
          await setTimeout(Math.max(0, Math.ceil((needed / rate) * 1000)) + 50);
          continue;
        }
        if (errors?.networkStatusCode === 401)
          throw new ShopifyApiError(
            `Shopify ${shop} refused the access token (HTTP 401): check SHOPIFY_ACCESS_TOKEN, or install the app on the shop again`,
            'HTTP_401',
          );
        if (errors) {
          const first = errors.graphQLErrors?.[0];
          const code =
            first?.extensions?.code ?? (errors.networkStatusCode ? `HTTP_${errors.networkStatusCode}` : undefined);
          throw new ShopifyApiError(`Shopify ${shop}: ${first?.message ?? errors.message ?? 'request failed'}`, code);
        }
        if (answer.data === undefined) throw new ShopifyApiError(`Shopify ${shop}: an answer without data`, undefined);
        return answer.data;
      }
    },
  };
}

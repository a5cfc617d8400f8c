/**
 * The OAuth install flow of a public app (authorization-code grant, offline token), with
 * @shopify/shopify-api's `auth.begin` and `auth.callback` on the node adapter:
 *
 * - `GET /auth/shopify?shop=name.myshopify.com` sets the signed state cookie and redirects to the
 *   shop's authorize page;
 * - `GET /auth/shopify/callback` (Shopify's redirect): the library checks the state cookie, the
 *   state and the HMAC of the query, then trades the code for the offline token. The session is
 *   stored (upsert), the shop recorded as installed (an earlier uninstall cleared), and the shop's
 *   webhooks registered, idempotently, through the plugin's Admin client.
 *
 * The access token is a credential: it is written to `shopify.sessions` and nowhere else (never
 * logged, never in a response).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BotActivityDetected,
  CookieNotFound,
  HttpResponseError,
  InvalidHmacError,
  InvalidOAuthError,
  InvalidShopError,
  type Session,
} from '@shopify/shopify-api';
import { type PluginRoute, type PluginRuntime, sendError } from '../../gateway/sdk.ts';
import type { ShopifyAdmin } from './client.ts';
import type { ShopifyConfig } from './config.ts';
import type { ShopifyInstance } from './instance.ts';
import manifest from './plugin.json' with { type: 'json' };
import { shopifySql } from './sql.ts';

export const INSTALL_PATH = '/auth/shopify';
export const CALLBACK_PATH = '/auth/shopify/callback';

/** The plugin's error codes (README "Errors"). */
export const INSTALL_ERRORS = {
  SHOPIFY_SHOP_INVALID: { status: 400, description: 'the `shop` parameter is not a `name.myshopify.com` domain' },
  SHOPIFY_OAUTH_INVALID: {
    status: 403,
    description:
      'the install callback failed its checks: a wrong HMAC or state, or no valid state cookie (expired, or another browser); nothing is stored',
  },
  SHOPIFY_CODE_REJECTED: {
    status: 400,
    description: 'Shopify refused the authorization code (already used or expired); nothing is stored',
  },
  SHOPIFY_INSTALL_FAILED: {
    status: 502,
    description:
      "Shopify could not be reached during an install, or refused the shop's webhook subscriptions; installing again retries",
  },
} as const;

type InstallErrorCode = keyof typeof INSTALL_ERRORS;

class InstallError extends Error {
  readonly code: InstallErrorCode;
  constructor(code: InstallErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A shop as the `shops` table holds it; the library also accepts other Shopify domains. */
const MYSHOPIFY = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

/**
 * Topics Shopify does not accept through `webhookSubscriptionCreate`: the compliance topics are
 * subscribed in the app's configuration (Partner Dashboard or shopify.app.toml).
 */
export const COMPLIANCE_TOPICS: ReadonlySet<string> = new Set([
  'customers/data_request',
  'customers/redact',
  'shop/redact',
]);

/** The manifest's topics an install subscribes a shop to. */
export const INSTALL_TOPICS: readonly string[] = (manifest.webhooks.events as string[]).filter(
  (topic) => !COMPLIANCE_TOPICS.has(topic),
);

/** `products/update` → `PRODUCTS_UPDATE` (the Admin API's WebhookSubscriptionTopic). */
export const topicEnum = (topic: string): string => topic.replace('/', '_').toUpperCase();

const EXISTING_SUBSCRIPTIONS = /* GraphQL */ `
  query ExistingSubscriptions($callbackUrl: URL!, $after: String) {
    webhookSubscriptions(first: 100, callbackUrl: $callbackUrl, after: $after) {
      nodes { topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

const CREATE_SUBSCRIPTION = /* GraphQL */ `
  mutation CreateSubscription($topic: WebhookSubscriptionTopic!, $callbackUrl: URL!) {
    webhookSubscriptionCreate(topic: $topic, webhookSubscription: { callbackUrl: $callbackUrl, format: JSON }) {
      webhookSubscription { id }
      userErrors { field message }
    }
  }
`;

interface ExistingPage {
  webhookSubscriptions: {
    nodes: { topic: string; endpoint: { __typename: string; callbackUrl?: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

interface CreatePayload {
  webhookSubscriptionCreate: { webhookSubscription: { id: string } | null; userErrors: { message: string }[] };
}

/**
 * Subscribes `callbackUrl` to each topic the shop is not yet subscribed to there (installing
 * again creates nothing twice). Returns how many were created.
 */
export async function registerWebhooks(
  admin: ShopifyAdmin,
  callbackUrl: string,
  topics: readonly string[] = INSTALL_TOPICS,
): Promise<number> {
  const existing = new Set<string>();
  let after: string | null = null;
  do {
    const page: ExistingPage = await admin.request<ExistingPage>(EXISTING_SUBSCRIPTIONS, { callbackUrl, after });
    for (const node of page.webhookSubscriptions.nodes)
      if (node.endpoint.callbackUrl === callbackUrl) existing.add(node.topic);
    after = page.webhookSubscriptions.pageInfo.hasNextPage ? page.webhookSubscriptions.pageInfo.endCursor : null;
  } while (after);
  let created = 0;
  for (const topic of topics) {
    if (existing.has(topicEnum(topic))) continue;
    const answer = await admin.request<CreatePayload>(CREATE_SUBSCRIPTION, { topic: topicEnum(topic), callbackUrl });
    const problems = answer.webhookSubscriptionCreate.userErrors;
    if (problems.length > 0)
      throw new Error(
        `Shopify ${admin.shop} refused the ${topic} webhook: ${problems.map((p) => p.message).join('; ')}`,
      );
    created += 1;
  }
  return created;
}

/** The routes of the install flow (OAuth mode only). */
export function installRoutes(runtime: PluginRuntime<ShopifyConfig>, instance: () => ShopifyInstance): PluginRoute[] {
  const { mode } = runtime.config;
  if (!('appUrl' in mode)) return [];
  // The public URL may have a path (a proxy in front strips it): the redirect and the cookie carry it.
  const base = mode.appUrl.pathname.replace(/\/$/, '');
  return [
    {
      method: 'GET',
      path: INSTALL_PATH,
      access: 'public',
      handler: (request, response) => begin(runtime, instance(), `${base}${CALLBACK_PATH}`, request, response),
    },
    {
      method: 'GET',
      path: CALLBACK_PATH,
      access: 'public',
      handler: (request, response) => complete(runtime, instance(), `${mode.appUrl.origin}${base}`, request, response),
    },
  ];
}

async function begin(
  runtime: PluginRuntime<ShopifyConfig>,
  instance: ShopifyInstance,
  callbackPath: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const shops = new URL(request.url ?? '/', 'http://localhost').searchParams.getAll('shop');
  const shop = shops.length === 1 ? shops[0]! : '';
  if (shop.length > 255 || !MYSHOPIFY.test(shop) || instance.api.utils.sanitizeShop(shop) !== shop) {
    reply(response, 'SHOPIFY_SHOP_INVALID', 'The shop parameter must be one name.myshopify.com domain');
    return;
  }
  try {
    // Answers the 302 to the shop's authorize page, with the signed state cookie.
    await instance.api.auth.begin({ shop, callbackPath, isOnline: false, rawRequest: request, rawResponse: response });
  } catch (error) {
    runtime.log.error({ err: describe(error), shop }, 'shopify install could not begin');
    if (!response.headersSent) reply(response, 'SHOPIFY_INSTALL_FAILED', 'The install could not begin');
  }
}

async function complete(
  runtime: PluginRuntime<ShopifyConfig>,
  instance: ShopifyInstance,
  appUrl: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const { db, log } = runtime;
  let session: Session;
  try {
    const shop = new URL(request.url ?? '/', 'http://localhost').searchParams.get('shop') ?? '';
    if (!MYSHOPIFY.test(shop))
      throw new InstallError('SHOPIFY_SHOP_INVALID', 'The callback names no name.myshopify.com shop');
    // With the node adapter, the library sets its cookie headers on `response` itself (the state
    // cookie deleted, its session cookie, an id only, set).
    ({ session } = await instance.api.auth.callback({ rawRequest: request, rawResponse: response }));
    if (!session.accessToken || session.isOnline || session.shop !== shop)
      throw new InstallError('SHOPIFY_INSTALL_FAILED', 'Shopify answered without an offline token for the shop');
  } catch (error) {
    const failure = classify(error);
    log.warn({ code: failure.code, err: describe(error) }, 'shopify install refused');
    reply(response, failure.code, failure.message);
    return;
  }
  const { shop } = session;
  await db.query(shopifySql('shop-installed'), [session.id, shop, session.accessToken, session.scope ?? null]);
  // The cached client holds the token of an earlier install.
  instance.forgetAdmin(shop);
  const webhookUrl = `${appUrl}${runtime.config.webhookPath}`;
  let created: number;
  try {
    created = await registerWebhooks(await instance.admin(shop), webhookUrl);
  } catch (error) {
    log.error({ err: describe(error), shop }, 'shopify webhook registration failed');
    reply(
      response,
      'SHOPIFY_INSTALL_FAILED',
      `The app is installed on ${shop}, but its webhooks could not be registered; install again to retry`,
    );
    return;
  }
  log.info({ shop, scopes: session.scope, webhooksCreated: created }, 'shopify app installed');
  const page = `<!doctype html><meta charset="utf-8"><title>Installed</title><p>Plugboard is installed on ${escapeHtml(shop)}.</p>`;
  response.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(page),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  response.end(page);
}

function classify(error: unknown): { code: InstallErrorCode; message: string } {
  if (error instanceof InstallError) return { code: error.code, message: error.message };
  if (error instanceof InvalidShopError)
    return { code: 'SHOPIFY_SHOP_INVALID', message: 'The callback names no valid shop' };
  if (error instanceof CookieNotFound)
    return {
      code: 'SHOPIFY_OAUTH_INVALID',
      message: 'No valid install cookie came with the callback: begin the install again from this browser',
    };
  if (error instanceof InvalidOAuthError || error instanceof InvalidHmacError)
    return { code: 'SHOPIFY_OAUTH_INVALID', message: 'The callback failed its HMAC or state check' };
  if (error instanceof BotActivityDetected)
    return { code: 'SHOPIFY_OAUTH_INVALID', message: 'The install must be completed in a browser' };
  if (error instanceof HttpResponseError && error.response.code >= 400 && error.response.code < 500)
    return { code: 'SHOPIFY_CODE_REJECTED', message: 'Shopify refused the authorization code: install again' };
  return { code: 'SHOPIFY_INSTALL_FAILED', message: 'Shopify could not complete the install; try again' };
}

function reply(response: ServerResponse, code: InstallErrorCode, message: string): void {
  sendError(response, { code, status: INSTALL_ERRORS[code].status }, message, {
    headers: { 'cache-control': 'no-store' },
  });
}

/** What is logged of an error: its name and message (the library's never carry the token). */
function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Signed webhook deliveries as GitHub, Shopify and Stripe send them, about objects each changed
 * several times with later timestamps, and a sender that posts them concurrently over keep-alive
 * connections (so deliveries of one object arrive out of order, as providers' do), recording what
 * each delivery got back. The webhook benchmarks and the fault tests (test/faults/) share them.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import { shopifyWebhook } from './shopify-server.ts';
import type { StripeServer } from './stripe-server.ts';

export interface SignedDelivery {
  /** The provider's event id (the key of the plugin's webhook log). */
  id: string;
  body: string;
  headers: Record<string, string>;
  /** The object the delivery is about (`table/id`) and its state's version in this delivery. */
  object: string;
  version: string;
}

type Payload = Record<string, unknown> & { action?: string };
const githubExamples = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
  name: string;
  examples: Payload[];
}[];
const githubExample = (event: string, action: string) =>
  githubExamples.find((group) => group.name === event)!.examples.find((e) => e.action === action)!;

const START = Date.UTC(2030, 0, 1);

/**
 * `count` GitHub deliveries (GitHub's recorded payloads from @octokit/webhooks-examples: issues,
 * issue_comment, pull_request) about count / `changes` objects, each opened then edited with
 * later `updated_at`s, signed with @octokit/webhooks-methods as GitHub signs them. Objects land
 * in github.issues, github.issue_comments and github.pull_requests.
 */
export async function githubDeliveries(secret: string, count: number, changes = 5): Promise<SignedDelivery[]> {
  const kinds = [
    {
      event: 'issues',
      key: 'issue',
      table: 'issues',
      opened: githubExample('issues', 'opened'),
      edited: githubExample('issues', 'edited'),
    },
    {
      event: 'issue_comment',
      key: 'comment',
      table: 'issue_comments',
      opened: githubExample('issue_comment', 'created'),
      edited: githubExample('issue_comment', 'edited'),
    },
    {
      event: 'pull_request',
      key: 'pull_request',
      table: 'pull_requests',
      opened: githubExample('pull_request', 'opened'),
      edited: githubExample('pull_request', 'synchronize'),
    },
  ];
  const objects = Math.ceil(count / changes);
  const deliveries: SignedDelivery[] = [];
  for (let change = 0; change < changes; change++) {
    for (let n = 0; n < objects && deliveries.length < count; n++) {
      const kind = kinds[n % kinds.length]!;
      const template = change === 0 ? kind.opened : kind.edited;
      const object = template[kind.key] as Record<string, unknown>;
      const id = 7_000_000_000 + n;
      const updatedAt = new Date(START + (n * changes + change) * 1000).toISOString();
      const body = JSON.stringify({
        ...template,
        [kind.key]: { ...object, id, title: `object ${n} change ${change}`, updated_at: updatedAt },
      });
      const delivery = randomUUID();
      deliveries.push({
        id: delivery,
        body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': kind.event,
          'x-github-delivery': delivery,
          'x-hub-signature-256': await sign(secret, body),
        },
        object: `${kind.table}/${id}`,
        version: updatedAt,
      });
    }
  }
  return deliveries;
}

type ShopifyPayload = Record<string, unknown> & { id: number };
const shopifyFixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/shopify/${name}.json`, import.meta.url), 'utf8')) as ShopifyPayload;

/** A child list with ids made unique to its parent `n`. */
const renumber = (list: unknown, n: number) =>
  (list as ShopifyPayload[] | undefined)?.map((child, i) => ({ ...child, id: 9_000_000_000 + n * 100 + i }));

/**
 * `count` Shopify deliveries (Shopify's documented payloads in test/fixtures/shopify:
 * products/update with its variants, orders/updated with line items and fulfillments,
 * customers/update) about count / `changes` objects of `shop`, each changed with later
 * `updated_at`s, signed as Shopify signs them. Objects land in shopify.products, shopify.orders
 * and shopify.customers.
 */
export function shopifyDeliveries(secret: string, shop: string, count: number, changes = 5): SignedDelivery[] {
  const kinds = [
    { topic: 'products/update', table: 'products', gid: 'Product', payload: shopifyFixture('products-create') },
    { topic: 'orders/updated', table: 'orders', gid: 'Order', payload: shopifyFixture('orders-create') },
    { topic: 'customers/update', table: 'customers', gid: 'Customer', payload: shopifyFixture('customers-create') },
  ];
  const objects = Math.ceil(count / changes);
  const deliveries: SignedDelivery[] = [];
  for (let change = 0; change < changes; change++) {
    for (let n = 0; n < objects && deliveries.length < count; n++) {
      const { topic, table, gid, payload } = kinds[n % kinds.length]!;
      const id = 7_000_000_000 + n;
      const updatedAt = new Date(START + (n * changes + change) * 1000).toISOString();
      const body: ShopifyPayload = {
        ...payload,
        id,
        admin_graphql_api_id: `gid://shopify/${gid}/${id}`,
        updated_at: updatedAt,
      };
      if (payload['variants']) body['variants'] = renumber(payload['variants'], n);
      if (payload['line_items']) body['line_items'] = renumber(payload['line_items'], n);
      if (payload['fulfillments']) body['fulfillments'] = renumber(payload['fulfillments'], n);
      const webhookId = randomUUID();
      const signed = shopifyWebhook(secret, topic, shop, body, { webhookId });
      deliveries.push({ id: webhookId, ...signed, object: `${table}/${id}`, version: updatedAt });
    }
  }
  return deliveries;
}

/**
 * About `count` Stripe events from the local stand-in: customers created, then changed
 * `changes - 1` times each (a new email each time), signed with `secret`. A customer's version
 * is its email; the stand-in holds the newest.
 */
export function stripeDeliveries(stripe: StripeServer, secret: string, count: number, changes = 5): SignedDelivery[] {
  const customers = Array.from({ length: Math.ceil(count / changes) }, () => stripe.create('customer', {}).object);
  for (let change = 1; change < changes; change++)
    for (const customer of customers)
      stripe.update('customer', customer.id, { email: `change-${change}.${customer.id}@example.com` });
  const ids = new Set(customers.map((customer) => customer.id));
  return stripe
    .events()
    .filter((event) => ids.has(event.data.object.id))
    .map((event) => {
      const customer = event.data.object;
      return {
        id: event.id,
        ...stripe.signedWebhook(event, secret),
        object: `customers/${customer.id}`,
        version: String(customer['email'] ?? ''),
      };
    });
}

export type DeliveryOutcome = 'acknowledged' | 'refused' | 'unanswered';

export interface LoadRun {
  /** What each delivery got, by its index: a 2xx, another status, or no answer at all. */
  outcomes: DeliveryOutcome[];
  /** The 2xx bodies, by index (the webhook route answers `{ received, duplicate }`). */
  answers: (Record<string, unknown> | null)[];
  /** Acknowledgements a second until `interrupt` ran (or until the end). */
  rate: number;
  /** Deliveries sent and not yet answered when `interrupt` ran. */
  inFlightAtInterrupt: number;
}

/**
 * Posts every delivery to `url`, `concurrency` at a time over keep-alive connections. Once
 * `interruptAfter` deliveries are acknowledged, `interrupt` runs once (e.g. SIGKILLs the
 * server); sending goes on, and what finds no server counts as unanswered.
 */
export async function postConcurrently(
  url: string,
  deliveries: readonly { body: string; headers: Record<string, string> }[],
  options: { concurrency: number; interruptAfter?: number; interrupt?: () => Promise<unknown> },
): Promise<LoadRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const outcomes: DeliveryOutcome[] = new Array(deliveries.length);
  const answers: (Record<string, unknown> | null)[] = new Array(deliveries.length).fill(null);
  let next = 0;
  let acknowledged = 0;
  let inFlight = 0;
  let interruption: { inFlight: number; acknowledged: number; at: number; done: Promise<unknown> } | undefined;
  const started = performance.now();
  const post = (index: number) =>
    new Promise<void>((resolve) => {
      const { body, headers } = deliveries[index]!;
      const settle = (outcome: DeliveryOutcome, answer: Record<string, unknown> | null = null) => {
        outcomes[index] = outcome;
        answers[index] = answer;
        resolve();
      };
      const req = request(
        url,
        { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('error', () => settle('unanswered'));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (status < 200 || status >= 300) return settle('refused');
            acknowledged++;
            settle('acknowledged', JSON.parse(text) as Record<string, unknown>);
          });
        },
      );
      req.on('error', () => settle('unanswered'));
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < deliveries.length) {
        const index = next++;
        inFlight++;
        await post(index);
        inFlight--;
        if (!interruption && options.interrupt && acknowledged >= (options.interruptAfter ?? 0))
          interruption = { inFlight, acknowledged, at: performance.now(), done: options.interrupt() };
      }
    }),
  );
  agent.destroy();
  await interruption?.done;
  const until = interruption ?? { at: performance.now(), acknowledged };
  return {
    outcomes,
    answers,
    rate: (until.acknowledged / (until.at - started)) * 1000,
    inFlightAtInterrupt: interruption?.inFlight ?? 0,
  };
}

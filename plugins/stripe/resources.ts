/**
 * The Stripe resources this plugin syncs: the table each lands in, the `object` value Stripe
 * gives it, and how to list and retrieve it with the SDK.
 */
import type Stripe from 'stripe';
import type { SyncResource, SyncTables } from '../../gateway/sdk.ts';

export const RESOURCES = [
  'customers',
  'subscriptions',
  'subscription_items',
  'invoices',
  'payment_intents',
  'charges',
  'refunds',
  'disputes',
  'payouts',
  'products',
  'prices',
  'events',
] as const;

export type Resource = (typeof RESOURCES)[number];
/** Resources whose objects live in their own table (events live in the webhook log). */
export type ObjectResource = Exclude<Resource, 'events'>;

export const OBJECT_RESOURCES = RESOURCES.filter((r): r is ObjectResource => r !== 'events');

/** Stripe's `object` value → table. */
export const TABLE_OF_OBJECT: Readonly<Record<string, ObjectResource>> = {
  customer: 'customers',
  subscription: 'subscriptions',
  subscription_item: 'subscription_items',
  invoice: 'invoices',
  payment_intent: 'payment_intents',
  charge: 'charges',
  refund: 'refunds',
  dispute: 'disputes',
  payout: 'payouts',
  product: 'products',
  price: 'prices',
};

export interface StripeObject {
  id: string;
  object: string;
  created?: number;
  deleted?: boolean;
  [key: string]: unknown;
}

type ListParams = { limit: number; starting_after?: string; created?: { gte?: number }; status?: string };
type Lister = (stripe: Stripe, params: ListParams) => Promise<Stripe.ApiList<StripeObject>>;
type Retriever = (stripe: Stripe, id: string) => Promise<StripeObject>;

const cast = <T>(value: Promise<T>) => value as unknown as Promise<Stripe.ApiList<StripeObject>>;
const one = <T>(value: Promise<T>) => value as unknown as Promise<StripeObject>;

/**
 * List and retrieve per resource. Subscription items have no account-wide list in Stripe: they
 * arrive inside their subscriptions (and `subscription_items` is synced with them).
 */
export const API: Record<Exclude<ObjectResource, 'subscription_items'>, { list: Lister; retrieve: Retriever }> & {
  subscription_items: { retrieve: Retriever };
} = {
  customers: { list: (s, p) => cast(s.customers.list(p)), retrieve: (s, id) => one(s.customers.retrieve(id)) },
  subscriptions: {
    list: (s, p) => cast(s.subscriptions.list({ ...p, status: 'all' })),
    retrieve: (s, id) => one(s.subscriptions.retrieve(id)),
  },
  subscription_items: { retrieve: (s, id) => one(s.subscriptionItems.retrieve(id)) },
  invoices: { list: (s, p) => cast(s.invoices.list(p)), retrieve: (s, id) => one(s.invoices.retrieve(id)) },
  payment_intents: {
    list: (s, p) => cast(s.paymentIntents.list(p)),
    retrieve: (s, id) => one(s.paymentIntents.retrieve(id)),
  },
  charges: { list: (s, p) => cast(s.charges.list(p)), retrieve: (s, id) => one(s.charges.retrieve(id)) },
  refunds: { list: (s, p) => cast(s.refunds.list(p)), retrieve: (s, id) => one(s.refunds.retrieve(id)) },
  disputes: { list: (s, p) => cast(s.disputes.list(p)), retrieve: (s, id) => one(s.disputes.retrieve(id)) },
  payouts: { list: (s, p) => cast(s.payouts.list(p)), retrieve: (s, id) => one(s.payouts.retrieve(id)) },
  products: { list: (s, p) => cast(s.products.list(p)), retrieve: (s, id) => one(s.products.retrieve(id)) },
  prices: { list: (s, p) => cast(s.prices.list(p)), retrieve: (s, id) => one(s.prices.retrieve(id)) },
};

const PAGE = 100;

interface ItemList {
  data?: StripeObject[];
  has_more?: boolean;
}

/** The items a subscription object carries, as stored (each naming its subscription); `complete` when none were left out. */
function itemsOf(subscription: StripeObject): { objects: StripeObject[]; complete: boolean } | undefined {
  const items = subscription['items'] as ItemList | undefined;
  if (!items?.data) return undefined;
  return {
    objects: items.data.map((item) => ({ ...item, subscription: item['subscription'] ?? subscription.id })),
    complete: !items.has_more,
  };
}

/**
 * The resources for the sync core: list newest first in pages of 100 (the cursor is the last
 * id, Stripe's `starting_after`; `since` filters on `created`), retrieve one (gone: null), and
 * subscription items carried in their subscriptions.
 */
export function stripeSyncTables(stripe: () => Promise<Stripe>): SyncTables {
  const retrieve = (table: ObjectResource) => async (id: string) => {
    try {
      return await API[table].retrieve(await stripe(), id);
    } catch (error) {
      if ((error as { code?: string }).code === 'resource_missing') return null;
      throw error;
    }
  };
  const resources = OBJECT_RESOURCES.map((table): SyncResource => {
    if (table === 'subscription_items') return { table, retrieve: retrieve(table) };
    return {
      table,
      async list({ cursor, since }) {
        const page = await API[table].list(await stripe(), {
          limit: PAGE,
          ...(cursor ? { starting_after: cursor } : {}),
          ...(since ? { created: { gte: Math.floor(since.getTime() / 1000) } } : {}),
        });
        return { objects: page.data, next: page.has_more ? (page.data.at(-1)?.id ?? null) : null };
      },
      retrieve: retrieve(table),
      ...(table === 'subscriptions'
        ? {
            children: [
              {
                table: 'subscription_items',
                parentColumn: 'subscription',
                of: (subscription) => itemsOf(subscription as StripeObject),
              },
            ],
          }
        : {}),
    };
  });
  return { schema: 'stripe', versionColumn: 'stripe_at', resources };
}

/**
 * How each synced Stripe table appears in GraphQL (the sync core builds the types, root fields
 * and planned statements from it: gateway/sync/views.ts): its type, the typed columns it
 * exposes, the filters its connection takes and its relations, which follow the id columns
 * generated from the objects.
 */
import {
  type ColumnType,
  type Filter,
  type Relation,
  type SyncView,
  type SyncViews,
  camelCase,
} from '../../gateway/sdk.ts';
import type { ObjectResource } from './resources.ts';

interface ResourceView {
  /** GraphQL type, e.g. StripeCustomer; the root fields are stripeCustomer(id) and stripeCustomers. */
  type: string;
  single: string;
  plural: string;
  description: string;
  /** Generated columns exposed as fields (camelCased). */
  columns: Record<string, Exclude<ColumnType, 'JSON'>>;
  /** Connection arguments: column → exact match (`email` matches case-insensitively). */
  filters: Record<string, 'String' | 'Boolean'>;
  /** field → the table whose id this row's column holds. */
  belongsTo?: Record<string, { table: ObjectResource; column: string }>;
  /** field → rows of another table whose column holds this row's id. */
  hasMany?: Record<string, { table: ObjectResource; column: string }>;
}

const VIEWS: Record<ObjectResource, ResourceView> = {
  customers: {
    type: 'StripeCustomer',
    single: 'stripeCustomer',
    plural: 'stripeCustomers',
    description: 'A Stripe customer.',
    columns: {
      email: 'String',
      name: 'String',
      description: 'String',
      currency: 'String',
      balance: 'BigInt',
      delinquent: 'Boolean',
    },
    filters: { email: 'String' },
    hasMany: {
      subscriptions: { table: 'subscriptions', column: 'customer' },
      invoices: { table: 'invoices', column: 'customer' },
      charges: { table: 'charges', column: 'customer' },
      paymentIntents: { table: 'payment_intents', column: 'customer' },
    },
  },
  subscriptions: {
    type: 'StripeSubscription',
    single: 'stripeSubscription',
    plural: 'stripeSubscriptions',
    description: 'A Stripe subscription.',
    columns: {
      status: 'String',
      currency: 'String',
      cancel_at_period_end: 'Boolean',
      current_period_start: 'DateTime',
      current_period_end: 'DateTime',
      canceled_at: 'DateTime',
    },
    filters: { status: 'String', customer: 'String' },
    belongsTo: { customer: { table: 'customers', column: 'customer' } },
    hasMany: {
      items: { table: 'subscription_items', column: 'subscription' },
      invoices: { table: 'invoices', column: 'subscription' },
    },
  },
  subscription_items: {
    type: 'StripeSubscriptionItem',
    single: 'stripeSubscriptionItem',
    plural: 'stripeSubscriptionItems',
    description: 'One price on a subscription, with its quantity.',
    columns: { quantity: 'BigInt' },
    filters: { subscription: 'String', price: 'String' },
    belongsTo: {
      subscription: { table: 'subscriptions', column: 'subscription' },
      price: { table: 'prices', column: 'price' },
      product: { table: 'products', column: 'product' },
    },
  },
  invoices: {
    type: 'StripeInvoice',
    single: 'stripeInvoice',
    plural: 'stripeInvoices',
    description: 'A Stripe invoice.',
    columns: {
      status: 'String',
      number: 'String',
      currency: 'String',
      total: 'BigInt',
      amount_due: 'BigInt',
      amount_paid: 'BigInt',
      due_date: 'DateTime',
    },
    filters: { status: 'String', customer: 'String', subscription: 'String' },
    belongsTo: {
      customer: { table: 'customers', column: 'customer' },
      subscription: { table: 'subscriptions', column: 'subscription' },
    },
    hasMany: { charges: { table: 'charges', column: 'invoice' } },
  },
  payment_intents: {
    type: 'StripePaymentIntent',
    single: 'stripePaymentIntent',
    plural: 'stripePaymentIntents',
    description: 'A Stripe payment intent.',
    columns: { status: 'String', amount: 'BigInt', currency: 'String' },
    filters: { status: 'String', customer: 'String', invoice: 'String' },
    belongsTo: {
      customer: { table: 'customers', column: 'customer' },
      invoice: { table: 'invoices', column: 'invoice' },
      latestCharge: { table: 'charges', column: 'latest_charge' },
    },
    hasMany: { charges: { table: 'charges', column: 'payment_intent' } },
  },
  charges: {
    type: 'StripeCharge',
    single: 'stripeCharge',
    plural: 'stripeCharges',
    description: 'A Stripe charge.',
    columns: {
      status: 'String',
      amount: 'BigInt',
      amount_refunded: 'BigInt',
      currency: 'String',
      paid: 'Boolean',
      refunded: 'Boolean',
    },
    filters: { customer: 'String', status: 'String', invoice: 'String', payment_intent: 'String' },
    belongsTo: {
      customer: { table: 'customers', column: 'customer' },
      invoice: { table: 'invoices', column: 'invoice' },
      paymentIntent: { table: 'payment_intents', column: 'payment_intent' },
    },
    hasMany: {
      refunds: { table: 'refunds', column: 'charge' },
      disputes: { table: 'disputes', column: 'charge' },
    },
  },
  refunds: {
    type: 'StripeRefund',
    single: 'stripeRefund',
    plural: 'stripeRefunds',
    description: 'A refund of a charge.',
    columns: { status: 'String', reason: 'String', amount: 'BigInt', currency: 'String' },
    filters: { charge: 'String', payment_intent: 'String', status: 'String' },
    belongsTo: {
      charge: { table: 'charges', column: 'charge' },
      paymentIntent: { table: 'payment_intents', column: 'payment_intent' },
    },
  },
  disputes: {
    type: 'StripeDispute',
    single: 'stripeDispute',
    plural: 'stripeDisputes',
    description: 'A dispute of a charge.',
    columns: { status: 'String', reason: 'String', amount: 'BigInt', currency: 'String' },
    filters: { charge: 'String', payment_intent: 'String', status: 'String' },
    belongsTo: {
      charge: { table: 'charges', column: 'charge' },
      paymentIntent: { table: 'payment_intents', column: 'payment_intent' },
    },
  },
  payouts: {
    type: 'StripePayout',
    single: 'stripePayout',
    plural: 'stripePayouts',
    description: 'A payout to a bank account or card.',
    columns: { status: 'String', amount: 'BigInt', currency: 'String', method: 'String', arrival_date: 'DateTime' },
    filters: { status: 'String' },
  },
  products: {
    type: 'StripeProduct',
    single: 'stripeProduct',
    plural: 'stripeProducts',
    description: 'A Stripe product.',
    columns: { name: 'String', description: 'String', active: 'Boolean' },
    filters: { active: 'Boolean' },
    belongsTo: { defaultPrice: { table: 'prices', column: 'default_price' } },
    hasMany: { prices: { table: 'prices', column: 'product' } },
  },
  prices: {
    type: 'StripePrice',
    single: 'stripePrice',
    plural: 'stripePrices',
    description: 'A price of a product.',
    columns: {
      active: 'Boolean',
      currency: 'String',
      unit_amount: 'BigInt',
      type: 'String',
      recurring_interval: 'String',
      recurring_interval_count: 'Int',
      nickname: 'String',
      lookup_key: 'String',
    },
    filters: { product: 'String', active: 'Boolean', type: 'String', lookup_key: 'String' },
    belongsTo: { product: { table: 'products', column: 'product' } },
  },
};

const mapValues = <T, U>(record: Record<string, T> | undefined, map: (value: T, key: string) => U) =>
  Object.fromEntries(Object.entries(record ?? {}).map(([key, value]) => [key, map(value, key)]));

function syncView(view: ResourceView): SyncView {
  return {
    type: view.type,
    description: view.description,
    single: view.single,
    plural: view.plural,
    fields: Object.fromEntries(
      Object.entries(view.columns).map(([column, type]) => [camelCase(column), { type, column }]),
    ),
    filters: Object.fromEntries(
      Object.entries(view.filters).map(([column, type]): [string, Filter] => [
        camelCase(column),
        { type, column, ...(column === 'email' ? { match: 'caseInsensitive' as const } : {}) },
      ]),
    ),
    belongsTo: mapValues(view.belongsTo, ({ table, column }): Relation => ({ table, on: { id: column } })),
    hasMany: mapValues(view.hasMany, ({ table, column }): Relation => ({ table, on: { [column]: 'id' } })),
  };
}

/** The Stripe tables' views, readable by admins and by the roles in STRIPE_READ_ROLES. */
export function stripeViews(readRoles: () => readonly string[]): SyncViews {
  return {
    prefix: 'Stripe',
    schema: 'stripe',
    commonFields: {
      created: 'DateTime',
      stripeAt: {
        type: 'DateTime',
        column: 'stripe_at',
        nullable: false,
        description: 'Stripe-side time of the state this row holds; an older state never replaces it.',
      },
      metadata: { type: 'JSON', path: 'metadata' },
    },
    orders: { CREATED: 'created' },
    range: { from: 'createdFrom', to: 'createdTo' },
    relationStyle: 'list',
    filterStyle: 'arguments',
    views: mapValues(VIEWS, syncView),
    mayRead: (session) => session.role === 'admin' || readRoles().includes(session.role),
  };
}

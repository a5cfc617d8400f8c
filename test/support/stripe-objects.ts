/**
 * Builders for Stripe API objects in their real wire shapes (customer, subscription, invoice, …),
 * compact but realistic: the fields a sync cares about are all present, with varied ids, timestamps
 * and values. Used by the local Stripe stand-in (stripe-server.ts) and directly by tests.
 *
 * Shapes follow Stripe's API reference for the SDK's default API version, plus a few fields that
 * newer API versions moved elsewhere but which syncs still commonly read (top-level
 * `subscription.current_period_start/end`, `invoice.subscription/charge/payment_intent`,
 * `payment_intent.invoice`, `charge.invoice`); the modern locations are filled in as well
 * (`items.data[].current_period_*`, `invoice.parent.subscription_details.subscription`).
 */

export type StripeResourceType =
  | 'customer'
  | 'subscription'
  | 'subscription_item'
  | 'invoice'
  | 'payment_intent'
  | 'charge'
  | 'refund'
  | 'dispute'
  | 'payout'
  | 'product'
  | 'price';

export const STRIPE_RESOURCE_TYPES: readonly StripeResourceType[] = [
  'customer',
  'subscription',
  'subscription_item',
  'invoice',
  'payment_intent',
  'charge',
  'refund',
  'dispute',
  'payout',
  'product',
  'price',
];

/** The id prefix Stripe uses per object type (`cus_…`, `sub_…`, …). */
export const ID_PREFIX: Readonly<Record<StripeResourceType, string>> = {
  customer: 'cus',
  subscription: 'sub',
  subscription_item: 'si',
  invoice: 'in',
  payment_intent: 'pi',
  charge: 'ch',
  refund: 're',
  dispute: 'dp',
  payout: 'po',
  product: 'prod',
  price: 'price',
};

/** A Stripe API object as it goes over the wire. */
export interface StripeObject {
  id: string;
  object: string;
  created: number;
  [key: string]: unknown;
}

/** What Stripe answers for a deleted customer/product/price/invoice/subscription item. */
export interface DeletedStripeObject {
  id: string;
  object: string;
  deleted: true;
}

export interface StripeList<T = StripeObject> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
  total_count?: number;
}

export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string | null;
  created: number;
  data: { object: StripeObject; previous_attributes?: Record<string, unknown> };
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export type Overrides = Record<string, unknown>;

export interface BuildContext {
  /** "Now" in unix seconds; defaults to the wall clock. Periods, due dates etc. are relative to it. */
  now?: number;
}

// ---------------------------------------------------------------------------------------------
// Randomness helpers
// ---------------------------------------------------------------------------------------------

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DAY = 86_400;

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

const ALNUM_CODES = Array.from(ALNUM, (c) => c.charCodeAt(0));
const codeBuffer: number[] = [];

/** Random [A-Za-z0-9]{length}, as one flat string (char-by-char `+=` would build a costly rope). */
export function randomAlnum(length: number): string {
  codeBuffer.length = length;
  for (let i = 0; i < length; i++) codeBuffer[i] = ALNUM_CODES[Math.floor(Math.random() * 62)] as number;
  return String.fromCharCode.apply(null, codeBuffer);
}

/** `prefix_` + 14–24 random alphanumerics, like Stripe's ids. */
export function stripeId(prefix: string): string {
  return `${prefix}_${randomAlnum(randomInt(14, 24))}`;
}

export function requestId(): string {
  return `req_${randomAlnum(14)}`;
}

function pick<T>(values: readonly T[]): T {
  return values[Math.floor(Math.random() * values.length)] as T;
}

/** Picks by weight: `weighted([['active', 8], ['canceled', 1]])`. */
function weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
  let total = 0;
  for (const [, w] of entries) total += w;
  let r = Math.random() * total;
  for (const [value, w] of entries) {
    r -= w;
    if (r < 0) return value;
  }
  return (entries[entries.length - 1] as readonly [T, number])[0];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function has(overrides: Overrides, key: string): boolean {
  return Object.hasOwn(overrides, key);
}

/** The override when one was given (even null), else the default. */
function ov<T>(overrides: Overrides, key: string, fallback: T): T {
  return has(overrides, key) ? (overrides[key] as T) : fallback;
}

function omit(overrides: Overrides, keys: readonly string[]): Overrides {
  const out: Overrides = {};
  for (const key of Object.keys(overrides)) if (!keys.includes(key)) out[key] = overrides[key];
  return out;
}

function defaultCreated(ctx: BuildContext): number {
  return (ctx.now ?? nowSeconds()) - randomInt(0, 90 * DAY);
}

const FIRST_NAMES = [
  'Jenny',
  'Ada',
  'Grace',
  'Linus',
  'Margaret',
  'Alan',
  'Katherine',
  'Dennis',
  'Barbara',
  'Ken',
  'Radia',
  'Tim',
  'Frances',
  'Guido',
  'Hedy',
  'Edsger',
];
const LAST_NAMES = [
  'Rosen',
  'Lovelace',
  'Hopper',
  'Torvalds',
  'Hamilton',
  'Turing',
  'Johnson',
  'Ritchie',
  'Liskov',
  'Thompson',
  'Perlman',
  'Berners-Lee',
  'Allen',
  'van Rossum',
  'Lamarr',
  'Dijkstra',
];
const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.test'];
const CURRENCIES = [
  ['usd', 8],
  ['eur', 2],
  ['gbp', 1],
] as const;
const PRODUCT_NAMES = [
  'Starter plan',
  'Pro plan',
  'Team seat',
  'Enterprise add-on',
  'Storage pack',
  'Priority support',
  'T-shirt',
  'API credits',
  'Analytics module',
  'SSO add-on',
];
const CARD_BRANDS = ['visa', 'mastercard', 'amex', 'discover'];

function personName(): string {
  return `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`;
}

function emailFor(name: string): string {
  return `${name.toLowerCase().replace(/[^a-z]+/g, '.')}.${randomAlnum(5).toLowerCase()}@${pick(DOMAINS)}`;
}

function amount(min: number, max: number): number {
  return randomInt(min / 100, max / 100) * 100 + pick([0, 0, 0, 99, 50]);
}

// ---------------------------------------------------------------------------------------------
// Periods
// ---------------------------------------------------------------------------------------------

export type Interval = 'day' | 'week' | 'month' | 'year';

/** `ts` moved forward by `n` × (`count` × `interval`), with calendar months/years like Stripe. */
export function addInterval(ts: number, interval: Interval, count: number, n = 1): number {
  if (interval === 'day') return ts + n * count * DAY;
  if (interval === 'week') return ts + n * count * 7 * DAY;
  const d = new Date(ts * 1000);
  if (interval === 'month') d.setUTCMonth(d.getUTCMonth() + n * count);
  else d.setUTCFullYear(d.getUTCFullYear() + n * count);
  return Math.floor(d.getTime() / 1000);
}

/** The billing period (anchored at `anchor`) that contains `now`; the first one if `now` is earlier. */
export function currentPeriod(
  anchor: number,
  interval: Interval,
  count: number,
  now: number,
): { start: number; end: number } {
  let start = anchor;
  let end = addInterval(anchor, interval, count);
  if (now >= end) {
    // Jump close, then step: avoids O(periods) loops for old daily subscriptions.
    const approx =
      interval === 'day' ? DAY : interval === 'week' ? 7 * DAY : interval === 'month' ? 28 * DAY : 365 * DAY;
    let n = Math.max(0, Math.floor((now - anchor) / (approx * count)) - 1);
    while (addInterval(anchor, interval, count, n + 1) <= now) n++;
    while (n > 0 && addInterval(anchor, interval, count, n) > now) n--;
    start = addInterval(anchor, interval, count, n);
    end = addInterval(anchor, interval, count, n + 1);
  }
  return { start, end };
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

export function buildCustomer(overrides: Overrides = {}, ctx: BuildContext = {}): StripeObject {
  const name = has(overrides, 'name') ? (overrides.name as string | null) : personName();
  const email = has(overrides, 'email') ? (overrides.email as string | null) : emailFor(name ?? 'customer');
  return {
    id: str(overrides.id) ?? stripeId('cus'),
    object: 'customer',
    address: null,
    balance: Math.random() < 0.9 ? 0 : -randomInt(1, 50) * 100,
    created: num(overrides.created) ?? defaultCreated(ctx),
    currency: weighted<string | null>([...CURRENCIES, [null, 1]]),
    default_source: null,
    delinquent: Math.random() < 0.05,
    description:
      Math.random() < 0.3
        ? pick(['Trial signup', 'Imported from legacy billing', 'Enterprise lead', 'Referred by partner'])
        : null,
    discount: null,
    email,
    invoice_prefix: randomAlnum(8).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: {},
    name,
    next_invoice_sequence: randomInt(1, 12),
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
    ...omit(overrides, ['id', 'created', 'name', 'email']),
  };
}

export function buildProduct(overrides: Overrides = {}, ctx: BuildContext = {}): StripeObject {
  const created = num(overrides.created) ?? defaultCreated(ctx);
  return {
    id: str(overrides.id) ?? stripeId('prod'),
    object: 'product',
    active: Math.random() < 0.9,
    created,
    default_price: Math.random() < 0.7 ? stripeId('price') : null,
    description:
      Math.random() < 0.6
        ? pick([
            'Billed monthly',
            'Everything in Starter, plus more',
            'Per-seat pricing',
            'Comfortable gray cotton t-shirt',
          ])
        : null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: {},
    name: pick(PRODUCT_NAMES),
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    type: 'service',
    unit_label: null,
    updated: created + randomInt(0, 30 * DAY),
    url: null,
    ...omit(overrides, ['id', 'created']),
  };
}

export function buildPrice(overrides: Overrides = {}, ctx: BuildContext = {}): StripeObject {
  const type = ov<string>(overrides, 'type', Math.random() < 0.8 ? 'recurring' : 'one_time');
  const interval = weighted<Interval>([
    ['month', 6],
    ['year', 3],
    ['week', 1],
  ]);
  const unitAmount = ov<number | null>(overrides, 'unit_amount', pick([500, 900, 1500, 2000, 2900, 4900, 9900, 19900]));
  return {
    id: str(overrides.id) ?? stripeId('price'),
    object: 'price',
    active: Math.random() < 0.9,
    billing_scheme: 'per_unit',
    created: num(overrides.created) ?? defaultCreated(ctx),
    currency: weighted<string>(CURRENCIES),
    custom_unit_amount: null,
    livemode: false,
    lookup_key:
      Math.random() < 0.4 ? `${pick(['starter', 'pro', 'team'])}_${interval}ly_${randomAlnum(4).toLowerCase()}` : null,
    metadata: {},
    nickname: Math.random() < 0.5 ? pick(['Monthly', 'Annual', 'Launch pricing', 'Legacy']) : null,
    product: stripeId('prod'),
    recurring:
      type === 'recurring'
        ? {
            interval,
            interval_count: Math.random() < 0.9 ? 1 : 3,
            meter: null,
            trial_period_days: null,
            usage_type: 'licensed',
          }
        : null,
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type,
    unit_amount: unitAmount,
    unit_amount_decimal: unitAmount === null ? null : String(unitAmount),
    ...omit(overrides, ['id', 'created', 'type', 'unit_amount']),
  };
}

/** The deprecated `plan` Stripe still embeds next to `price` in subscription items. */
function planFromPrice(price: StripeObject): StripeObject | null {
  const recurring = price.recurring as { interval: Interval; interval_count: number; usage_type?: string } | null;
  if (!recurring) return null;
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: recurring.interval,
    interval_count: recurring.interval_count,
    livemode: false,
    metadata: {},
    meter: null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: recurring.usage_type ?? 'licensed',
  };
}

function recurringOf(price: StripeObject): { interval: Interval; interval_count: number } {
  const recurring = price.recurring as { interval: Interval; interval_count: number } | null | undefined;
  return recurring ?? { interval: 'month', interval_count: 1 };
}

/** `price` override: a full price object (embedded as is); default: a fresh recurring price. */
export function buildSubscriptionItem(overrides: Overrides = {}, ctx: BuildContext = {}): StripeObject {
  const created = num(overrides.created) ?? defaultCreated(ctx);
  const price = (overrides.price as StripeObject | undefined) ?? buildPrice({ type: 'recurring', active: true }, ctx);
  const { interval, interval_count } = recurringOf(price);
  const period = currentPeriod(created, interval, interval_count, ctx.now ?? nowSeconds());
  return {
    id: str(overrides.id) ?? stripeId('si'),
    object: 'subscription_item',
    billing_thresholds: null,
    created,
    current_period_end: period.end,
    current_period_start: period.start,
    discounts: [],
    metadata: {},
    plan: planFromPrice(price),
    price,
    quantity: Math.random() < 0.8 ? 1 : randomInt(2, 25),
    subscription: stripeId('sub'),
    tax_rates: [],
    ...omit(overrides, ['id', 'created', 'price']),
  };
}

export function subscriptionItemsList(subscriptionId: string, items: StripeObject[]): StripeList {
  return {
    object: 'list',
    data: items,
    has_more: false,
    total_count: items.length,
    url: `/v1/subscription_items?subscription=${subscriptionId}`,
  };
}

/**
 * Special overrides: `price` (a price object for the default single item), `quantity`, and `items`
 * (an array of subscription items or of overrides for them, or a list envelope).
 */
export function buildSubscription(overrides: Overrides = {}, ctx: BuildContext = {}): StripeObject {
  const id = str(overrides.id) ?? stripeId('sub');
  const now = ctx.now ?? nowSeconds();
  const created = num(overrides.created) ?? defaultCreated(ctx);
  const status = ov<string>(
    overrides,
    'status',
    weighted([
      ['active', 14],
      ['trialing', 2],
      ['past_due', 1],
      ['canceled', 2],
      ['unpaid', 1],
    ]),
  );

  let items: StripeObject[];
  const given = overrides.items;
  const givenList = Array.isArray(given)
    ? (given as Overrides[])
    : given && typeof given === 'object'
      ? ((given as StripeList).data as Overrides[])
      : undefined;
  if (givenList) {
    items = givenList.map((item) =>
      item.object === 'subscription_item' && typeof item.id === 'string'
        ? (item as StripeObject)
        : buildSubscriptionItem({ created, ...item, subscription: id }, ctx),
    );
  } else {
    const itemOverrides: Overrides = { created, subscription: id };
    if (overrides.price) itemOverrides.price = overrides.price;
    if (has(overrides, 'quantity')) itemOverrides.quantity = overrides.quantity;
    items = [buildSubscriptionItem(itemOverrides, ctx)];
  }
  const first = items[0];
  const price = (first?.price as StripeObject | undefined) ?? buildPrice({ type: 'recurring' }, ctx);
  const { interval, interval_count } = recurringOf(price);
  const period = currentPeriod(created, interval, interval_count, now);
  const canceledAt = status === 'canceled' ? Math.min(now, created + randomInt(DAY, 120 * DAY)) : null;
  const trial =
    status === 'trialing'
      ? { trial_start: created, trial_end: created + 14 * DAY }
      : { trial_start: null, trial_end: null };

  return {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: created,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: canceledAt,
    cancellation_details: { comment: null, feedback: null, reason: canceledAt ? 'cancellation_requested' : null },
    collection_method: 'charge_automatically',
    created,
    currency: price.currency ?? 'usd',
    current_period_end: period.end,
    current_period_start: period.start,
    customer: stripeId('cus'),
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    description: null,
    discounts: [],
    ended_at: canceledAt,
    items: subscriptionItemsList(id, items),
    latest_invoice: status === 'trialing' ? null : stripeId('in'),
    livemode: false,
    metadata: {},
    pause_collection: null,
    schedule: null,
    start_date: created,
    status,
    test_clock: null,
    ...trial,
    ...omit(overrides, ['id', 'created', 'status', 'items', 'price', 'quantity']),
  };
}

export function buildInvoice(overrides: Overrides = {}, ctx: BuildContext = {}): StripeObject {
  const id = str(overrides.id) ?? stripeId('in');
  const created = num(overrides.created) ?? defaultCreated(ctx);
  const status = ov<string>(
    overrides,
    'status',
    weighted([
      ['paid', 14],
      ['open', 3],
      ['draft', 1],
      ['void', 1],
      ['uncollectible', 1],
    ]),
  );
  const subscription = ov<string | null>(overrides, 'subscription', Math.random() < 0.7 ? stripeId('sub') : null);
  const currency = ov<string>(overrides, 'currency', weighted<string>(CURRENCIES));
  const amountDue = ov<number>(overrides, 'amount_due', amount(500, 50_000));
  const paid = status === 'paid';
  const amountPaid = ov<number>(overrides, 'amount_paid', paid ? amountDue : 0);
  const sendInvoice = Math.random() < 0.2;
  const finalizedAt = status === 'draft' ? null : created + 3600;
  const periodEnd = created;
  const periodStart = subscription ? addInterval(created, 'month', 1, -1) : created;
  return {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Plugboard Test Co.',
    amount_due: amountDue,
    amount_overpaid: 0,
    amount_paid: amountPaid,
    amount_remaining: Math.max(0, amountDue - amountPaid),
    amount_shipping: 0,
    application: null,
    attempt_count: status === 'draft' ? 0 : paid ? 1 : randomInt(0, 4),
    attempted: status !== 'draft',
    auto_advance: status === 'draft' || status === 'open',
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    billing_reason: subscription
      ? pick(['subscription_cycle', 'subscription_cycle', 'subscription_create', 'subscription_update'])
      : 'manual',
    charge: paid && amountDue > 0 ? stripeId('ch') : null,
    collection_method: sendInvoice ? 'send_invoice' : 'charge_automatically',
    created,
    currency,
    customer: stripeId('cus'),
    customer_email: null,
    customer_name: null,
    default_payment_method: null,
    description: null,
    discounts: [],
    due_date: sendInvoice ? created + 30 * DAY : null,
    effective_at: finalizedAt,
    ending_balance: status === 'draft' ? null : 0,
    footer: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    last_finalization_error: null,
    lines: {
      object: 'list',
      data: [
        {
          id: stripeId('il'),
          object: 'line_item',
          amount: amountDue,
          currency,
          description: subscription ? `1 × Pro plan (at $${(amountDue / 100).toFixed(2)} / month)` : 'One-off charge',
          invoice: id,
          livemode: false,
          metadata: {},
          period: { end: periodEnd, start: periodStart },
          quantity: 1,
        },
      ],
      has_more: false,
      total_count: 1,
      url: `/v1/invoices/${id}/lines`,
    },
    livemode: false,
    metadata: {},
    next_payment_attempt: status === 'open' && !sendInvoice ? created + 3 * DAY : null,
    number: status === 'draft' ? null : `${randomAlnum(8).toUpperCase()}-${String(randomInt(1, 40)).padStart(4, '0')}`,
    on_behalf_of: null,
    parent: subscription
      ? { quote_details: null, subscription_details: { metadata: {}, subscription }, type: 'subscription_details' }
      : null,
    payment_intent: status === 'draft' || amountDue === 0 ? null : stripeId('pi'),
    period_end: periodEnd,
    period_start: periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    starting_balance: 0,
    statement_descriptor: null,
    status,
    status_transitions: {
      finalized_at: finalizedAt,
      marked_uncollectible_at: status === 'uncollectible' ? created + 7 * DAY : null,
      paid_at: paid ? created + 3600 : null,
      voided_at: status === 'void' ? created + 2 * DAY : null,
    },
    subscription,
    subtotal: amountDue,
    subtotal_excluding_tax: amountDue,
    test_clock: null,
    total: amountDue,
    total_discount_amounts: [],
    total_excluding_tax: amountDue,
    webhooks_delivered_at: created,
    ...omit(overrides, ['id', 'created', 'status', 'subscription', 'currency', 'amount_due', 'amount_paid']),
  };
}

export function buildPaymentIntent(overrides: Overrides = {}, ctx: BuildContext = {}): StripeObject {
  const id = str(overrides.id) ?? stripeId('pi');
  const created = num(overrides.created) ?? defaultCreated(ctx);
  const status = ov<string>(
    overrides,
    'status',
    weighted([
      ['succeeded', 15],
      ['requires_payment_method', 2],
      ['canceled', 1],
      ['processing', 1],
      ['requires_action', 1],
    ]),
  );
  const amt = ov<number>(overrides, 'amount', amount(500, 50_000));
  const succeeded = status === 'succeeded';
  return {
    id,
    object: 'payment_intent',
    amount: amt,
    amount_capturable: 0,
    amount_received: succeeded ? amt : 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: { allow_redirects: 'always', enabled: true },
    canceled_at: status === 'canceled' ? created + 3600 : null,
    cancellation_reason: status === 'canceled' ? 'abandoned' : null,
    capture_method: 'automatic_async',
    client_secret: `${id}_secret_${randomAlnum(25)}`,
    confirmation_method: 'automatic',
    created,
    currency: weighted<string>(CURRENCIES),
    customer: stripeId('cus'),
    description: Math.random() < 0.5 ? 'Subscription update' : null,
    invoice: null,
    last_payment_error: null,
    latest_charge: status === 'succeeded' || status === 'processing' ? stripeId('ch') : null,
    livemode: false,
    metadata: {},
    next_action: status === 'requires_action' ? { type: 'use_stripe_sdk', use_stripe_sdk: {} } : null,
    on_behalf_of: null,
    payment_method: status === 'requires_payment_method' ? null : stripeId('pm'),
    payment_method_options: {},
    payment_method_types: ['card'],
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status,
    transfer_data: null,
    transfer_group: null,
    ...omit(overrides, ['id', 'created', 'status', 'amount']),
  };
}

export function buildCharge(overrides: Overrides = {}, ctx: BuildContext = {}): StripeObject {
  const id = str(overrides.id) ?? stripeId('ch');
  const created = num(overrides.created) ?? defaultCreated(ctx);
  const status = ov<string>(
    overrides,
    'status',
    weighted([
      ['succeeded', 18],
      ['failed', 1],
      ['pending', 1],
    ]),
  );
  const amt = ov<number>(overrides, 'amount', amount(500, 50_000));
  const amountRefunded = ov<number>(overrides, 'amount_refunded', 0);
  const succeeded = status === 'succeeded';
  const brand = pick(CARD_BRANDS);
  const name = personName();
  return {
    id,
    object: 'charge',
    amount: amt,
    amount_captured: succeeded ? amt : 0,
    amount_refunded: amountRefunded,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: succeeded ? stripeId('txn') : null,
    billing_details: {
      address: {
        city: null,
        country: 'US',
        line1: null,
        line2: null,
        postal_code: String(randomInt(10000, 99999)),
        state: null,
      },
      email: null,
      name,
      phone: null,
      tax_id: null,
    },
    calculated_statement_descriptor: 'PLUGBOARD',
    captured: succeeded,
    created,
    currency: weighted<string>(CURRENCIES),
    customer: stripeId('cus'),
    description:
      Math.random() < 0.5 ? pick(['Subscription creation', 'Subscription update', 'Payment for invoice']) : null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: status === 'failed' ? 'card_declined' : null,
    failure_message: status === 'failed' ? 'Your card was declined.' : null,
    fraud_details: {},
    invoice: null,
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: status === 'failed' ? 'declined_by_network' : 'approved_by_network',
      reason: status === 'failed' ? 'generic_decline' : null,
      risk_level: 'normal',
      risk_score: randomInt(0, 60),
      seller_message:
        status === 'failed' ? 'The bank did not return any further details with this decline.' : 'Payment complete.',
      type: status === 'failed' ? 'issuer_declined' : 'authorized',
    },
    paid: succeeded,
    payment_intent: stripeId('pi'),
    payment_method: stripeId('pm'),
    payment_method_details: {
      card: {
        brand,
        country: 'US',
        exp_month: randomInt(1, 12),
        exp_year: randomInt(2027, 2033),
        fingerprint: randomAlnum(16),
        funding: pick(['credit', 'credit', 'debit']),
        last4: String(randomInt(0, 9999)).padStart(4, '0'),
        network: brand,
      },
      type: 'card',
    },
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: amountRefunded > 0 && amountRefunded >= amt,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status,
    transfer_data: null,
    transfer_group: null,
    ...omit(overrides, ['id', 'created', 'status', 'amount', 'amount_refunded']),
  };
}

export function buildRefund(overrides: Overrides = {}, ctx: BuildContext = {}): StripeObject {
  return {
    id: str(overrides.id) ?? stripeId('re'),
    object: 'refund',
    amount: amount(500, 20_000),
    balance_transaction: stripeId('txn'),
    charge: stripeId('ch'),
    created: num(overrides.created) ?? defaultCreated(ctx),
    currency: weighted<string>(CURRENCIES),
    customer: null,
    destination_details: {
      card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' },
      type: 'card',
    },
    metadata: {},
    payment_intent: stripeId('pi'),
    reason: weighted<string | null>([
      ['requested_by_customer', 6],
      [null, 2],
      ['duplicate', 1],
      ['fraudulent', 1],
    ]),
    receipt_number: null,
    source_transfer_reversal: null,
    status: weighted([
      ['succeeded', 18],
      ['pending', 1],
      ['failed', 1],
    ]),
    transfer_reversal: null,
    ...omit(overrides, ['id', 'created']),
  };
}

export function buildDispute(overrides: Overrides = {}, ctx: BuildContext = {}): StripeObject {
  const created = num(overrides.created) ?? defaultCreated(ctx);
  return {
    id: str(overrides.id) ?? stripeId('dp'),
    object: 'dispute',
    amount: amount(500, 20_000),
    balance_transactions: [],
    charge: stripeId('ch'),
    created,
    currency: weighted<string>(CURRENCIES),
    enhanced_eligibility_types: [],
    evidence: {
      customer_email_address: null,
      customer_name: null,
      product_description: null,
      uncategorized_text: null,
    },
    evidence_details: { due_by: created + 14 * DAY, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: stripeId('pi'),
    payment_method_details: {
      card: { brand: pick(CARD_BRANDS), case_type: 'chargeback', network_reason_code: '10.4' },
      type: 'card',
    },
    reason: weighted([
      ['fraudulent', 5],
      ['product_not_received', 2],
      ['subscription_canceled', 2],
      ['duplicate', 1],
      ['general', 1],
    ]),
    status: weighted([
      ['needs_response', 4],
      ['under_review', 2],
      ['won', 2],
      ['lost', 1],
      ['warning_needs_response', 1],
    ]),
    ...omit(overrides, ['id', 'created']),
  };
}

export function buildPayout(overrides: Overrides = {}, ctx: BuildContext = {}): StripeObject {
  const created = num(overrides.created) ?? defaultCreated(ctx);
  const method = Math.random() < 0.9 ? 'standard' : 'instant';
  return {
    id: str(overrides.id) ?? stripeId('po'),
    object: 'payout',
    amount: amount(1_000, 500_000),
    application_fee: null,
    application_fee_amount: null,
    arrival_date: method === 'instant' ? created : created + 2 * DAY,
    automatic: method === 'standard',
    balance_transaction: stripeId('txn'),
    created,
    currency: weighted<string>(CURRENCIES),
    description: 'STRIPE PAYOUT',
    destination: stripeId('ba'),
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: {},
    method,
    original_payout: null,
    payout_method: null,
    reconciliation_status: 'completed',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: null,
    status: weighted([
      ['paid', 12],
      ['in_transit', 3],
      ['pending', 2],
      ['failed', 1],
      ['canceled', 1],
    ]),
    trace_id: { status: 'supported', value: null },
    type: 'bank_account',
    ...omit(overrides, ['id', 'created']),
  };
}

export const BUILDERS: Readonly<
  Record<StripeResourceType, (overrides?: Overrides, ctx?: BuildContext) => StripeObject>
> = {
  customer: buildCustomer,
  subscription: buildSubscription,
  subscription_item: buildSubscriptionItem,
  invoice: buildInvoice,
  payment_intent: buildPaymentIntent,
  charge: buildCharge,
  refund: buildRefund,
  dispute: buildDispute,
  payout: buildPayout,
  product: buildProduct,
  price: buildPrice,
};

/** One object of `type` in Stripe's shape; `overrides` win over the generated values. */
export function buildObject(type: StripeResourceType, overrides: Overrides = {}, ctx: BuildContext = {}): StripeObject {
  return BUILDERS[type](overrides, ctx);
}

/** `{ id, object, deleted: true }`: what Stripe answers for a deleted customer, product, price, invoice… */
export function deletedObject(object: { id: string; object: string }): DeletedStripeObject {
  return { id: object.id, object: object.object, deleted: true };
}

export interface BuildEventOptions {
  type: string;
  object: StripeObject;
  previousAttributes?: Record<string, unknown>;
  created?: number;
  apiVersion?: string | null;
  request?: { id: string | null; idempotency_key: string | null };
  pendingWebhooks?: number;
}

/** A Stripe event (`evt_…`) carrying `object` (embedded as given: snapshot it first if it will change). */
export function buildEvent(options: BuildEventOptions): StripeEvent {
  const data: StripeEvent['data'] = { object: options.object };
  if (options.previousAttributes) data.previous_attributes = options.previousAttributes;
  return {
    id: stripeId('evt'),
    object: 'event',
    api_version: options.apiVersion ?? null,
    created: options.created ?? nowSeconds(),
    data,
    livemode: false,
    pending_webhooks: options.pendingWebhooks ?? 1,
    request: options.request ?? { id: requestId(), idempotency_key: crypto.randomUUID() },
    type: options.type,
  };
}

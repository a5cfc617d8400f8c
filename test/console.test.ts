/**
 * The operator console (/console) in a real browser: Debian's chromium, driven by puppeteer-core,
 * with every request leaving 127.0.0.1 refused (no proxy reachable) and recorded. Sign in, see every
 * plugin, replay a webhook that failed once its cause is fixed, sign out; and the attacks: no
 * cookie, the cookie without its CSRF token, a cross-site form post. Screenshots of each page are
 * written as it goes (docs/console/ holds the README's).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { startHttpTarget, type HttpTarget } from './support/http-target.ts';
import { startStripeServer, type StripeServer } from './support/stripe-server.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import { connectWs } from './support/ws-client.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** CONSOLE_SCREENSHOTS_DIR=docs/console refreshes the README's; by default they go to a temporary directory. */
const SCREENSHOTS = process.env['CONSOLE_SCREENSHOTS_DIR'] ?? join(tmpdir(), 'plugboard-console-screenshots');
const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;

let db: TestDatabase;
let stripe: StripeServer;
let target: HttpTarget;
let gateway: TestGateway;
let browser: Browser;
let page: Page;
/** A customer the local Stripe has (seeded), which the sync check can find missing. */
let seededCustomer: string;
/** Every URL the console's page asked for. */
const requested: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: apt-get install chromium (.ci/run does)`);
  if (!existsSync('console/dist/index.html')) throw new Error('The console is not built: npm run build:console');
  [db, stripe, target] = await Promise.all([createTestDatabase(), startStripeServer(), startHttpTarget()]);
  seededCustomer = stripe.seed('customer', 300)[0]!.id;
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: {
      STRIPE_API_KEY: stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_SYNC_INTERVAL: '0',
      STRIPE_WEBHOOK_MAX_ATTEMPTS: '1',
      JOBS_HTTP_ALLOWED_HOSTS: target.host,
    },
  });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', // root in CI
      // Offline but for this machine: anything not on 127.0.0.1 goes to a proxy that is not there.
      '--proxy-server=http://127.0.0.1:9',
      '--proxy-bypass-list=127.0.0.1;localhost',
    ],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on('request', (request) => requested.push(request.url()));
  await mkdir(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await stripe?.close();
  await target?.close();
  await db?.drop();
});

/** A signed Stripe delivery, as the stripe SDK signs them. */
async function deliverCustomer(name: string): Promise<string> {
  const eventId = `evt_${randomBytes(8).toString('hex')}`;
  const payload = JSON.stringify({
    id: eventId,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: `cus_${randomBytes(8).toString('hex')}`,
        object: 'customer',
        created: Math.floor(Date.now() / 1000),
        name,
        email: 'console@example.com',
        balance: 0,
        livemode: false,
        metadata: {},
      },
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'customer.created',
  });
  const signature = new Stripe(stripe.apiKey).webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
  const response = await fetch(`${gateway.url}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
  expect(response.status).toBe(200);
  return eventId;
}

/** A delivery that fails on purpose: a constraint refuses its customer until `fix` drops it. */
async function failedDelivery(): Promise<{ id: string; fix: () => Promise<unknown> }> {
  const name = `refused_${randomBytes(4).toString('hex')}`;
  await db.pool.query(`ALTER TABLE stripe.customers ADD CONSTRAINT ${name} CHECK (name <> '${name}')`);
  const id = await deliverCustomer(name);
  await expect.poll(() => eventStatus(id), { timeout: 20_000 }).toBe('failed');
  return { id, fix: () => db.pool.query(`ALTER TABLE stripe.customers DROP CONSTRAINT ${name}`) };
}

const eventStatus = async (id: string) =>
  (await db.pool.query<{ status: string }>('SELECT status FROM stripe.events WHERE id = $1', [id])).rows[0]?.status;

describe('the operator console', () => {
  it('refuses its session and admin fields without the cookie, and the cookie without its CSRF token', async () => {
    const noCookie = await fetch(`${gateway.url}/console/session`);
    expect(noCookie.status).toBe(401);

    const signIn = await fetch(`${gateway.url}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret: ADMIN_SECRET }),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie')!.split(';', 1)[0]!;
    expect(signIn.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/i);
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };

    const stats = (headers: Record<string, string>) =>
      fetch(gateway.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ webhookStats { plugin } }' }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { errors?: { extensions: object }[] } }));
    // The cookie alone is an anonymous request.
    expect((await stats({ cookie })).body.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN' });
    expect((await stats({ cookie, 'x-plugboard-csrf': 'not-the-token' })).body.errors?.[0]?.extensions).toEqual({
      code: 'UNAUTHENTICATED',
    });
    expect((await stats({ 'x-plugboard-csrf': csrfToken })).body.errors?.[0]?.extensions).toEqual({
      code: 'UNAUTHENTICATED',
    });
    expect((await stats({ cookie, 'x-plugboard-csrf': csrfToken })).body.errors).toBeUndefined();

    // Over graphql-ws the same: the upgrade's cookie counts only beside the token in connection_init.
    const overWs = async (params: Record<string, string>) => {
      const client = createClient({
        url: gateway.wsUrl,
        webSocketImpl: class extends WebSocket {
          constructor(address: string, protocols?: string | string[]) {
            super(address, protocols, { headers: { cookie } });
          }
        },
        connectionParams: params,
        retryAttempts: 0,
      });
      try {
        return await new Promise<unknown>((resolve) =>
          client.subscribe(
            { query: 'subscription { syncProgress { plugin } }' },
            { next: resolve, error: resolve, complete: () => resolve('complete') },
          ),
        );
      } finally {
        await client.dispose();
      }
    };
    expect(await overWs({})).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    expect(await overWs({ 'x-plugboard-csrf': 'not-the-token' })).toMatchObject({ code: 4403 });

    // Paths under /console/assets are files of the build and nothing else: a folder, a missing
    // file or a way out of it is a 404, never a read of something else.
    for (const path of ['/console/assets/', '/console/assets/none.js', '/console/assets/%2e%2e/%2e%2e/package.json']) {
      const asset = await fetch(`${gateway.url}${path}`);
      expect(asset.status, path).toBe(404);
    }

    const wrong = await fetch(`${gateway.url}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret: 'guess' }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    // A form (of any site) cannot sign in: JSON only.
    const form = await fetch(`${gateway.url}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `secret=${ADMIN_SECRET}`,
    });
    expect(form.status).toBe(415);
    // Signing out needs the token too.
    expect((await fetch(`${gateway.url}/console/session`, { method: 'DELETE', headers: { cookie } })).status).toBe(403);
  });

  it('signs in, shows every plugin, replays a fixed webhook, backfills, retries a job, and signs out, offline', async () => {
    const { id: failing, fix } = await failedDelivery();

    await page.goto(`${gateway.url}/console`);
    // The form appears once the page has asked whether a session exists ("Loading…" until then).
    await page.waitForSelector('input[name=secret]');
    await page.screenshot({ path: `${SCREENSHOTS}/sign-in.png` });
    await page.type('input[name=secret]', ADMIN_SECRET);
    await page.click('button[type=submit]');
    await page.waitForSelector('.card[data-plugin]');
    const shown = await page.$$eval('.card[data-plugin]', (cards) => cards.map((c) => c.getAttribute('data-plugin')));
    expect(shown.sort()).toEqual(gateway.plugins.map((p) => p.name).sort());
    // Migrations applied (or pending, for a plugin that is off), and the Hasura actions declared.
    expect(await page.$eval('.card[data-plugin=stripe] .migrations', (e) => e.textContent)).toMatch(/1 \w+: applied/);
    expect(await page.$eval('.card[data-plugin=notifications] .hasura', (e) => e.textContent)).toContain(
      'markNotificationsRead',
    );
    await page.screenshot({ path: `${SCREENSHOTS}/plugins.png` });

    // The secret is nowhere the page's scripts or its URL can reach; the cookie is HttpOnly.
    expect(page.url()).not.toContain(ADMIN_SECRET);
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).toBe(
      '{}{}',
    );
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const [sessionCookie] = (await browser.cookies()).filter((c) => c.name === 'plugboard_console');
    expect(sessionCookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    await page.click('nav a[href="/console/webhooks"]');
    const row = `tr[data-event="${failing}"]`;
    await page.waitForSelector(`${row}[data-status="FAILED"]`);
    // Received before 2000: none; the filter cleared: the event again.
    const setBefore = (value: string) =>
      page.$eval(
        'input[name=before]',
        (input, to) => {
          (input as HTMLInputElement).value = to;
          input.dispatchEvent(new Event('change', { bubbles: true }));
        },
        value,
      );
    await setBefore('2000-01-01T00:00');
    await page.waitForSelector(row, { hidden: true });
    await setBefore('');
    await page.waitForSelector(row);
    await page.click(`${row} button.link`);
    await page.waitForSelector('tr.payload pre');
    await page.screenshot({ path: `${SCREENSHOTS}/webhooks.png`, fullPage: true });

    await fix();
    await page.click(`${row} button.replay`);
    await page.waitForSelector(`${row}[data-status="PROCESSED"]`);
    expect(await eventStatus(failing)).toBe('processed');

    // A Stripe backfill from the local Stripe stand-in, its progress fed by the syncProgress subscription.
    await page.click('nav a[href="/console/syncs"]');
    await page.waitForSelector('[data-sync=stripe] button.backfill:not([disabled])');
    await page.click('[data-sync=stripe] button.backfill');
    await page.waitForSelector('[data-sync=stripe] progress[data-percent="100"]', { timeout: 30_000 });
    // A row lost on purpose: the check finds it missing, "check and fix" writes it back. One that
    // Stripe has: the customers of the webhooks above are only here (the check's "extra"), and
    // deleting one of them, as `min(id)` sometimes did, left nothing missing.
    const lost = seededCustomer;
    expect((await db.pool.query('DELETE FROM stripe.customers WHERE id = $1', [lost])).rowCount).toBe(1);
    const customers = '[data-sync=stripe] tr[data-resource=customers] td.check-result';
    // On a timeout, what the cell and the section's error said.
    const saying = async (failure: Error) => {
      const text = (selector: string) => page.$eval(selector, (element) => element.textContent).catch(() => null);
      const [cell, sectionError] = await Promise.all([text(customers), text('[data-sync=stripe] p.error')]);
      throw new Error(
        `${failure.message}: the check cell reads ${JSON.stringify(cell)}, the error ${JSON.stringify(sectionError)}`,
      );
    };
    await page.click('[data-sync=stripe] button.check');
    await page
      .waitForFunction((cell) => document.querySelector(cell)?.textContent?.startsWith('1 missing'), {}, customers)
      .catch(saying);
    await page.click('[data-sync=stripe] button.check-fix');
    await page
      .waitForFunction((cell) => document.querySelector(cell)?.textContent?.includes('fixed'), {}, customers)
      .catch(saying);
    expect((await db.pool.query('SELECT 1 FROM stripe.customers WHERE id = $1', [lost])).rowCount).toBe(1);
    await page.screenshot({ path: `${SCREENSHOTS}/syncs.png` });
    expect(
      Number((await db.pool.query('SELECT count(*) AS n FROM stripe.customers')).rows[0].n),
    ).toBeGreaterThanOrEqual(300);

    // A job that failed on the Postgres queue (its target answered 503 once), retried from the console.
    const { body } = await gateway.gql(
      'mutation($url: String!) { enqueueJob(type: "http-request", payload: { url: $url, method: "GET" }, options: { attempts: 1 }) { id } }',
      {
        variables: { url: `${target.url}/flaky?fail=1&key=console` },
        headers: { 'x-hasura-admin-secret': ADMIN_SECRET },
      },
    );
    const jobId = (body.data!['enqueueJob'] as { id: string }).id;
    await page.click('nav a[href="/console/jobs"]');
    await page.waitForSelector('tr[data-queue=default]');
    expect(await page.$eval('tr[data-queue=default] td:nth-child(2)', (cell) => cell.textContent)).toBe('postgres');
    const job = `tr[data-job="${jobId}"]`;
    await page.waitForSelector(`${job}[data-state=FAILED] button.retry`, { timeout: 20_000 });
    await page.screenshot({ path: `${SCREENSHOTS}/jobs.png` });
    await page.click(`${job} button.retry`);
    await page.select('select[name=state]', 'COMPLETED');
    await page.waitForSelector(`${job}[data-state=COMPLETED]`, { timeout: 20_000 });
    // The chart's data: the retried job, completed within the last hour.
    await expect
      .poll(async () => {
        const { body: throughput } = await gateway.gql('{ jobThroughput(queue: "default") { completed } }', {
          headers: { 'x-hasura-admin-secret': ADMIN_SECRET },
        });
        return (throughput.data!['jobThroughput'] as { completed: number }[]).reduce((sum, m) => sum + m.completed, 0);
      })
      .toBeGreaterThanOrEqual(1);

    // A user's socket and room, seen from the console; the socket closed from there.
    const token = await signToken({ userId: 'console-user' });
    const socket = connectWs(gateway.wsUrl, { Authorization: `Bearer ${token}` });
    await socket.connected;
    const room = await gateway.gql('mutation { createRoom(name: "console-room") { id } }', {
      headers: { authorization: `Bearer ${token}` },
    });
    const roomId = (room.body.data!['createRoom'] as { id: string }).id;
    await page.click('nav a[href="/console/realtime"]');
    await page.waitForSelector(`tr[data-room="${roomId}"] button.link`);
    await page.click(`tr[data-room="${roomId}"] button.link`);
    await page.waitForSelector('ul.members li');
    expect(await page.$eval('ul.members', (list) => list.textContent)).toContain('console-user');
    await page.waitForSelector('tr[data-user="console-user"] button.disconnect', { timeout: 20_000 });
    await page.screenshot({ path: `${SCREENSHOTS}/realtime.png` });
    await page.click('tr[data-user="console-user"] button.disconnect');
    expect(await socket.closed).toMatchObject({ code: 4000 });

    // A template previewed against sample data, rendered by the gateway.
    const created = await gateway.gql(
      'mutation { createNotificationTemplate(input: { name: "console-welcome", subject: "Hi {{ name }}", body: "Hello {{ name }}, welcome.", html: "<p>{{ name }}</p>" }) { id } }',
      { headers: { 'x-hasura-admin-secret': ADMIN_SECRET } },
    );
    expect(created.body.errors).toBeUndefined();
    await page.click('nav a[href="/console/notifications"]');
    await page.waitForSelector('tr[data-template="console-welcome"] button.edit');
    await page.click('tr[data-template="console-welcome"] button.edit');
    await page.$eval('textarea[name=sample]', (area) => {
      (area as HTMLTextAreaElement).value = '';
    });
    await page.type('textarea[name=sample]', '{ "name": "<Ann & Bo>" }');
    await page.click('.editor button.preview');
    await page.waitForSelector('.rendered-body');
    expect(await page.$eval('.rendered-subject', (e) => e.textContent)).toBe('Hi <Ann & Bo>');
    expect(await page.$eval('.rendered-body', (e) => e.textContent)).toBe('Hello <Ann & Bo>, welcome.');
    // The HTML is escaped by the template engine and shown in a frame that runs nothing.
    expect(await page.$eval('.rendered iframe', (e) => [e.getAttribute('sandbox'), e.getAttribute('srcdoc')])).toEqual([
      '',
      '<p>&lt;Ann &amp; Bo&gt;</p>',
    ]);
    const preview = page.frames().find((frame) => frame.url() === 'about:srcdoc');
    expect(await preview?.$eval('p', (e) => e.textContent)).toBe('<Ann & Bo>');
    await page.screenshot({ path: `${SCREENSHOTS}/notifications.png`, fullPage: true });

    await page.click('nav .sign-out');
    await page.waitForSelector('input[name=secret]');
    expect((await browser.cookies()).filter((c) => c.name === 'plugboard_console')).toEqual([]);

    const origin = new URL(gateway.url).origin;
    expect(requested.length).toBeGreaterThan(5);
    // data: URLs (the browser's own date-picker icon) are in the page, not on any network.
    expect(requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'))).toEqual([]);
  }, 90_000);

  it('a cross-site form post carries no session and changes nothing', async () => {
    const { id: failing, fix } = await failedDelivery();
    await fix();
    // Signed in on the gateway's site…
    await page.goto(`${gateway.url}/console`);
    await page.waitForSelector('input[name=secret]');
    await page.type('input[name=secret]', ADMIN_SECRET);
    await page.click('button[type=submit]');
    await page.waitForSelector('.card[data-plugin]');
    // …then a page of another site (localhost is not 127.0.0.1's site) posts a form to /graphql.
    const attacker: Server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<form id="f" method="POST" enctype="text/plain" action="${gateway.graphqlUrl}">
        <input name='{"query":"mutation { replayFailedWebhookEvents(plugin: \\"stripe\\") }","x":"' value='"}'>
        </form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((listening) => attacker.listen(0, '127.0.0.1', listening));
    try {
      const answered = page.waitForResponse((response) => response.url().startsWith(gateway.graphqlUrl));
      await page.goto(`http://localhost:${(attacker.address() as AddressInfo).port}/`);
      const response = await answered;
      expect(response.status()).toBeGreaterThanOrEqual(400);
      expect(await eventStatus(failing)).toBe('failed');
    } finally {
      attacker.close();
    }
  });
});

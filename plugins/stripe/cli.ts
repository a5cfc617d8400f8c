/** `plugboard stripe …`: sync, backfill, check, status, webhook test|status. */
import type { Command } from 'commander';
import type Stripe from 'stripe';
import { type OpenedPlugin, type PluginRuntime, table, UsageError } from '../../gateway/sdk.ts';
import type { StripeConfig } from './config.ts';
import type { StripeInstance } from './instance.ts';
import { RESOURCES, type Resource } from './resources.ts';
import type { SyncRequest, Syncer } from './sync.ts';

type Open = () => Promise<OpenedPlugin<StripeConfig, StripeInstance>>;

function resources(values: string[] | undefined): Resource[] | undefined {
  if (!values?.length) return undefined;
  const unknown = values.filter((v) => !RESOURCES.includes(v as Resource));
  if (unknown.length > 0)
    throw new UsageError(`Unknown resource ${unknown.join(', ')}; known: ${RESOURCES.join(', ')}`);
  return values as Resource[];
}

function date(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime()))
    throw new UsageError(`${flag} must be a date such as 2024-01-31, got ${JSON.stringify(value)}`);
  return parsed;
}

/** One line per resource on a terminal, rewritten in place; nothing when output is piped. */
function progressLine(verb: string): (resource: string, count: number, done: boolean) => void {
  if (!process.stderr.isTTY) return () => {};
  return (resource, count, done) => {
    process.stderr.write(
      `\r\x1b[2K${resource.padEnd(18)} ${String(count).padStart(9)} objects ${verb}${done ? ' ✓\n' : ' …'}`,
    );
  };
}

async function runAndReport(syncer: Syncer, request: SyncRequest): Promise<void> {
  const started = Date.now();
  const show = progressLine('synced');
  const run = await syncer.run({
    ...request,
    onProgress: ({ resource, synced, done }) => show(resource, synced, done),
  });
  const rows = Object.entries(run.counts).map(([resource, objects]) => ({ resource, objects }));
  console.log(table(rows));
  console.log(`${run.kind} ${run.status} in ${((Date.now() - started) / 1000).toFixed(1)} s (run ${run.id})`);
}

export function addStripeCommands(command: Command, open: Open): void {
  command
    .command('sync')
    .description('Incremental sync from the events list (a backfill when nothing was synced yet)')
    .option('--resource <name...>', `only these resources (${RESOURCES.join(', ')})`)
    .option('--since <date>', 'backfill objects created since this date instead')
    .action(async (options: { resource?: string[]; since?: string }) => {
      const request = { resources: resources(options.resource), since: date(options.since, '--since') };
      await runAndReport((await open()).instance.syncer, request);
    });

  command
    .command('backfill')
    .description('List every object from the API into Postgres (resumes an interrupted backfill)')
    .option('--from <date>', 'only objects created since this date')
    .option('--resource <name...>', `only these resources (${RESOURCES.join(', ')})`)
    .action(async (options: { from?: string; resource?: string[] }) => {
      const request = { resources: resources(options.resource), since: date(options.from, '--from'), full: true };
      await runAndReport((await open()).instance.syncer, request);
    });

  command
    .command('check')
    .description(
      'Compare the synced tables with the API: rows missing, stale (different from Stripe) or extra (gone from Stripe)',
    )
    .option('--resource <name...>', `only these resources (${RESOURCES.join(', ')})`)
    .option('--fix', 'repair what differs: rewrite missing and stale rows, mark rows of deleted objects deleted')
    .action(async (options: { resource?: string[]; fix?: boolean }) => {
      const show = progressLine('checked');
      const { instance } = await open();
      const reports = await instance.checker.check({
        resources: resources(options.resource),
        fix: options.fix ?? false,
        onProgress: ({ resource, checked, done }) => show(resource, checked, done),
      });
      console.log(
        table(
          reports.map((r) => ({
            resource: r.resource,
            api: r.api,
            database: r.database,
            missing: r.missing,
            stale: r.stale,
            extra: r.extra,
            ...(options.fix ? { fixed: r.fixed } : {}),
          })),
        ),
      );
      const problems = reports.reduce((sum, r) => sum + r.missing + r.stale + r.extra, 0);
      if (problems === 0) console.log('in step with Stripe');
      else if (options.fix) console.log(`fixed ${reports.reduce((sum, r) => sum + r.fixed, 0)} of ${problems} rows`);
      else throw new Error(`${problems} rows differ from Stripe; \`plugboard stripe check --fix\` repairs them`);
    });

  command
    .command('status')
    .description('Sync state per resource')
    .action(async () => {
      const states = await (await open()).instance.syncer.states();
      console.log(
        table(
          [...states.values()].map((s) => ({
            resource: s.resource,
            status: s.status,
            cursor: s.cursor,
            last_event_at: s.last_event_at?.toISOString() ?? null,
          })),
        ),
      );
    });

  const webhook = command.command('webhook').description('The Stripe webhook endpoint');
  webhook
    .command('test')
    .description(
      'Sign a test event with STRIPE_WEBHOOK_SECRET, post it to the running gateway, and wait until it is stored and applied',
    )
    .option('--url <url>', 'the webhook URL (default: this gateway on PORT at STRIPE_WEBHOOK_PATH)')
    .option('--timeout <seconds>', 'how long to wait for the event to be applied', '10')
    .action(async (options: { url?: string; timeout: string }) => {
      const { runtime, instance } = await open();
      const url = options.url ?? `http://127.0.0.1:${process.env['PORT'] ?? 4000}${runtime.config.webhookPath}`;
      const id = await sendTestEvent(runtime, instance.client(), url);
      const log = runtime.webhooks.get(runtime.name)!;
      const deadline = Date.now() + Number(options.timeout) * 1000;
      for (;;) {
        const stored = await log.get(id);
        if (stored?.status === 'processed') {
          console.log(`${url} verified, stored and applied test event ${id}`);
          return;
        }
        if (stored?.status === 'failed')
          throw new Error(`test event ${id} was stored but failed: ${stored.last_error}`);
        if (Date.now() > deadline)
          throw new Error(
            stored
              ? `test event ${id} was stored but not applied within ${options.timeout} s (is the gateway processing webhooks?)`
              : `test event ${id} was acknowledged but is not in this database's stripe.events (does the gateway at ${url} use the same DATABASE_URL?)`,
          );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
  webhook
    .command('status')
    .description('The webhook log: events per status, the newest delivery, the oldest waiting event, recent failures')
    .action(async () => {
      const { runtime } = await open();
      const log = runtime.webhooks.get(runtime.name)!;
      const stats = await log.stats();
      console.log(
        `endpoint     POST ${runtime.config.webhookPath} (tolerance ${runtime.config.webhookTolerance} s, ${runtime.config.webhookMaxAttempts} attempts before an event is failed)`,
      );
      console.log(`events       ${stats.processed} processed, ${stats.received} waiting, ${stats.failed} failed`);
      console.log(`last         ${stats.last_received_at?.toISOString() ?? 'none received yet'}`);
      if (stats.oldest_waiting_at) console.log(`oldest wait  ${stats.oldest_waiting_at.toISOString()}`);
      const failed = await log.page({ status: 'failed' }, null, 10);
      if (failed.length > 0) {
        console.log('\nrecent failures (replay with `plugboard webhooks replay <id>`):');
        console.log(
          table(
            failed.map((e) => ({
              id: e.id,
              type: e.type,
              attempts: e.attempts,
              received_at: e.received_at.toISOString(),
              error: e.last_error,
            })),
          ),
        );
      }
    });
}

/** Posts a signed `plugboard.webhook_test` event (an object no table syncs, so it changes no data). */
async function sendTestEvent(runtime: PluginRuntime<StripeConfig>, stripe: Stripe, url: string): Promise<string> {
  const id = `evt_plugboard_test_${Date.now().toString(36)}`;
  const payload = JSON.stringify({
    id,
    object: 'event',
    type: 'plugboard.webhook_test',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    api_version: runtime.config.apiVersion ?? null,
    data: { object: { id: `plugboard_test_${Date.now().toString(36)}`, object: 'plugboard_test' } },
  });
  const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: runtime.config.webhookSecret });
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body: payload,
    });
  } catch (error) {
    throw new Error(
      `could not reach ${url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`,
    );
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { errors?: { message: string }[] } | null;
    throw new Error(`${url} answered ${response.status}: ${body?.errors?.[0]?.message ?? response.statusText}`);
  }
  return id;
}

/** `plugboard stripe …`: the sync core's commands (sync, backfill, check, status, events, replay), and webhook test|status. */
import type { Command } from 'commander';
import type Stripe from 'stripe';
import { addSyncCommands, type OpenedPlugin, type PluginRuntime, table } from '../../gateway/sdk.ts';
import type { StripeConfig } from './config.ts';
import type { StripeInstance } from './instance.ts';
import { RESOURCES } from './resources.ts';

type Open = () => Promise<OpenedPlugin<StripeConfig, StripeInstance>>;

export function addStripeCommands(command: Command, open: Open): void {
  addSyncCommands(command, {
    provider: 'Stripe',
    resources: RESOURCES,
    async open() {
      const { runtime, instance } = await open();
      return { syncer: instance.syncer, checker: instance.checker, log: runtime.webhooks.get(runtime.name) };
    },
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
      const id = await sendTestEvent(runtime, await instance.client(), url);
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

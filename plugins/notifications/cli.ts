/** `plugboard notifications …`: templates, a test send, stats, digests now, and a worker. */
import { once } from 'node:events';
import type { Command } from 'commander';
import { type PluginRuntime, table, UsageError } from '../../gateway/sdk.ts';
import { CHANNELS, type Channel, type NotificationsConfig } from './config.ts';
import { QUEUE, type Deliverer } from './delivery.ts';
import type { NotificationsService } from './service.ts';

/** The plugin's services for a command; `close` ends its SMTP pools and clients so the process can exit. */
type Open = () => Promise<{
  runtime: PluginRuntime<NotificationsConfig>;
  service: NotificationsService;
  deliverer: Deliverer;
  close(): Promise<void>;
}>;

function channelOf(value: string): Channel | 'ANY' {
  const upper = value.toUpperCase().replace('-', '_');
  if (upper !== 'ANY' && !(CHANNELS as readonly string[]).includes(upper))
    throw new UsageError(`--channel must be one of ANY, ${CHANNELS.join(', ')}; got "${value}"`);
  return upper as Channel | 'ANY';
}

function jsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`--data is not valid JSON: ${text}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError('--data must be a JSON object');
  return value as Record<string, unknown>;
}

export function addNotificationsCommands(command: Command, open: Open): void {
  const template = command.command('template').description('Create or list templates');
  template
    .command('create')
    .description('Create a template variant (LiquidJS; checked before it is stored)')
    .argument('<name>', 'template name, e.g. welcome')
    .requiredOption('--body <text>', 'the text (Liquid)')
    .option('--subject <text>', 'subject / push title (Liquid)')
    .option('--html <text>', 'HTML body for email (Liquid, outputs escaped)')
    .option('--channel <channel>', `ANY, ${CHANNELS.join(', ')}`, 'ANY')
    .option('--locale <locale>', 'e.g. en, fr, en-GB', 'en')
    .action(
      async (
        name: string,
        options: { body: string; subject?: string; html?: string; channel: string; locale: string },
      ) => {
        const { service } = await open();
        const saved = await service.saveTemplate(
          {
            name,
            channel: channelOf(options.channel),
            locale: options.locale,
            subject: options.subject ?? null,
            body: options.body,
            html: options.html ?? null,
          },
          'create',
          'cli',
        );
        console.log(`created ${saved.name} (${saved.channel}, ${saved.locale}) version ${saved.version}`);
      },
    );
  template
    .command('list')
    .description('Newest version of every template variant')
    .option('--name <name>', 'only this template')
    .action(async (options: { name?: string }) => {
      const { service } = await open();
      const rows = await service.templates(options.name ?? null);
      console.log(
        rows.length === 0
          ? 'no templates'
          : table(
              rows.map((t) => ({
                name: t.name,
                channel: t.channel,
                locale: t.locale,
                version: t.version,
                subject: t.subject ?? '',
                created_at: t.created_at.toISOString(),
              })),
            ),
      );
    });

  command
    .command('test')
    .description("Send a template to a user now, in this process, and print each channel's outcome")
    .argument('<userId>')
    .argument('<template>')
    .option('--data <json>', 'template data', '{}')
    .option('--channel <channel...>', 'channels (default: every enabled one the template has)')
    .action(async (userId: string, templateName: string, options: { data: string; channel?: string[] }) => {
      const { service, deliverer, close } = await open();
      const channels = options.channel?.map((c) => channelOf(c)).filter((c): c is Channel => c !== 'ANY');
      const { ids } = await service.enqueue(
        {
          userIds: [userId],
          template: templateName,
          data: jsonObject(options.data),
          channels: channels ?? null,
          category: 'test',
          requestedBy: 'cli',
        },
        undefined,
        { addJobs: false },
      );
      const outcomes = [];
      for (const id of ids) {
        try {
          outcomes.push({ id, ...(await deliverer.deliver(id, { attempt: 1, maxAttempts: 1 })) });
        } catch (error) {
          outcomes.push({ id, status: 'failed', reason: (error as Error).message });
        }
      }
      await close();
      console.log(
        table(
          outcomes.map((o) => ({
            id: o.id,
            status: o.status,
            provider: ('provider' in o ? o.provider : null) ?? '',
            reason: o.reason ?? '',
          })),
        ),
      );
      if (outcomes.some((o) => o.status === 'failed')) process.exitCode = 1;
    });

  command
    .command('stats')
    .description('Notifications by channel and status')
    .option('--since <date>', 'created since (ISO date or time)', new Date(Date.now() - 24 * 3600 * 1000).toISOString())
    .action(async (options: { since: string }) => {
      const since = new Date(options.since);
      if (Number.isNaN(since.getTime())) throw new UsageError(`--since is not a date: ${options.since}`);
      const { service, runtime } = await open();
      const rows = await service.stats(since);
      console.log(rows.length === 0 ? `no notifications since ${since.toISOString()}` : table(rows));
      const counts = await runtime.queue.counts(QUEUE);
      console.log(
        `\nqueue ${QUEUE} (${runtime.queue.backend}): ${Object.entries(counts)
          .map(([state, n]) => `${n} ${state}`)
          .join(', ')}`,
      );
      console.log(
        table(
          service.channelStatus().map((c) => ({
            channel: c.channel,
            enabled: c.enabled,
            providers: c.providers.join(' > '),
            reason: c.reason ?? '',
          })),
        ),
      );
    });

  command
    .command('digest')
    .description('Send the digests that are waiting now, without waiting for the interval')
    .action(async () => {
      const { service } = await open();
      console.log(`${await service.sendDigests()} digest messages enqueued`);
    });

  command
    .command('worker')
    .description(
      'Deliver notifications in this process until SIGTERM or SIGINT (set PLUGBOARD_WORKERS=false on the gateways)',
    )
    .option('--concurrency <n>', 'deliveries at once (default NOTIFICATIONS_CONCURRENCY)')
    .action(async (options: { concurrency?: string }) => {
      const { runtime, close } = await open();
      const concurrency = options.concurrency === undefined ? undefined : Number(options.concurrency);
      if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
        throw new UsageError('--concurrency must be a positive integer');
      const workers = await runtime.jobs.startWorkers(runtime.queue, runtime.log, {
        queues: [QUEUE],
        ...(concurrency ? { concurrency } : {}),
      });
      console.log(`notifications worker ${process.pid} on ${runtime.queue.backend}; SIGTERM or SIGINT to stop`);
      const stop = new AbortController();
      await Promise.race([
        once(process, 'SIGTERM', { signal: stop.signal }),
        once(process, 'SIGINT', { signal: stop.signal }),
      ]);
      stop.abort();
      console.log('stopping: letting running deliveries finish');
      await Promise.all(workers.map((worker) => worker.close()));
      await close();
    });
}

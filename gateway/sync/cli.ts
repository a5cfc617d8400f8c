/**
 * The commands every synced plugin gets, made from its descriptors:
 * `plugboard <plugin> sync|backfill|check [--fix]|status|events [--failed]|replay <event-id>`.
 * Progress goes to stderr: a line rewritten in place on a terminal, JSON lines otherwise (for
 * logs and scripts); results go to stdout.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { table } from '../text-table.ts';
import { eventRows, replayEvent, type EventListOptions } from '../webhooks/commands.ts';
import type { WebhookLog } from '../webhooks/receiver.ts';
import type { Checker } from './check.ts';
import type { SyncRequest, Syncer } from './syncer.ts';

export interface SyncCommandsOptions {
  /** The provider's name as people know it, for messages ("in step with Stripe"). */
  provider: string;
  /** What `--resource` accepts (every synced table, children included). */
  resources: readonly string[];
  /** Opens the plugin's services (only when a command runs). */
  open(): Promise<{ syncer: Syncer; checker: Checker; log: WebhookLog | undefined }>;
}

function resourcesOf(values: string[] | undefined, known: readonly string[]): string[] | undefined {
  if (!values?.length) return undefined;
  const unknown = values.filter((value) => !known.includes(value));
  if (unknown.length > 0) throw new UsageError(`Unknown resource ${unknown.join(', ')}; known: ${known.join(', ')}`);
  return values;
}

function dateOf(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime()))
    throw new UsageError(`${flag} must be a date such as 2024-01-31, got ${JSON.stringify(value)}`);
  return parsed;
}

/** Progress of long work on stderr: one line per resource on a terminal, JSON lines otherwise. */
export function progressReporter(
  verb: string,
  stream: NodeJS.WriteStream = process.stderr,
): (resource: string, count: number, done: boolean) => void {
  if (!stream.isTTY)
    return (resource, count, done) => stream.write(`${JSON.stringify({ resource, [verb]: count, done })}\n`);
  const started = Date.now();
  return (resource, count, done) => {
    const perSecond = count / Math.max((Date.now() - started) / 1000, 0.001);
    stream.write(
      `\r\x1b[2K${resource.padEnd(22)} ${String(count).padStart(9)} objects ${verb} (${perSecond.toFixed(0)}/s)${done ? ' ✓\n' : ' …'}`,
    );
  };
}

async function runAndReport(syncer: Syncer, request: SyncRequest): Promise<void> {
  const started = Date.now();
  const show = progressReporter('synced');
  const run = await syncer.run({
    ...request,
    onProgress: ({ resource, synced, done }) => show(resource, synced, done),
  });
  if (run.status === 'running') {
    console.log(`a sync is already running (run ${run.id}): not started again`);
    return;
  }
  console.log(table(Object.entries(run.counts).map(([resource, objects]) => ({ resource, objects }))));
  console.log(`${run.kind} ${run.status} in ${((Date.now() - started) / 1000).toFixed(1)} s (run ${run.id})`);
}

export function addSyncCommands(command: Command, options: SyncCommandsOptions): void {
  const { provider, resources: known } = options;
  const resourceFlag = `only these resources (${known.join(', ')})`;
  const logOf = async () => {
    const { log } = await options.open();
    if (!log) throw new UsageError(`The ${command.name()} plugin receives no webhooks here`);
    return log;
  };

  command
    .command('sync')
    .description('Incremental sync since the last one (a backfill when nothing was synced yet)')
    .option('--resource <name...>', resourceFlag)
    .option('--since <date>', 'backfill objects created since this date instead')
    .action(async (flags: { resource?: string[]; since?: string }) => {
      const request = { resources: resourcesOf(flags.resource, known), since: dateOf(flags.since, '--since') };
      await runAndReport((await options.open()).syncer, request);
    });

  command
    .command('backfill')
    .description(`List every object from ${provider} into Postgres (resumes an interrupted backfill)`)
    .option('--from <date>', 'only objects created since this date')
    .option('--resource <name...>', resourceFlag)
    .action(async (flags: { from?: string; resource?: string[] }) => {
      const request = {
        resources: resourcesOf(flags.resource, known),
        since: dateOf(flags.from, '--from'),
        full: true,
      };
      await runAndReport((await options.open()).syncer, request);
    });

  command
    .command('check')
    .description(
      `Compare the synced tables with ${provider}: rows missing, stale (different from ${provider}) or extra (gone from ${provider})`,
    )
    .option('--resource <name...>', resourceFlag)
    .option('--fix', 'repair what differs: rewrite missing and stale rows, mark rows of deleted objects deleted')
    .action(async (flags: { resource?: string[]; fix?: boolean }) => {
      const show = progressReporter('checked');
      const resources = resourcesOf(flags.resource, known);
      const reports = await (await options.open()).checker.check({
        resources,
        fix: flags.fix ?? false,
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
            ...(flags.fix ? { fixed: r.fixed } : {}),
          })),
        ),
      );
      const problems = reports.reduce((sum, r) => sum + r.missing + r.stale + r.extra, 0);
      const again = `plugboard ${command.name()} check --fix`;
      if (problems === 0) console.log(`in step with ${provider}`);
      else if (flags.fix) console.log(`fixed ${reports.reduce((sum, r) => sum + r.fixed, 0)} of ${problems} rows`);
      else throw new Error(`${problems} rows differ from ${provider}; \`${again}\` repairs them`);
    });

  command
    .command('status')
    .description('Sync state per resource')
    .action(async () => {
      const states = await (await options.open()).syncer.states();
      console.log(
        table(
          [...states.values()].map((s) => ({
            resource: s.resource,
            status: s.status,
            cursor: s.cursor,
            synced: Number(s.objects_synced),
            last_sync_at: s.last_sync_at?.toISOString() ?? null,
            last_event_at: s.last_event_at?.toISOString() ?? null,
            error: s.last_error,
          })),
        ),
      );
    });

  command
    .command('events')
    .description(`Events in the ${provider} webhook log, newest first`)
    .option('--failed', 'only dead letters: events whose every attempt failed')
    .option('--status <status>', 'received, processed or failed')
    .option('--type <glob>', 'event types, e.g. issues.*')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (flags: EventListOptions) => {
      console.log(table(await eventRows(await logOf(), flags)));
    });

  command
    .command('replay')
    .description('Apply a stored event again (a failed one, or any other) and show how it went')
    .argument('<event-id>', `${provider}'s event id`)
    .action(async (id: string) => {
      console.log(await replayEvent(await logOf(), id));
    });
}

/** `plugboard stripe …`: sync, backfill, status. */
import type { Command } from 'commander';
import { table } from '../../gateway/cli.ts';
import { UsageError } from '../../gateway/errors.ts';
import type { PluginRuntime } from '../../gateway/plugin.ts';
import type { StripeConfig } from './config.ts';
import { RESOURCES, type Resource } from './resources.ts';
import type { SyncProgress, SyncRequest, Syncer } from './sync.ts';

type Open = () => Promise<PluginRuntime<StripeConfig>>;

function resources(values: string[] | undefined): Resource[] | undefined {
  if (!values?.length) return undefined;
  const unknown = values.filter((v) => !RESOURCES.includes(v as Resource));
  if (unknown.length > 0) throw new UsageError(`Unknown resource ${unknown.join(', ')}; known: ${RESOURCES.join(', ')}`);
  return values as Resource[];
}

function date(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new UsageError(`${flag} must be a date such as 2024-01-31, got ${JSON.stringify(value)}`);
  return parsed;
}

/** One line per resource on a terminal, rewritten in place; nothing when output is piped. */
function progressLine(): (progress: SyncProgress) => void {
  if (!process.stderr.isTTY) return () => {};
  return ({ resource, synced, done }) => {
    process.stderr.write(`\r\x1b[2K${resource.padEnd(18)} ${String(synced).padStart(9)} objects${done ? ' ✓\n' : ' …'}`);
  };
}

async function runAndReport(syncer: Syncer, request: SyncRequest): Promise<void> {
  const started = Date.now();
  const run = await syncer.run({ ...request, onProgress: progressLine() });
  const rows = Object.entries(run.counts).map(([resource, objects]) => ({ resource, objects }));
  console.log(table(rows));
  console.log(`${run.kind} ${run.status} in ${((Date.now() - started) / 1000).toFixed(1)} s (run ${run.id})`);
}

export function addStripeCommands(command: Command, open: Open, syncerOf: (runtime: PluginRuntime<StripeConfig>) => Syncer): void {
  command
    .command('sync')
    .description('Incremental sync from the events list (a backfill when nothing was synced yet)')
    .option('--resource <name...>', `only these resources (${RESOURCES.join(', ')})`)
    .option('--since <date>', 'backfill objects created since this date instead')
    .action(async (options: { resource?: string[]; since?: string }) => {
      const request = { resources: resources(options.resource), since: date(options.since, '--since') };
      await runAndReport(syncerOf(await open()), request);
    });

  command
    .command('backfill')
    .description('List every object from the API into Postgres (resumes an interrupted backfill)')
    .option('--from <date>', 'only objects created since this date')
    .option('--resource <name...>', `only these resources (${RESOURCES.join(', ')})`)
    .action(async (options: { from?: string; resource?: string[] }) => {
      const request = { resources: resources(options.resource), since: date(options.from, '--from'), full: true };
      await runAndReport(syncerOf(await open()), request);
    });

  command
    .command('status')
    .description('Sync state per resource')
    .action(async () => {
      const states = await syncerOf(await open()).states();
      console.log(
        table(
          [...states.values()].map((s) => ({ resource: s.resource, status: s.status, cursor: s.cursor, last_event_at: s.last_event_at?.toISOString() ?? null })),
        ),
      );
    });
}

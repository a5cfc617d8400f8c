/** `plugboard files …`: process or requeue files, scan them again, clean the storage up, and stats. */
import type { Command } from 'commander';
import { type PluginRuntime, table, UsageError } from '../../gateway/sdk.ts';
import type { FilesConfig } from './config.ts';
import type { FileProcessor } from './processing.ts';
import { type FilesService, isUuid } from './service.ts';
import { filesSql } from './sql.ts';
import type { FileStorage } from './storage.ts';
import type { TusUploads } from './tus.ts';

type Open = () => Promise<{
  runtime: PluginRuntime<FilesConfig>;
  storage: FileStorage;
  service: FilesService;
  processor: FileProcessor;
  tus: TusUploads;
}>;

/** Rows checked against the storage per statement, and HEAD requests in flight. */
const PAGE = 500;
const HEADS_IN_FLIGHT = 8;
const DAY_MS = 24 * 60 * 60 * 1000;

export function addFilesCommands(command: Command, open: Open): void {
  command
    .command('process')
    .description('Process one file now, in this process (as the worker would)')
    .argument('<id>')
    .action(async (id: string) => {
      if (!isUuid(id)) throw new UsageError(`${id} is not a file id`);
      const { runtime, processor } = await open();
      await runtime.db.query(filesSql('file-status'), [
        id,
        ['ready', 'failed', 'pending_scan'],
        'processing',
        null,
        null,
      ]);
      const status = await processor.process(id);
      console.log(`${id}: ${status}`);
      if (status !== 'ready') process.exitCode = 1;
    });

  command
    .command('reprocess')
    .description('Queue files for processing again: the failed ones, or the ids given')
    .option('--failed', 'every failed file')
    .argument('[ids...]')
    .action(async (ids: string[], options: { failed?: boolean }) => {
      if (!options.failed && ids.length === 0) throw new UsageError('give file ids, or --failed');
      const bad = ids.find((id) => !isUuid(id));
      if (bad) throw new UsageError(`${bad} is not a file id`);
      const { runtime, service } = await open();
      if (options.failed) {
        const { rows } = await runtime.db.query<{ id: string; updated_at: Date }>(filesSql('files-to-requeue'), [
          'failed',
        ]);
        for (const row of rows) await service.enqueue(row);
        console.log(`${rows.length} files queued`);
        return;
      }
      let queued = 0;
      for (const id of ids) if ((await service.reprocess(id))?.status === 'processing') queued += 1;
      console.log(`${queued} of ${ids.length} files queued`);
    });

  command
    .command('scan')
    .description(
      'Queue files for a virus scan (and processing) again: those never scanned or waiting for the scanner, or --all',
    )
    .option('--all', 'every file, scanned or not')
    .action(async (options: { all?: boolean }) => {
      const { runtime, service } = await open();
      if (!runtime.config.virusScan) throw new UsageError('FILES_VIRUS_SCAN is off: there is no scanner to use');
      const { rows } = await runtime.db.query<{ id: string; updated_at: Date }>(filesSql('files-to-requeue'), [
        options.all ? 'all' : 'unscanned',
      ]);
      for (const row of rows) await service.enqueue(row);
      console.log(`${rows.length} files queued for a scan`);
    });

  command
    .command('cleanup')
    .description('Delete objects no row names, rows whose object is gone, and uploads abandoned for a day')
    .option('--dry-run', 'only report what would be deleted')
    .action(async (options: { dryRun?: boolean }) => {
      const dryRun = options.dryRun === true;
      const { runtime, storage, tus } = await open();
      const { db } = runtime;
      const abandoned = (
        await db.query<{ key: string }>(filesSql('uploads-abandoned'), [new Date(Date.now() - DAY_MS), dryRun])
      ).rows.map((r) => r.key);
      if (!dryRun) {
        // A resumable upload stopped half-way: tus keeps its parts and records beside the key.
        for (const key of abandoned) await tus.discard(key);
        await storage.delete(abandoned);
      }
      console.error(`abandoned uploads: ${abandoned.length}`);

      let orphans = 0;
      for (const prefix of ['uploads/', 'derived/', 'quarantine/']) {
        let page: string[] = [];
        const flush = async () => {
          const { rows } = await db.query<{ key: string }>(filesSql('keys-unknown'), [page]);
          orphans += rows.length;
          if (!dryRun) await storage.delete(rows.map((r) => r.key));
          page = [];
        };
        for await (const object of storage.list(prefix)) {
          page.push(object.key);
          if (page.length === PAGE) await flush();
        }
        if (page.length > 0) await flush();
      }
      console.error(`objects without a row: ${orphans}`);

      let missing = 0;
      for (let after: string | null = null; ; ) {
        const { rows }: { rows: { id: string; key: string }[] } = await db.query(filesSql('files-after'), [
          after,
          PAGE,
        ]);
        if (rows.length === 0) break;
        after = rows.at(-1)!.id;
        const gone: string[] = [];
        for (let i = 0; i < rows.length; i += HEADS_IN_FLIGHT) {
          const batch = rows.slice(i, i + HEADS_IN_FLIGHT);
          const found = await Promise.all(batch.map((row) => storage.head(row.key)));
          gone.push(...batch.filter((_, j) => found[j] === null).map((row) => row.id));
        }
        missing += gone.length;
        if (!dryRun && gone.length > 0) {
          const { rows: derived } = await db.query<{ key: string }>(filesSql('files-delete-many'), [gone]);
          await storage.delete(derived.map((d) => d.key));
        }
      }
      console.error(`rows without an object: ${missing}`);
      console.log(
        `${dryRun ? 'would delete' : 'deleted'}: ${abandoned.length} abandoned uploads, ${orphans} objects, ${missing} rows`,
      );
    });

  command
    .command('stats')
    .description('Files by status and type: count, bytes, median processing time')
    .action(async () => {
      const { runtime } = await open();
      const { rows } = await runtime.db.query<{
        status: string;
        family: string;
        files: number;
        bytes: string;
        median_seconds: number | null;
      }>(filesSql('stats'));
      if (rows.length === 0) {
        console.log('no files');
        return;
      }
      console.log(
        table(
          rows.map((r) => ({
            status: r.status,
            type: r.family,
            files: r.files,
            bytes: r.bytes,
            median_processing_s: r.median_seconds === null ? '-' : r.median_seconds.toFixed(2),
          })),
        ),
      );
    });
}

/**
 * database-backup: pg_dump of one schema into JOBS_BACKUP_DIR. Credentials go to pg_dump through
 * its environment, never its command line (visible to every user in `ps`). pg_dump writes a temp
 * file of the job's own, which is linked to the backup's name only once complete: a backup never
 * overwrites a file, and a failed one removes only its temp file.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access, link, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PermanentJobError } from '../../../gateway/sdk.ts';
import { InvalidPayloadError, objectPayload, requiredString, type JobType } from './job-type.ts';

export interface DatabaseBackupPayload {
  schema: string;
  file: string;
  format: 'plain' | 'custom';
}

/** The libpq environment for a connection string. */
export function libpqEnv(databaseUrl: string): Record<string, string> {
  const url = new URL(databaseUrl);
  const env: Record<string, string> = {
    PGHOST: url.hostname,
    PGPORT: url.port || '5432',
    PGDATABASE: decodeURIComponent(url.pathname.slice(1)),
    PGUSER: decodeURIComponent(url.username || 'postgres'),
  };
  if (url.password) env['PGPASSWORD'] = decodeURIComponent(url.password);
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode) env['PGSSLMODE'] = sslmode;
  return env;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export const databaseBackup: JobType<DatabaseBackupPayload> = {
  description: 'pg_dump of one Postgres schema to a file in JOBS_BACKUP_DIR',
  parse(raw) {
    const payload = objectPayload(raw, 'database-backup');
    const schema = requiredString(payload['schema'], 'schema');
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new InvalidPayloadError(`schema ${JSON.stringify(schema)} is not a plain schema name`);
    const format = payload['format'] === undefined ? 'plain' : payload['format'];
    if (format !== 'plain' && format !== 'custom') throw new InvalidPayloadError('format must be plain or custom');
    const extension = format === 'plain' ? 'sql' : 'dump';
    const file =
      payload['file'] === undefined
        ? `${schema}-${new Date().toISOString().replace(/[:.]/g, '-')}.${extension}`
        : requiredString(payload['file'], 'file');
    if (!/^[\w.-]+$/.test(file) || file.startsWith('.'))
      throw new InvalidPayloadError(
        'file must be a plain file name (letters, digits, . _ -), written inside JOBS_BACKUP_DIR',
      );
    return { schema, file, format };
  },
  async run(payload, job, runtime) {
    const directory = runtime.config.backupDir;
    await mkdir(directory, { recursive: true });
    const path = join(directory, payload.file);
    const taken = () =>
      new PermanentJobError(
        `${payload.file} already exists in JOBS_BACKUP_DIR; a backup never replaces a file: name another file, or move that one away`,
      );
    if (await exists(path)) throw taken();
    // Names starting with a dot are refused as backup names, so this one collides with none.
    const temp = join(directory, `.${payload.file}.${randomUUID()}.partial`);
    const args = [
      '--schema',
      payload.schema,
      '--file',
      temp,
      '--format',
      payload.format === 'plain' ? 'p' : 'c',
      '--no-owner',
      '--no-privileges',
    ];
    const stderr: string[] = [];
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn('pg_dump', args, {
          env: { ...process.env, ...libpqEnv(runtime.connections.databaseUrl) },
          signal: job.signal,
        });
        child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
        child.once('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT')
            reject(
              new PermanentJobError(
                'pg_dump was not found on PATH; install the PostgreSQL client tools (e.g. `apt install postgresql-client`)',
              ),
            );
          else reject(error);
        });
        child.once('close', resolve);
      });
      if (code !== 0) {
        const detail = stderr.join('').trim().split('\n').slice(-3).join(' ');
        throw new PermanentJobError(
          `pg_dump of schema ${payload.schema} failed (exit ${code}): ${detail || 'no output'}`,
        );
      }
      if (stderr.join('').includes('no matching schemas were found'))
        throw new PermanentJobError(`schema ${payload.schema} does not exist`);
      // link(), unlike rename(), fails when the name was taken while pg_dump ran.
      try {
        await link(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw taken();
        throw error;
      }
    } finally {
      await rm(temp, { force: true });
    }
    return { file: path, bytes: (await stat(path)).size, schema: payload.schema };
  },
};

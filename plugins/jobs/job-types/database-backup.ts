/**
 * database-backup: pg_dump of one schema into JOBS_BACKUP_DIR. Credentials go to pg_dump through
 * its environment, never its command line (visible to every user in `ps`).
 */
import { spawn } from 'node:child_process';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PermanentJobError } from '../../../gateway/queue.ts';
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

export const databaseBackup: JobType<DatabaseBackupPayload> = {
  description: 'pg_dump of one Postgres schema to a file in JOBS_BACKUP_DIR',
  parse(raw) {
    const payload = objectPayload(raw, 'database-backup');
    const schema = requiredString(payload['schema'], 'schema');
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new InvalidPayloadError(`schema ${JSON.stringify(schema)} is not a plain schema name`);
    const format = payload['format'] === undefined ? 'plain' : payload['format'];
    if (format !== 'plain' && format !== 'custom') throw new InvalidPayloadError('format must be plain or custom');
    const extension = format === 'plain' ? 'sql' : 'dump';
    const file = payload['file'] === undefined ? `${schema}-${new Date().toISOString().replace(/[:.]/g, '-')}.${extension}` : requiredString(payload['file'], 'file');
    if (!/^[\w.-]+$/.test(file) || file.startsWith('.')) throw new InvalidPayloadError('file must be a plain file name (letters, digits, . _ -), written inside JOBS_BACKUP_DIR');
    return { schema, file, format };
  },
  async run(payload, job, runtime) {
    const directory = runtime.config.backupDir;
    await mkdir(directory, { recursive: true });
    const path = join(directory, payload.file);
    const args = ['--schema', payload.schema, '--file', path, '--format', payload.format === 'plain' ? 'p' : 'c', '--no-owner', '--no-privileges'];
    const stderr: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('pg_dump', args, { env: { ...process.env, ...libpqEnv(runtime.connections.databaseUrl) }, signal: job.signal });
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') reject(new PermanentJobError('pg_dump was not found on PATH; install the PostgreSQL client tools (e.g. `apt install postgresql-client`)'));
        else reject(error);
      });
      child.once('close', resolve);
    });
    if (code !== 0) {
      await rm(path, { force: true });
      const detail = stderr.join('').trim().split('\n').slice(-3).join(' ');
      throw new PermanentJobError(`pg_dump of schema ${payload.schema} failed (exit ${code}): ${detail || 'no output'}`);
    }
    if (stderr.join('').includes('no matching schemas were found')) throw new PermanentJobError(`schema ${payload.schema} does not exist`);
    return { file: path, bytes: (await stat(path)).size, schema: payload.schema };
  },
};

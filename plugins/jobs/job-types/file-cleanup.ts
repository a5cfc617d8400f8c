/**
 * file-cleanup: deletes files older than a cutoff under a directory inside JOBS_FILES_ROOT,
 * optionally only names matching a glob. Never leaves the root (paths are resolved, symlinks
 * followed and checked), never deletes directories.
 */
import { readdir, realpath, rm, stat } from 'node:fs/promises';
import { join, matchesGlob, relative, resolve, sep } from 'node:path';
import { PermanentJobError } from '../../../gateway/sdk.ts';
import { InvalidPayloadError, objectPayload, optionalNumber, type JobType } from './job-type.ts';

export interface FileCleanupPayload {
  directory: string;
  olderThanHours: number;
  pattern: string | undefined;
  recursive: boolean;
  dryRun: boolean;
}

const LISTED = 100;

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

export const fileCleanup: JobType<FileCleanupPayload> = {
  description: 'Deletes old files under JOBS_FILES_ROOT',
  unavailable: (runtime) =>
    runtime.config.filesRoot
      ? null
      : 'file-cleanup is disabled: set JOBS_FILES_ROOT to the directory it may delete under',
  parse(raw, config) {
    if (!config.filesRoot)
      throw new InvalidPayloadError(
        'file-cleanup is disabled: set JOBS_FILES_ROOT to the directory it may delete under',
      );
    const payload = objectPayload(raw, 'file-cleanup');
    const directory = typeof payload['directory'] === 'string' ? payload['directory'] : '.';
    if (!inside(config.filesRoot, resolve(config.filesRoot, directory)))
      throw new InvalidPayloadError(`directory ${JSON.stringify(directory)} is outside JOBS_FILES_ROOT`);
    const olderThanHours = optionalNumber(payload['olderThanHours'], 'olderThanHours', 0, 24 * 365 * 10);
    if (olderThanHours === undefined) throw new InvalidPayloadError('olderThanHours is required');
    const pattern = payload['pattern'] === undefined ? undefined : String(payload['pattern']);
    return {
      directory,
      olderThanHours,
      pattern,
      recursive: payload['recursive'] === true,
      dryRun: payload['dryRun'] === true,
    };
  },
  async run(payload, job, runtime) {
    const root = await realpath(runtime.config.filesRoot!);
    const start = resolve(root, payload.directory);
    let base: string;
    try {
      base = await realpath(start);
    } catch {
      throw new PermanentJobError(`directory ${payload.directory} does not exist under JOBS_FILES_ROOT`);
    }
    if (!inside(root, base))
      throw new PermanentJobError(`directory ${payload.directory} leads outside JOBS_FILES_ROOT`);
    const cutoff = Date.now() - payload.olderThanHours * 3_600_000;
    const deleted: string[] = [];
    let bytes = 0;
    const entries = await readdir(base, { recursive: payload.recursive, withFileTypes: true });
    for (const entry of entries) {
      if (job.signal.aborted) throw job.signal.reason;
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      const name = relative(base, path);
      if (payload.pattern && !matchesGlob(name, payload.pattern)) continue;
      const info = await stat(path);
      if (info.mtimeMs >= cutoff) continue;
      if (!payload.dryRun) await rm(path);
      deleted.push(name);
      bytes += info.size;
    }
    return { deleted: deleted.length, bytes, dryRun: payload.dryRun, files: deleted.slice(0, LISTED) };
  },
};

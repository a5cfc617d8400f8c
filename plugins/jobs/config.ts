import { resolve } from 'node:path';
import type { ConfigValues } from '../../gateway/sdk.ts';

export interface JobsConfig {
  dashboardEnabled: boolean;
  concurrency: number;
  retryAttempts: number;
  retryDelayMs: number;
  timeoutMs: number;
  /** Days finished jobs' history is kept; 0 keeps it forever. */
  historyRetentionDays: number;
  enqueueRoles: string[];
  httpAllowedHosts: string[];
  httpSigningSecret: string | undefined;
  backupDir: string;
  filesRoot: string | undefined;
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export function readJobsConfig(values: ConfigValues): JobsConfig {
  const filesRoot = values.optionalString('JOBS_FILES_ROOT');
  return {
    dashboardEnabled: values.boolean('JOBS_DASHBOARD_ENABLED'),
    concurrency: values.number('JOBS_DEFAULT_CONCURRENCY'),
    retryAttempts: values.number('JOBS_RETRY_ATTEMPTS'),
    retryDelayMs: values.number('JOBS_RETRY_DELAY'),
    timeoutMs: values.number('JOBS_JOB_TIMEOUT'),
    historyRetentionDays: values.number('JOBS_HISTORY_RETENTION_DAYS'),
    enqueueRoles: list(values.string('JOBS_ENQUEUE_ROLES')),
    httpAllowedHosts: list(values.string('JOBS_HTTP_ALLOWED_HOSTS')).map((host) => host.toLowerCase()),
    httpSigningSecret: values.optionalString('JOBS_HTTP_SIGNING_SECRET'),
    backupDir: resolve(values.string('JOBS_BACKUP_DIR')),
    filesRoot: filesRoot ? resolve(filesRoot) : undefined,
  };
}

import { type ConfigValues, readSyncedRetention, type SyncedRetention } from '../../gateway/sdk.ts';

export interface GithubConfig {
  webhookSecret: string;
  /** A token, or a GitHub App installation (the manifest requires one whole credential). */
  credential: { token: string } | { appId: number; privateKey: string; installationId: number };
  apiUrl: URL;
  org: string | undefined;
  /** owner/name */
  repos: string[];
  /** Minutes; 0 = no periodic sync. */
  syncInterval: number;
  webhookPath: string;
  webhookMaxAttempts: number;
  retention: SyncedRetention;
  /**
   * Pages of a full list requested ahead of the one a backfill asks for: each answer (and
   * Octokit's throttling and retry queues, ~15 ms a request even locally) takes a while, and the
   * sync writes meanwhile. 6 (the default) gave ~65 % of a raw COPY's rate, 3 ~50 %; seven
   * requests at once stay below plugin-throttling's own ten and far below GitHub's limit on
   * concurrent requests; 0 sends one request at a time, as GitHub asks of busy integrations.
   */
  pagesAhead: number;
  /** Roles besides admin that may query the synced tables. */
  readRoles: string[];
}

export function githubConfig(values: ConfigValues): GithubConfig {
  const token = values.optionalString('GITHUB_TOKEN');
  return {
    webhookSecret: values.string('GITHUB_WEBHOOK_SECRET'),
    credential: token
      ? { token }
      : {
          appId: values.number('GITHUB_APP_ID'),
          // Environment files often hold the PEM on one line with \n escapes.
          privateKey: values.string('GITHUB_APP_PRIVATE_KEY').replaceAll('\\n', '\n'),
          installationId: values.number('GITHUB_APP_INSTALLATION_ID'),
        },
    apiUrl: new URL(values.string('GITHUB_API_URL')),
    org: values.optionalString('GITHUB_ORG'),
    repos: (values.optionalString('GITHUB_REPOS') ?? '')
      .split(',')
      .map((repo) => repo.trim())
      .filter(Boolean),
    syncInterval: values.number('GITHUB_SYNC_INTERVAL'),
    webhookPath: values.string('GITHUB_WEBHOOK_PATH'),
    webhookMaxAttempts: values.number('GITHUB_WEBHOOK_MAX_ATTEMPTS'),
    retention: readSyncedRetention(values, 'GITHUB'),
    pagesAhead: values.number('GITHUB_PAGES_AHEAD'),
    readRoles: (values.optionalString('GITHUB_READ_ROLES') ?? '').split(',').filter(Boolean),
  };
}

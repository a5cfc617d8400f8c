/** `plugboard github …`: the sync core's commands, `repos` and `test`. */
import type { Command } from 'commander';
import { addSyncCommands, type OpenedPlugin, table } from '../../gateway/sdk.ts';
import { githubSql } from './sql.ts';
import type { GithubConfig } from './config.ts';
import type { GithubInstance } from './instance.ts';
import { GITHUB_TABLES } from './resources.ts';

type Open = () => Promise<OpenedPlugin<GithubConfig, GithubInstance>>;

/** What a run spent of the rate limit, on stderr (stdout keeps the results). */
function reportUsage(instance: GithubInstance): void {
  const usage = instance.usage();
  if (usage.requests === 0) return;
  process.stderr.write(
    `rate limit: ${usage.counted} requests counted, ${usage.notModified} answered 304 (free); ${usage.remaining ?? '?'} of ${usage.limit ?? '?'} left${usage.resetAt ? `, resets ${usage.resetAt.toISOString()}` : ''}\n`,
  );
}

export function addGithubCommands(command: Command, open: Open): void {
  let opened: GithubInstance | undefined;
  addSyncCommands(command, {
    provider: 'GitHub',
    resources: GITHUB_TABLES,
    async open() {
      const { runtime, instance } = await open();
      opened = instance;
      return { syncer: instance.syncer, checker: instance.checker, log: runtime.webhooks.get(runtime.name) };
    },
  });
  command.hook('postAction', () => {
    if (opened) reportUsage(opened);
  });

  command
    .command('repos')
    .description(
      'The repositories in scope (GITHUB_ORG, GITHUB_REPOS, or what the credential reaches), with what is synced of each',
    )
    .action(async () => {
      const { runtime, instance } = await open();
      const repositories = await instance.scope();
      const { rows } = await runtime.db.query<{
        full_name: string;
        issues: number;
        pull_requests: number;
        newest_issue: Date | null;
      }>(githubSql('synced-per-repository'), [repositories.map((repository) => repository.full_name)]);
      console.log(
        table(
          repositories.map((repository, i) => ({
            repository: repository.full_name,
            private: repository['private'] === true,
            issues: rows[i]?.issues ?? 0,
            pull_requests: rows[i]?.pull_requests ?? 0,
            newest_issue: rows[i]?.newest_issue?.toISOString() ?? null,
          })),
        ),
      );
      console.log(`${repositories.length} repositories in scope`);
      reportUsage(instance);
    });

  command
    .command('test')
    .description('Check the credential (token, or App and installation), the rate limit, and what it can see')
    .action(async () => {
      const { runtime, instance } = await open();
      const octokit = instance.client();
      const { credential } = runtime.config;
      if ('token' in credential) {
        const { data: user } = await octokit.request('GET /user');
        console.log(`token        authenticates as ${user.login}`);
      } else {
        const { data: app } = await octokit.request('GET /app');
        console.log(`app          ${app?.name ?? credential.appId} (id ${credential.appId})`);
        console.log(`installation ${credential.installationId}`);
      }
      const { data: limits } = await octokit.request('GET /rate_limit');
      const core = limits.resources.core;
      console.log(
        `rate limit   ${core.remaining} of ${core.limit} left, resets ${new Date(core.reset * 1000).toISOString()}`,
      );
      const repositories = await instance.scope();
      const shown = repositories.slice(0, 10).map((repository) => repository.full_name);
      console.log(
        `repositories ${repositories.length} in scope${shown.length > 0 ? `: ${shown.join(', ')}${repositories.length > shown.length ? ', …' : ''}` : ''}`,
      );
      if (repositories.length === 0)
        throw new Error('No repository in scope: set GITHUB_ORG or GITHUB_REPOS, or give the credential access to one');
    });
}

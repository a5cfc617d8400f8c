/** `plugboard idme …`: a user's verification and groups, and a check of the issuer and credentials. */
import type { Command } from 'commander';
import { type PluginRuntime, table } from '../../gateway/sdk.ts';
import type { IdmeConfig } from './config.ts';
import type { RelyingParty } from './relying-party.ts';
import type { IdmeService } from './service.ts';

type Open = () => Promise<{ runtime: PluginRuntime<IdmeConfig>; service: IdmeService; party: RelyingParty }>;

const when = (date: Date | null) => (date ? date.toISOString() : '-');

export function addIdmeCommands(command: Command, open: Open): void {
  command
    .command('verify')
    .description("Show a user's ID.me verification")
    .argument('<userId>')
    .action(async (userId: string) => {
      const { service } = await open();
      const [found] = await service.verifications([userId]);
      if (!found) {
        console.log(`${userId} has not verified with ID.me`);
        process.exitCode = 1;
        return;
      }
      const expired = found.expires_at !== null && found.expires_at.getTime() <= Date.now();
      console.log(
        table([
          {
            user: found.user_id,
            verified: found.verified && !expired ? 'yes' : expired ? 'expired' : 'no',
            verified_at: when(found.verified_at),
            expires_at: when(found.expires_at),
            groups:
              found.groups
                .filter((g) => g.verified)
                .map((g) => g.group)
                .join(',') || '-',
            subject: found.subject,
          },
        ]),
      );
      if (found.attributes.length > 0)
        console.log(
          `\n${table(found.attributes.map((a) => ({ attribute: a.handle, name: a.name, value: a.value ?? '' })))}`,
        );
    });

  command
    .command('groups')
    .description("List a user's ID.me groups as ID.me reported them")
    .argument('<userId>')
    .action(async (userId: string) => {
      const { service } = await open();
      const [found] = await service.verifications([userId]);
      if (!found || found.groups.length === 0) {
        console.log(`${userId} has no ID.me groups`);
        return;
      }
      console.log(
        table(
          found.groups.map((g) => ({
            group: g.group,
            verified: g.verified ? 'yes' : 'no',
            subgroups: g.subgroups.join(', ') || '-',
            verified_at: g.verifiedAt ?? '-',
          })),
        ),
      );
    });

  command
    .command('test')
    .description('Check discovery, the JWKS and the client credentials against the configured issuer')
    .action(async () => {
      const { runtime, party } = await open();
      const configuration = await party.configuration();
      const metadata = configuration.serverMetadata();
      console.log(`discovery   ok  ${metadata.issuer}`);
      if (!metadata.jwks_uri)
        throw new Error(`${metadata.issuer} publishes no jwks_uri: ID tokens could not be checked`);
      const jwks = await fetch(metadata.jwks_uri, {
        signal: AbortSignal.timeout(runtime.config.httpTimeoutSeconds * 1000),
      });
      const keys = jwks.ok ? (((await jwks.json()) as { keys?: unknown[] }).keys ?? []) : [];
      if (keys.length === 0) throw new Error(`${metadata.jwks_uri} answered ${jwks.status} with no keys`);
      console.log(`jwks        ok  ${keys.length} key(s) at ${metadata.jwks_uri}`);
      const pkce = metadata.code_challenge_methods_supported ?? [];
      console.log(
        `pkce        ${pkce.includes('S256') ? 'ok  S256' : `not advertised (${pkce.join(', ') || 'none'}); sent anyway`}`,
      );
      await party.checkCredentials();
      console.log(`credentials ok  ${runtime.config.clientId} accepted by the token endpoint`);
    });
}

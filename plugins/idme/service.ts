/**
 * What the GraphQL fields, the callback route and the CLI do: start an authorization for a user
 * (state, nonce and PKCE verifier kept server-side, single-use, bound to that user, expiring),
 * complete it for that signed-in user only (claim the state, exchange the code, store the
 * verification with its groups, badges and attributes in one transaction), and read
 * verifications. Nothing is stored when a step fails; a state is given back only when ID.me could
 * not be reached, so the user can retry.
 */
import { createHash } from 'node:crypto';
import { InputError, inTransaction, type PluginRuntime } from '../../gateway/sdk.ts';
import { GROUP_SCOPES, type GroupScope, type IdmeConfig } from './config.ts';
import { IdmeError, IdmeErrorCode, type IdmeIdentity, type RelyingParty } from './relying-party.ts';
import { idmeSql } from './sql.ts';
import { IDME_VERIFIED } from './topics.ts';

export interface GroupStatus {
  group: string;
  verified: boolean;
  subgroups: string[];
  verifiedAt: string | null;
}

export interface Verification {
  user_id: string;
  subject: string;
  verified: boolean;
  verified_at: Date | null;
  expires_at: Date | null;
  scopes: string[];
  email: string | null;
  given_name: string | null;
  family_name: string | null;
  updated_at: Date;
  groups: GroupStatus[];
  badges: { group: string; badge: string; issuedAt: string }[];
  attributes: { handle: string; name: string; value: string | null }[];
}

interface ClaimedRequest {
  user_id: string;
  code_verifier: string;
  nonce: string;
  scopes: string[];
  groups: string[];
}

const hashOf = (state: string) => createHash('sha256').update(state).digest();
const texts = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
const text = (value: unknown): string | null =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;

/** What ID.me sends back to the redirect URI, within sane lengths. */
function checkResponse(input: { code: string; state: string; iss?: string | null }): void {
  if (input.code.length === 0 || input.code.length > 2048) throw new InputError('code must be 1–2048 characters');
  if (input.state.length === 0 || input.state.length > 512) throw new InputError('state must be 1–512 characters');
  if (input.iss && input.iss.length > 512) throw new InputError('iss must be at most 512 characters');
}

/**
 * Group statuses and attributes from ID.me's userinfo: `status` is [{ group, subgroups,
 * verified }] and `attributes` is [{ handle, name, value }], as ID.me's attribute exchange gives
 * them; entries of other shapes are ignored.
 */
export function readClaims(userinfo: Record<string, unknown>): {
  groups: Omit<GroupStatus, 'verifiedAt'>[];
  attributes: { handle: string; name: string; value: string | null }[];
} {
  const groups = new Map<string, Omit<GroupStatus, 'verifiedAt'>>();
  for (const entry of Array.isArray(userinfo['status']) ? userinfo['status'] : []) {
    const group = text((entry as Record<string, unknown>)?.['group'])?.toLowerCase();
    if (!group) continue;
    groups.set(group, {
      group,
      verified: (entry as Record<string, unknown>)['verified'] === true,
      subgroups: texts((entry as Record<string, unknown>)['subgroups']),
    });
  }
  const attributes = new Map<string, { handle: string; name: string; value: string | null }>();
  for (const entry of Array.isArray(userinfo['attributes']) ? userinfo['attributes'] : []) {
    const handle = text((entry as Record<string, unknown>)?.['handle']);
    if (!handle) continue;
    attributes.set(handle, {
      handle,
      name: text((entry as Record<string, unknown>)['name']) ?? handle,
      value: text((entry as Record<string, unknown>)['value']),
    });
  }
  return { groups: [...groups.values()], attributes: [...attributes.values()] };
}

export class IdmeService {
  private readonly runtime: PluginRuntime<IdmeConfig>;
  private readonly party: () => RelyingParty;

  constructor(runtime: PluginRuntime<IdmeConfig>, party: () => RelyingParty) {
    this.runtime = runtime;
    this.party = party;
  }

  /** An authorization URL for `userId`, asking the configured scopes plus the groups' scopes. */
  async authorizationUrl(
    userId: string,
    groups: GroupScope[],
  ): Promise<{ url: string; state: string; expiresAt: Date }> {
    const wanted = [...new Set(groups)];
    const unknown = wanted.filter((group) => !GROUP_SCOPES.includes(group));
    if (unknown.length > 0)
      throw new InputError(`Unknown ID.me group ${unknown.join(', ')}: expected ${GROUP_SCOPES.join(', ')}`);
    const scopes = [...new Set([...this.runtime.config.scopes, ...wanted])];
    const { url, state, nonce, codeVerifier } = await this.party().authorization(scopes);
    const { rows } = await this.runtime.db.query<{ expires_at: Date }>(idmeSql('request-insert'), [
      hashOf(state),
      userId,
      codeVerifier,
      nonce,
      scopes,
      wanted,
      this.runtime.config.stateTtlSeconds,
    ]);
    return { url: url.href, state, expiresAt: rows[0]!.expires_at };
  }

  /**
   * Checks what came back to the browser callback without completing anything: the state must be
   * one we issued, unused and unexpired. Whose it is stays unsaid, and its user is not trusted
   * here: the browser may not be theirs (see verify).
   */
  async pending(input: { code: string; state: string; iss?: string | null }): Promise<void> {
    checkResponse(input);
    const {
      rows: [found],
    } = await this.runtime.db.query<{ used: boolean; expired: boolean }>(idmeSql('request-find'), [
      hashOf(input.state),
    ]);
    if (!found)
      throw new IdmeError(IdmeErrorCode.STATE_INVALID, 'Unknown state: start again with idmeAuthorizationUrl');
    if (found.used)
      throw new IdmeError(
        IdmeErrorCode.STATE_USED,
        'This state was used already: start again with idmeAuthorizationUrl',
      );
    if (found.expired) throw this.expired();
  }

  /**
   * Completes an authorization for the signed-in `userId`, who must be the one the state was
   * issued to. The state alone never completes one: whoever asked for an authorization URL can
   * send it to someone else, whose browser then comes back with a code for their own identity.
   */
  async verify(input: { code: string; state: string; iss?: string | null }, userId: string): Promise<Verification> {
    checkResponse(input);
    const stateHash = hashOf(input.state);
    const claimed = await this.claim(stateHash, userId);
    let identity: IdmeIdentity;
    try {
      identity = await this.party().exchange({
        code: input.code,
        state: input.state,
        iss: input.iss ?? null,
        codeVerifier: claimed.code_verifier,
        nonce: claimed.nonce,
      });
    } catch (error) {
      if (error instanceof IdmeError && error.retryable)
        await this.runtime.db.query(idmeSql('request-release'), [stateHash]);
      throw error;
    }
    const verification = await this.store(claimed, identity);
    this.runtime.pubsub.publish(IDME_VERIFIED, {
      userId: verification.user_id,
      verified: verification.verified,
      groups: verification.groups.filter((g) => g.verified).map((g) => g.group),
      at: new Date().toISOString(),
    });
    this.runtime.log.info(
      { userId: verification.user_id, verified: verification.verified },
      'ID.me verification stored',
    );
    return verification;
  }

  private async claim(stateHash: Buffer, userId: string): Promise<ClaimedRequest> {
    const unknown = () =>
      new IdmeError(IdmeErrorCode.STATE_INVALID, 'Unknown state: start again with idmeAuthorizationUrl');
    const {
      rows: [claimed],
    } = await this.runtime.db.query<ClaimedRequest>(idmeSql('request-claim'), [stateHash]);
    if (claimed) {
      if (claimed.user_id === userId) return claimed;
      // Another user's state, spent now: the code that came back with it is for the identity of
      // whoever consented in that browser, and must not reach the account that asked for the URL.
      this.runtime.log.warn(
        { userId, issuedTo: claimed.user_id },
        'ID.me state presented by another user: refused and spent',
      );
      throw unknown();
    }
    const {
      rows: [found],
    } = await this.runtime.db.query<{ user_id: string; used: boolean; expired: boolean }>(idmeSql('request-find'), [
      stateHash,
    ]);
    // Another user's state reads as unknown: it is not theirs to learn about.
    if (!found || found.user_id !== userId) throw unknown();
    if (found.used)
      throw new IdmeError(
        IdmeErrorCode.STATE_USED,
        'This state was used already: start again with idmeAuthorizationUrl',
      );
    throw this.expired();
  }

  private expired(): IdmeError {
    return new IdmeError(
      IdmeErrorCode.STATE_EXPIRED,
      `This state expired (they last IDME_STATE_TTL = ${this.runtime.config.stateTtlSeconds} s): start again with idmeAuthorizationUrl`,
    );
  }

  /** The verification, its groups, badges and attributes, replacing the user's earlier ones. */
  private async store(request: ClaimedRequest, identity: IdmeIdentity): Promise<Verification> {
    const { groups, attributes } = readClaims(identity.userinfo as Record<string, unknown>);
    const statusOf = new Map(groups.map((g) => [g.group, g]));
    // Verified when ID.me confirmed every group asked for (or, asking none, the identity).
    const verified = request.groups.every((group) => statusOf.get(group)?.verified === true);
    const badges = groups
      .filter((g) => g.verified)
      .flatMap((g) => (g.subgroups.length > 0 ? g.subgroups : [g.group]).map((badge) => [g.group, badge] as const));
    const info = identity.userinfo as Record<string, unknown>;
    const claim = (...names: string[]) =>
      names.map((name) => text(info[name] ?? identity.idToken[name])).find((value) => value !== null) ?? null;
    const { user_id: userId } = request;
    try {
      await inTransaction(this.runtime.db, async (client) => {
        await client.query(idmeSql('verification-upsert'), [
          userId,
          identity.subject,
          verified,
          this.runtime.config.verificationTtlDays,
          request.scopes,
          groups.filter((g) => g.verified).map((g) => g.group),
          claim('email'),
          claim('given_name', 'fname'),
          claim('family_name', 'lname'),
        ]);
        await client.query(idmeSql('details-clear'), [userId]);
        await client.query(idmeSql('details-insert'), [
          userId,
          groups.map((g) => g.group),
          groups.map((g) => g.verified),
          groups.map((g) => JSON.stringify(g.subgroups)),
          badges.map(([group]) => group),
          badges.map(([, badge]) => badge),
          attributes.map((a) => a.handle),
          attributes.map((a) => a.name),
          attributes.map((a) => a.value),
        ]);
      });
    } catch (error) {
      if ((error as { constraint?: string }).constraint === 'verifications_subject_key') {
        throw new IdmeError(IdmeErrorCode.SUBJECT_IN_USE, 'This ID.me account already verifies another user', {
          cause: error,
        });
      }
      throw error;
    }
    return (await this.verifications([userId]))[0]!;
  }

  async verifications(userIds: readonly string[]): Promise<Verification[]> {
    return (await this.runtime.db.query<Verification>(idmeSql('verification-get'), [userIds])).rows;
  }
}

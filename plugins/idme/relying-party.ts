/**
 * Our side of OpenID Connect with ID.me, on `openid-client`: discovery (cached per process,
 * retried after a failure), authorization URLs with PKCE (S256), state and nonce, and the code
 * exchange, which checks the state, the PKCE verifier, the ID token's signature (the issuer's
 * JWKS), issuer, audience, expiry and nonce, then fetches userinfo for the same subject.
 * Failures become IdmeErrors with a code a client can act on.
 */
import * as oidc from 'openid-client';
import type { PluginErrors } from '../../gateway/sdk.ts';
import type { IdmeConfig } from './config.ts';

export const IdmeErrorCode = {
  /** The state is not one this gateway issued (or it was issued to another user). */
  STATE_INVALID: 'IDME_STATE_INVALID',
  STATE_EXPIRED: 'IDME_STATE_EXPIRED',
  /** The state was used already: each authorization URL completes once. */
  STATE_USED: 'IDME_STATE_USED',
  /** ID.me refused the code: used before, expired, or not issued for this request (PKCE). */
  CODE_REJECTED: 'IDME_CODE_REJECTED',
  /** The ID token failed validation: signature, issuer, audience, expiry or nonce. */
  TOKEN_INVALID: 'IDME_TOKEN_INVALID',
  /** The user declined at ID.me, or ID.me answered the authorization with an error. */
  DENIED: 'IDME_AUTHORIZATION_DENIED',
  /** ID.me refused this client (credentials, redirect URI) or answered something unexpected. */
  PROVIDER_ERROR: 'IDME_PROVIDER_ERROR',
  /** ID.me could not be reached or failed (5xx, timeout); retry later. */
  UNAVAILABLE: 'IDME_UNAVAILABLE',
  /** This ID.me identity already verifies another user. */
  SUBJECT_IN_USE: 'IDME_SUBJECT_IN_USE',
} as const;
export type IdmeErrorCode = (typeof IdmeErrorCode)[keyof typeof IdmeErrorCode];

/** The plugin's codes in the error catalog: the status the callback (and a Hasura action) answers with. */
export const IDME_ERRORS = {
  IDME_STATE_INVALID: {
    status: 400,
    description: 'a state we never issued, or one issued to another user (which is then spent)',
  },
  IDME_STATE_EXPIRED: { status: 400, description: 'the state is older than `IDME_STATE_TTL`' },
  IDME_STATE_USED: { status: 400, description: 'the state completed once already' },
  IDME_CODE_REJECTED: {
    status: 400,
    description: 'ID.me refused the code (`invalid_grant`): replayed, expired, or PKCE mismatch',
  },
  IDME_TOKEN_INVALID: {
    status: 400,
    description: 'the ID token failed validation: signature, issuer, audience, expiry, nonce',
  },
  IDME_AUTHORIZATION_DENIED: { status: 400, description: 'the user declined, or ID.me answered with an error' },
  IDME_SUBJECT_IN_USE: { status: 403, description: 'this ID.me identity already verifies another user' },
  IDME_PROVIDER_ERROR: { status: 502, description: 'ID.me refused the client (credentials, redirect URI)' },
  IDME_UNAVAILABLE: {
    status: 503,
    description:
      'ID.me unreachable, failing or slow (`IDME_HTTP_TIMEOUT`); `extensions.retryable: true`, and the state stays usable',
  },
} as const satisfies Record<IdmeErrorCode, PluginErrors[string]>;

export class IdmeError extends Error {
  readonly code: IdmeErrorCode;
  constructor(code: IdmeErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IdmeError';
    this.code = code;
  }
  get retryable(): boolean {
    return this.code === IdmeErrorCode.UNAVAILABLE;
  }
}

/** What a completed exchange tells us: the ID token's claims and userinfo, same subject. */
export interface IdmeIdentity {
  subject: string;
  idToken: oidc.IDToken;
  userinfo: oidc.UserInfoResponse;
}

const CREDENTIALS_REFUSED = 'ID.me refused the client credentials: check IDME_CLIENT_ID and IDME_CLIENT_SECRET';
const TOKEN_CHECKS = new Set([
  'OAUTH_INVALID_RESPONSE',
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_KEY_SELECTION_FAILED',
  'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
]);
const UNREACHABLE = new Set([
  'OAUTH_RESPONSE_IS_NOT_CONFORM',
  'OAUTH_TIMEOUT',
  'OAUTH_ABORT',
  'OAUTH_RESPONSE_IS_NOT_JSON',
]);

/** The failure's code and a message that names what went wrong (never a secret). */
export function classify(error: unknown): IdmeError {
  if (error instanceof IdmeError) return error;
  if (error instanceof oidc.ResponseBodyError) {
    if (error.status >= 500)
      return new IdmeError(IdmeErrorCode.UNAVAILABLE, `ID.me failed (${error.status} ${error.error})`, {
        cause: error,
      });
    if (error.error === 'invalid_grant')
      return new IdmeError(
        IdmeErrorCode.CODE_REJECTED,
        `ID.me refused the code (${error.error_description ?? error.error}): it was used before, has expired, or was not issued for this request`,
        { cause: error },
      );
    if (error.error === 'invalid_client')
      return new IdmeError(IdmeErrorCode.PROVIDER_ERROR, CREDENTIALS_REFUSED, { cause: error });
    return new IdmeError(
      IdmeErrorCode.PROVIDER_ERROR,
      `ID.me refused the request: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`,
      { cause: error },
    );
  }
  if (error instanceof oidc.WWWAuthenticateChallengeError) {
    // A 401 with a challenge: the token endpoint did not accept our client authentication.
    const challenge = error.cause[0]?.parameters['error'];
    if (error.status === 401 || challenge === 'invalid_client')
      return new IdmeError(IdmeErrorCode.PROVIDER_ERROR, CREDENTIALS_REFUSED, { cause: error });
    return new IdmeError(
      IdmeErrorCode.PROVIDER_ERROR,
      `ID.me refused the request (${error.status}${challenge ? ` ${challenge}` : ''})`,
      { cause: error },
    );
  }
  if (error instanceof oidc.AuthorizationResponseError) {
    return new IdmeError(
      IdmeErrorCode.DENIED,
      `ID.me answered the authorization with ${error.error}${error.error_description ? `: ${error.error_description}` : ''}`,
      { cause: error },
    );
  }
  if (error instanceof oidc.ClientError && error.code) {
    const detail = error.cause instanceof Error ? error.cause.message : error.message;
    if (TOKEN_CHECKS.has(error.code))
      return new IdmeError(IdmeErrorCode.TOKEN_INVALID, `ID.me's response failed validation: ${detail}`, {
        cause: error,
      });
    if (UNREACHABLE.has(error.code))
      return new IdmeError(IdmeErrorCode.UNAVAILABLE, `ID.me answered unexpectedly: ${detail}`, { cause: error });
  }
  // fetch() failing (refused, reset, DNS) is a TypeError, bare or wrapped.
  const network =
    error instanceof TypeError
      ? error
      : error instanceof oidc.ClientError && error.cause instanceof TypeError
        ? error.cause
        : null;
  if (network) {
    const cause = network.cause as { code?: string } | undefined;
    return new IdmeError(
      IdmeErrorCode.UNAVAILABLE,
      `ID.me could not be reached${cause?.code ? ` (${cause.code})` : ''}`,
      { cause: error },
    );
  }
  if (error instanceof oidc.ClientError)
    return new IdmeError(IdmeErrorCode.PROVIDER_ERROR, `OpenID Connect with ID.me failed: ${error.message}`, {
      cause: error,
    });
  throw error;
}

export class RelyingParty {
  private readonly config: IdmeConfig;
  private discovered: Promise<oidc.Configuration> | undefined;

  constructor(config: IdmeConfig) {
    this.config = config;
  }

  /** The issuer's metadata (and with it the JWKS location), fetched once and kept. */
  configuration(): Promise<oidc.Configuration> {
    this.discovered ??= (async () => {
      const { issuer, clientId, clientSecret, httpTimeoutSeconds } = this.config;
      try {
        return await oidc.discovery(
          issuer,
          clientId,
          { client_secret: clientSecret },
          oidc.ClientSecretBasic(clientSecret),
          {
            timeout: httpTimeoutSeconds,
            // openid-client trusts an ID token from the token endpoint on TLS alone unless asked:
            // we check its signature against the issuer's JWKS too. Plain HTTP only for a loopback
            // issuer (config.ts refuses any other).
            execute: [
              oidc.enableNonRepudiationChecks,
              ...(issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : []),
            ],
          },
        );
      } catch (error) {
        this.discovered = undefined;
        const failure = classify(error);
        throw new IdmeError(
          failure.code === IdmeErrorCode.PROVIDER_ERROR ? IdmeErrorCode.UNAVAILABLE : failure.code,
          `Discovery at ${issuer.href} failed: ${failure.message}`,
          { cause: error },
        );
      }
    })();
    return this.discovered;
  }

  /** A fresh state, nonce and PKCE verifier, and the URL that sends the user to ID.me with them. */
  async authorization(scopes: string[]): Promise<{ url: URL; state: string; nonce: string; codeVerifier: string }> {
    const configuration = await this.configuration();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.config.redirectUri.href,
      scope: scopes.join(' '),
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url, state, nonce, codeVerifier };
  }

  /**
   * Exchanges the code for tokens and reads userinfo. `iss` is the authorization response's issuer
   * parameter (RFC 9207) when the client has it; with one configured issuer, ours stands in.
   */
  async exchange(input: {
    code: string;
    state: string;
    iss?: string | null;
    codeVerifier: string;
    nonce: string;
  }): Promise<IdmeIdentity> {
    try {
      const configuration = await this.configuration();
      const callback = new URL(this.config.redirectUri.href);
      callback.search = '';
      callback.searchParams.set('code', input.code);
      callback.searchParams.set('state', input.state);
      if (input.iss) callback.searchParams.set('iss', input.iss);
      else if (configuration.serverMetadata().authorization_response_iss_parameter_supported)
        callback.searchParams.set('iss', configuration.serverMetadata().issuer);
      const tokens = await oidc.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: input.codeVerifier,
        expectedState: input.state,
        expectedNonce: input.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims()!;
      const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, idToken.sub);
      return { subject: idToken.sub, idToken, userinfo };
    } catch (error) {
      throw classify(error);
    }
  }

  /**
   * Checks the client credentials without a user: a token request with a code that cannot exist.
   * ID.me authenticates the client first, so `invalid_grant` means the credentials were accepted.
   */
  async checkCredentials(): Promise<void> {
    const configuration = await this.configuration();
    try {
      await oidc.genericGrantRequest(configuration, 'authorization_code', {
        code: 'plugboard-credential-check',
        redirect_uri: this.config.redirectUri.href,
        code_verifier: oidc.randomPKCECodeVerifier(),
      });
    } catch (error) {
      const failure = classify(error);
      if (failure.code === IdmeErrorCode.CODE_REJECTED) return;
      throw failure;
    }
    throw new IdmeError(IdmeErrorCode.PROVIDER_ERROR, 'ID.me issued tokens for a made-up code');
  }
}

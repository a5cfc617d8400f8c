/**
 * Hasura-compatible authentication: one Session per request, from a Bearer JWT with Hasura
 * claims, the admin secret header, or nothing (the anonymous role). graphql-ws reads the same
 * headers from the `connection_init` payload; Hasura action calls from `session_variables`.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { type ConsoleSessions, CSRF_HEADER, csrfMatches } from './console/sessions.ts';
import { codedError, ERRORS, ErrorCode, unauthenticated } from './errors.ts';

export interface Session {
  /** The role the request acts as (`x-hasura-role`). */
  readonly role: string;
  /** `x-hasura-user-id`, or null. */
  readonly userId: string | null;
  /** Roles this caller may pick with the `x-hasura-role` header. */
  readonly allowedRoles: readonly string[];
  /** Every `x-hasura-*` session variable, keys lower-cased. */
  readonly variables: Readonly<Record<string, string>>;
  /** How the caller proved who they are. */
  readonly via: 'anonymous' | 'jwt' | 'admin-secret' | 'hasura' | 'console';
  /**
   * When the credentials stop being valid (epoch ms: a token's `exp`); absent for those that do
   * not expire. A graphql-ws socket, whose session is fixed at connection_init, ends then.
   */
  readonly expiresAt?: number;
}

/** Whether the session's credentials have expired (a timestamp compare, cheap enough for every operation). */
export function expired(session: Session): boolean {
  return session.expiresAt !== undefined && Date.now() >= session.expiresAt;
}

/** The caller's user id; UNAUTHENTICATED for a session without one (anonymous, or admin not acting as a user). */
export function signedInUser(session: Session): string {
  if (!session.userId) throw unauthenticated('This needs a signed-in user (a token with x-hasura-user-id)');
  return session.userId;
}

export const HASURA_CLAIMS = 'https://hasura.io/jwt/claims';
export const ADMIN_ROLE = 'admin';

export interface AuthOptions {
  adminSecret?: string | undefined;
  jwtSecret?: string | undefined;
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  /** Accept tokens without `exp` (they are cached for a minute and never end a socket). */
  allowNoExp?: boolean;
  allowAnonymous: boolean;
  anonymousRole: string;
  /** The operator console's cookie sessions (gateway/console/sessions.ts); none without an admin secret. */
  consoleSessions?: ConsoleSessions | undefined;
}

/** Header-like lookup: HTTP `Headers`, or the plain object of a graphql-ws `connection_init`. */
export type HeaderSource = { get(name: string): string | null };

/** A Session, synchronously when the token was verified before (the common case). */
export type Authenticate = (headers: HeaderSource) => Session | Promise<Session>;

/** Sessions are cached by token (and role) until the token expires: a busy client costs one verify. */
const SESSION_CACHE_SIZE = 2000;
/** How long a token without `exp` (PLUGBOARD_JWT_ALLOW_NO_EXP) is cached. */
const NO_EXP_CACHE_MS = 60_000;

export function createAuthenticator(options: AuthOptions): Authenticate {
  // The HMAC key is imported once: handing jose the secret's bytes imports it again on every
  // verify, a third of a verify's cost (10,000 sockets connecting at once verify 10,000 tokens).
  const key: Promise<CryptoKey> | JWTVerifyGetKey | undefined = options.jwtSecret
    ? crypto.subtle.importKey(
        'raw',
        new TextEncoder().encode(options.jwtSecret),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['verify'],
      )
    : options.jwksUrl
      ? createRemoteJWKSet(new URL(options.jwksUrl))
      : undefined;
  const algorithms = options.jwtSecret ? ['HS256'] : ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];
  const adminSecretDigest = options.adminSecret ? digest(options.adminSecret) : undefined;
  const anonymous = frozen({
    role: options.anonymousRole,
    userId: null,
    allowedRoles: [options.anonymousRole],
    variables: {},
    via: 'anonymous',
  });
  const sessions = new Map<string, { session: Session; expiresAt: number }>();

  async function verify(token: string): Promise<{ claims: Record<string, unknown>; expiresAt: number | undefined }> {
    if (!key)
      throw unauthenticated(
        'Bearer tokens are not accepted: neither PLUGBOARD_JWT_SECRET nor PLUGBOARD_JWKS_URL is configured',
      );
    let payload: JWTPayload;
    try {
      // jose's overloads differ only in the key's type; both forms verify the same way.
      const verified =
        key instanceof Promise
          ? await jwtVerify(token, await key, { algorithms, issuer: options.issuer, audience: options.audience })
          : await jwtVerify(token, key, { algorithms, issuer: options.issuer, audience: options.audience });
      payload = verified.payload;
    } catch (error) {
      throw unauthenticated(describeJwtError(error));
    }
    // A token without exp would be good forever once it leaks, so it is refused unless allowed.
    if (payload.exp === undefined && !options.allowNoExp)
      throw unauthenticated('Token has no "exp" claim: tokens must expire');
    return { claims: readHasuraClaims(payload), expiresAt: payload.exp === undefined ? undefined : payload.exp * 1000 };
  }

  function fromToken(token: string, requestedRole: string | null): Session | Promise<Session> {
    const cacheKey = requestedRole === null ? token : `${requestedRole} ${token}`;
    const cached = sessions.get(cacheKey);
    if (cached && cached.expiresAt > Date.now()) return cached.session;
    return verify(token).then(({ claims, expiresAt }) => {
      const session = sessionFromClaims(claims, requestedRole, expiresAt);
      if (sessions.size >= SESSION_CACHE_SIZE) sessions.delete(sessions.keys().next().value!);
      sessions.set(cacheKey, { session, expiresAt: expiresAt ?? Date.now() + NO_EXP_CACHE_MS });
      return session;
    });
  }

  /** The console's admin session: its cookie, and its CSRF token in the header (the cookie alone is nothing). */
  async function fromConsole(cookie: string | null, csrfToken: string): Promise<Session> {
    const session = await options.consoleSessions?.read(cookie);
    if (!session || !csrfMatches(session, csrfToken))
      throw unauthenticated('The console session is missing, expired or not this one: sign in again');
    return frozen({
      role: ADMIN_ROLE,
      userId: null,
      allowedRoles: [ADMIN_ROLE],
      variables: {},
      via: 'console',
      expiresAt: session.expiresAt,
    });
  }

  return function authenticate(headers) {
    const adminSecret = headers.get('x-hasura-admin-secret');
    const authorization = headers.get('authorization');
    const requestedRole = headers.get('x-hasura-role');

    if (adminSecret !== null) {
      if (!adminSecretDigest || !timingSafeEqual(digest(adminSecret), adminSecretDigest)) {
        throw unauthenticated('Invalid x-hasura-admin-secret');
      }
      // Like Hasura: the admin may act as any role and pass session variables as headers.
      const variables: Record<string, string> = {};
      for (const name of ['x-hasura-user-id', 'x-hasura-role']) {
        const value = headers.get(name);
        if (value !== null) variables[name] = value;
      }
      const role = requestedRole ?? ADMIN_ROLE;
      return frozen({
        role,
        userId: variables['x-hasura-user-id'] ?? null,
        allowedRoles: [role],
        variables,
        via: 'admin-secret',
      });
    }

    const csrfToken = headers.get(CSRF_HEADER);
    if (csrfToken !== null) return fromConsole(headers.get('cookie'), csrfToken);

    if (authorization !== null) {
      // "Bearer <token>", scheme case-insensitive (RFC 7235), one token without spaces.
      const token = authorization.slice(7).trim();
      if (authorization.slice(0, 7).toLowerCase() !== 'bearer ' || token === '' || /\s/.test(token)) {
        throw unauthenticated('Malformed Authorization header: expected "Bearer <token>"');
      }
      return fromToken(token, requestedRole);
    }

    if (!options.allowAnonymous) throw unauthenticated('Authentication required: send Authorization: Bearer <token>');
    return anonymous;
  };
}

/** Sessions are shared between the requests of a cached token, so none may change one. */
function frozen(session: Session): Session {
  Object.freeze(session.allowedRoles);
  Object.freeze(session.variables);
  return Object.freeze(session);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function describeJwtError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'Token expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'Token signature is invalid';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `Token claim "${error.claim}" is invalid`;
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'Token was signed by an unknown key';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'Token algorithm is not allowed';
  if (error instanceof joseErrors.JOSEError) return 'Token is invalid';
  return 'Token could not be verified';
}

/** Hasura allows the claims as an object or as stringified JSON. */
function readHasuraClaims(payload: JWTPayload): Record<string, unknown> {
  let claims = payload[HASURA_CLAIMS];
  if (typeof claims === 'string') {
    try {
      claims = JSON.parse(claims);
    } catch {
      throw unauthenticated(`Token claim "${HASURA_CLAIMS}" is not valid JSON`);
    }
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw unauthenticated(`Token has no "${HASURA_CLAIMS}" claims`);
  }
  return claims as Record<string, unknown>;
}

function sessionFromClaims(
  claims: Record<string, unknown>,
  requestedRole: string | null,
  expiresAt: number | undefined,
): Session {
  const lower: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(claims)) lower[name.toLowerCase()] = value;
  const defaultRole = lower['x-hasura-default-role'];
  const allowedRoles = lower['x-hasura-allowed-roles'];
  if (typeof defaultRole !== 'string') throw unauthenticated('Token claims lack x-hasura-default-role');
  if (!Array.isArray(allowedRoles) || !allowedRoles.every((r) => typeof r === 'string')) {
    throw unauthenticated('Token claims lack x-hasura-allowed-roles (a list of role names)');
  }
  const role = requestedRole ?? defaultRole;
  if (!allowedRoles.includes(role)) {
    throw codedError(ErrorCode.FORBIDDEN, `Role "${role}" is not in the token's x-hasura-allowed-roles`, {
      http: { status: ERRORS.FORBIDDEN.status },
    });
  }
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(lower)) {
    if (name.startsWith('x-hasura-') && typeof value === 'string') variables[name] = value;
  }
  variables['x-hasura-role'] = role;
  return frozen({
    role,
    userId: variables['x-hasura-user-id'] ?? null,
    allowedRoles,
    variables,
    via: 'jwt',
    ...(expiresAt === undefined ? {} : { expiresAt }),
  });
}

/** Reads graphql-ws `connection_init` payloads: `{headers: {...}}` (Hasura's form) or flat keys. */
export function headersFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): HeaderSource {
  const flat = new Map<string, string>();
  const add = (source: unknown) => {
    if (typeof source !== 'object' || source === null) return;
    for (const [name, value] of Object.entries(source)) {
      if (typeof value === 'string') flat.set(name.toLowerCase(), value);
    }
  };
  add(params);
  add(params?.['headers']);
  return { get: (name) => flat.get(name) ?? null };
}

/**
 * The operator console's sessions: the admin secret, typed once into the sign-in form, is
 * exchanged for a signed, expiring session in an HttpOnly, SameSite=Strict cookie. The cookie
 * alone grants nothing: a request also carries the session's CSRF token in a header, which a
 * page of another site can neither read nor send without CORS letting it. Sessions are JWTs
 * signed with a key derived from PLUGBOARD_ADMIN_SECRET: changing the secret ends them all.
 */
import { hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { parse as parseCookies, serialize } from 'cookie';
import { jwtVerify, SignJWT } from 'jose';

export const CONSOLE_COOKIE = 'plugboard_console';
/** The header the console sends its CSRF token in (graphql-ws: a connection_init key of that name). */
export const CSRF_HEADER = 'x-plugboard-csrf';
const AUDIENCE = 'plugboard-console';

export interface ConsoleSession {
  csrfToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface ConsoleSessions {
  /** A new session, and the Set-Cookie header value that carries it. */
  issue(secure: boolean): Promise<ConsoleSession & { cookie: string }>;
  /** The session in a Cookie header, or null when there is none or it is not valid (tampered, expired). */
  read(cookieHeader: string | null | undefined): Promise<ConsoleSession | null>;
  /** The Set-Cookie header value that removes the session cookie. */
  clear(secure: boolean): string;
}

export function createConsoleSessions(adminSecret: string, lifetimeSeconds: number): ConsoleSessions {
  const key = new Uint8Array(hkdfSync('sha256', adminSecret, 'plugboard', 'console session', 32));
  const cookieOptions = (secure: boolean, maxAge: number) =>
    ({ httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge }) as const;
  return {
    async issue(secure) {
      const csrfToken = randomBytes(24).toString('base64url');
      const expiresAt = (Math.floor(Date.now() / 1000) + lifetimeSeconds) * 1000;
      const token = await new SignJWT({ csrf: csrfToken })
        .setProtectedHeader({ alg: 'HS256' })
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(expiresAt / 1000)
        .sign(key);
      return { csrfToken, expiresAt, cookie: serialize(CONSOLE_COOKIE, token, cookieOptions(secure, lifetimeSeconds)) };
    },
    async read(cookieHeader) {
      const token = cookieHeader ? parseCookies(cookieHeader)[CONSOLE_COOKIE] : undefined;
      if (!token) return null;
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], audience: AUDIENCE });
        if (typeof payload['csrf'] !== 'string' || payload.exp === undefined) return null;
        return { csrfToken: payload['csrf'], expiresAt: payload.exp * 1000 };
      } catch {
        return null;
      }
    },
    clear: (secure) => serialize(CONSOLE_COOKIE, '', cookieOptions(secure, 0)),
  };
}

/** Whether the header's token is the session's (constant time). */
export function csrfMatches(session: ConsoleSession, header: string): boolean {
  const expected = Buffer.from(session.csrfToken);
  const sent = Buffer.from(header);
  return expected.length === sent.length && timingSafeEqual(expected, sent);
}

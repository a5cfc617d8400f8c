/** Hasura-style JWTs for tests, signed with jose. */
import { SignJWT, type CryptoKey, type KeyObject } from 'jose';

export const JWT_SECRET = 'test-secret-0123456789abcdef-0123456789';
export const ADMIN_SECRET = 'test-admin-secret-0123';

export interface ClaimsInput {
  userId?: string;
  defaultRole?: string;
  allowedRoles?: string[];
  extra?: Record<string, string>;
  expiresIn?: string | number;
}

export function hasuraClaims(input: ClaimsInput = {}): Record<string, unknown> {
  const defaultRole = input.defaultRole ?? 'user';
  return {
    'x-hasura-default-role': defaultRole,
    'x-hasura-allowed-roles': input.allowedRoles ?? [defaultRole],
    ...(input.userId ? { 'x-hasura-user-id': input.userId } : {}),
    ...input.extra,
  };
}

export async function signToken(
  input: ClaimsInput = {},
  key: Uint8Array | CryptoKey | KeyObject = new TextEncoder().encode(JWT_SECRET),
  alg = 'HS256',
  kid?: string,
): Promise<string> {
  return new SignJWT({ 'https://hasura.io/jwt/claims': hasuraClaims(input) })
    .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
    .setSubject(input.userId ?? 'anonymous')
    .setIssuedAt()
    .setExpirationTime(input.expiresIn ?? '1h')
    .sign(key);
}

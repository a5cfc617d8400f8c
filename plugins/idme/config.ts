import { ConfigError, type ConfigValues } from '../../gateway/sdk.ts';

export const GROUP_SCOPES = ['military', 'veteran', 'responder', 'government', 'teacher', 'student', 'nurse'] as const;
export type GroupScope = (typeof GROUP_SCOPES)[number];

const ISSUERS = { production: 'https://api.id.me/oidc', sandbox: 'https://api.idmelabs.com/oidc' };
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface IdmeConfig {
  clientId: string;
  clientSecret: string;
  redirectUri: URL;
  scopes: string[];
  issuer: URL;
  frontendUrl: URL | null;
  stateTtlSeconds: number;
  /** Days authorization requests are kept after they expire; 0 keeps them forever. */
  requestsRetentionDays: number;
  /** 0: verifications do not expire. */
  verificationTtlDays: number;
  httpTimeoutSeconds: number;
}

export function readIdmeConfig(values: ConfigValues): IdmeConfig {
  const scopes = [...new Set(values.string('IDME_SCOPES').split(','))];
  if (!scopes.includes('openid')) {
    throw new ConfigError([
      {
        variable: 'IDME_SCOPES',
        owner: 'idme',
        message: 'must include openid (ID.me verifies through OpenID Connect)',
      },
    ]);
  }
  const issuer = new URL(
    values.optionalString('IDME_ISSUER_URL') ?? (values.boolean('IDME_SANDBOX') ? ISSUERS.sandbox : ISSUERS.production),
  );
  if (issuer.protocol === 'http:' && !LOOPBACK.has(issuer.hostname)) {
    throw new ConfigError([
      {
        variable: 'IDME_ISSUER_URL',
        owner: 'idme',
        message: 'must be https:// (http:// is accepted for localhost only)',
      },
    ]);
  }
  const frontend = values.optionalString('IDME_FRONTEND_URL');
  return {
    clientId: values.string('IDME_CLIENT_ID'),
    clientSecret: values.string('IDME_CLIENT_SECRET'),
    redirectUri: new URL(values.string('IDME_REDIRECT_URI')),
    scopes,
    issuer,
    frontendUrl: frontend ? new URL(frontend) : null,
    stateTtlSeconds: values.number('IDME_STATE_TTL'),
    requestsRetentionDays: values.number('IDME_REQUESTS_RETENTION_DAYS'),
    verificationTtlDays: values.number('IDME_VERIFICATION_TTL_DAYS'),
    httpTimeoutSeconds: values.number('IDME_HTTP_TIMEOUT'),
  };
}

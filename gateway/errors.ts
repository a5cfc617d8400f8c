/**
 * The gateway's catalog of client-facing error codes. Every error a client sees carries one of
 * these (or a plugin's own, declared in its definition's `errors`) in `extensions.code`. Each
 * entry carries its code and the HTTP status a REST route, a webhook route or a Hasura action
 * answers with it; README "Errors" documents each, and a test checks that it does.
 */
import { GraphQLError } from 'graphql';

/** A code of the catalog: its HTTP status and what it means (README "Errors"). */
export interface ErrorEntry {
  readonly code: string;
  readonly status: number;
  readonly description: string;
}

/** What a plugin declares for each of its own codes (the code is the key, in UPPER_SNAKE). */
export type PluginErrors = Record<string, { status: number; description: string }>;

type Catalog<T> = {
  readonly [K in keyof T & string]: ErrorEntry & { readonly code: K };
};

/** Gives each entry its code, as Fastify's `createError(code, message, statusCode)` does. */
function catalog<const T extends PluginErrors>(entries: T): Catalog<T> {
  return Object.fromEntries(Object.entries(entries).map(([code, entry]) => [code, { code, ...entry }])) as Catalog<T>;
}

export const ERRORS = catalog({
  UNAUTHENTICATED: { status: 401, description: 'Missing, invalid or expired credentials (WebSocket close 4403).' },
  FORBIDDEN: { status: 403, description: 'Authenticated, but not allowed to do this.' },
  BAD_USER_INPUT: { status: 400, description: 'Arguments that are well-formed GraphQL but not acceptable.' },
  GRAPHQL_PARSE_FAILED: { status: 400, description: 'The document could not be parsed.' },
  GRAPHQL_VALIDATION_FAILED: { status: 400, description: 'The document does not validate against the schema.' },
  QUERY_TOO_COMPLEX: {
    status: 400,
    description: 'Depth, aliases, tokens, directives or cost over the configured limit.',
  },
  PERSISTED_QUERY_NOT_FOUND: {
    status: 400,
    description: 'No trusted document has the documentId (or APQ sha256Hash) sent (PLUGBOARD_TRUSTED_DOCUMENTS).',
  },
  PERSISTED_QUERY_ONLY: {
    status: 400,
    description: "A document's text was sent where PLUGBOARD_DOCUMENTS allows trusted documents only.",
  },
  BAD_REQUEST: { status: 400, description: 'Malformed HTTP request (bad JSON, missing query, CSRF header missing).' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'Request body over PLUGBOARD_BODY_LIMIT.' },
  NOT_FOUND: { status: 404, description: 'No route, action or object of that name.' },
  WEBHOOK_SIGNATURE_INVALID: {
    status: 400,
    description: "A webhook's signature is missing, wrong or too old (nothing is stored).",
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    description: 'A dependency (Postgres, Redis) is unavailable, or Postgres takes no writes; retry later.',
  },
  RATE_LIMITED: { status: 429, description: 'Too many requests of this kind from this connection or user; slow down.' },
  TOO_MANY_OPERATIONS: {
    status: 429,
    description: 'A graphql-ws socket already has PLUGBOARD_MAX_OPERATIONS_PER_SOCKET operations in flight.',
  },
  INTERNAL_SERVER_ERROR: {
    status: 500,
    description: 'Anything unexpected; the message is masked outside development.',
  },
});

export type ErrorCode = keyof typeof ERRORS;

/** The gateway's codes by name, for `codedError(ErrorCode.FORBIDDEN, …)`. */
export const ErrorCode = Object.fromEntries(Object.keys(ERRORS).map((code) => [code, code])) as {
  readonly [K in ErrorCode]: K;
};

/** The gateway's codes and every enabled plugin's (gateway/plugin/services.ts collects them), by code. */
export type ErrorCatalog = ReadonlyMap<string, ErrorEntry>;

/** The HTTP status of a code; a code no catalog declares is answered as bad input (400). */
export function statusOf(catalog: ErrorCatalog, code: string): number {
  return catalog.get(code)?.status ?? ERRORS.BAD_USER_INPUT.status;
}

/**
 * Postgres or Redis cannot serve the request now: the client should retry, not report a bug.
 * Connection failures, a server shutting down or starting (57P01, 57P03), too many connections
 * (53300), and a database that takes no writes: read-only (25006, e.g.
 * `default_transaction_read_only`, a standby) or out of disk (53100).
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P03',
  '53300',
  '25006',
  '53100',
]);
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) || UNAVAILABLE_MESSAGES.test(error.message);
}

/** What a client is told when isUnavailable(error): which kind of outage, never the server's own words. */
export function unavailableMessage(error: unknown): string {
  switch ((error as { code?: unknown } | null)?.code) {
    case '25006':
      return 'The database is read-only now and takes no writes; retry later.';
    case '53100':
      return 'The database is out of disk space and takes no writes; retry later.';
    default:
      return 'A service the gateway depends on is unavailable; retry later.';
  }
}

/**
 * Postgres refused the data itself: SQLSTATE class 22 (data exception: `\u0000` in text or JSON,
 * a number out of range, an unreadable date) or 54 (over a limit, e.g. a key too long to index).
 * Input that can never be stored, so the answer is a 4xx, not a retry.
 */
export function isRefusedValue(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code);
}

export function codedError(code: string, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

export const unauthenticated = (message: string) =>
  codedError(ErrorCode.UNAUTHENTICATED, message, { http: { status: ERRORS.UNAUTHENTICATED.status } });

export const forbidden = (message: string) => codedError(ErrorCode.FORBIDDEN, message);

export const badUserInput = (message: string) => codedError(ErrorCode.BAD_USER_INPUT, message);

/**
 * A request the caller got wrong (or may not make), from a plugin's service or the gateway: the
 * GraphQL error masker answers it with its code (BAD_USER_INPUT unless given another of the
 * catalog, e.g. FORBIDDEN or a plugin's own) and message, the Hasura routes with its code's
 * status, and the CLI prints the message and exits 2. Nothing else needs to translate it.
 */
export class InputError extends Error {
  readonly code: string;
  constructor(message: string, code: string = ErrorCode.BAD_USER_INPUT) {
    super(message);
    this.name = 'InputError';
    this.code = code;
  }
}

/** A CLI command's input was wrong: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

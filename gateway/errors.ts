/**
 * The gateway's catalog of client-facing error codes. Every error a client sees carries one of
 * these (or a plugin's own) in `extensions.code`; README "Errors" documents each, and a test
 * checks that it does.
 */
import { GraphQLError } from 'graphql';

export const ErrorCode = {
  /** Missing, invalid or expired credentials (HTTP 401, WebSocket close 4403). */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** Authenticated, but not allowed to do this. */
  FORBIDDEN: 'FORBIDDEN',
  /** Arguments that are well-formed GraphQL but not acceptable. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The document could not be parsed. */
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  /** The document does not validate against the schema. */
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  /** Depth, aliases, tokens, directives or cost over the configured limit. */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  /** Malformed HTTP request (bad JSON, missing query, CSRF header missing). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** Request body over PLUGBOARD_BODY_LIMIT (HTTP 413). */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** No route at that path (HTTP 404). */
  NOT_FOUND: 'NOT_FOUND',
  /** A webhook's signature is missing, wrong or too old (HTTP 400; nothing is stored). */
  WEBHOOK_SIGNATURE_INVALID: 'WEBHOOK_SIGNATURE_INVALID',
  /** A dependency (Postgres, Redis) is unavailable; retry later (HTTP 503). */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** Too many requests of this kind from this connection or user; slow down. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A graphql-ws socket already has PLUGBOARD_MAX_OPERATIONS_PER_SOCKET operations in flight. */
  TOO_MANY_OPERATIONS: 'TOO_MANY_OPERATIONS',
  /** Anything unexpected; the message is masked outside development. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Connection failures to Postgres or Redis: the client should retry, not report a bug. */
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
]);
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) || UNAVAILABLE_MESSAGES.test(error.message);
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
  codedError(ErrorCode.UNAUTHENTICATED, message, { http: { status: 401 } });

export const forbidden = (message: string) => codedError(ErrorCode.FORBIDDEN, message);

export const badUserInput = (message: string) => codedError(ErrorCode.BAD_USER_INPUT, message);

/** A CLI command's input was wrong: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

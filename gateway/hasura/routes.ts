/**
 * Plugboard behind a Hasura engine. `POST /hasura/actions` answers Hasura Actions by running the
 * action's own GraphQL field through the same yoga pipeline as /graphql (limits, error masking,
 * compiled execution), with the session Hasura forwards. `POST /hasura/events` hands event
 * trigger deliveries to the plugin that owns the trigger. Both trust a request only when it
 * carries HASURA_ACTION_SECRET in `x-plugboard-action-secret`. Plugins declare their actions and
 * triggers; nothing here knows any plugin.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type GraphQLType,
} from 'graphql';
import type { Logger } from 'pino';
import type { Session } from '../auth.ts';
import { type ErrorCatalog, ERRORS, type ErrorEntry, InputError, isRefusedValue, statusOf } from '../errors.ts';
import type { GraphQLServer } from '../http/graphql.ts';
import type { OperationMetrics } from '../metrics.ts';
import { BodyTooLarge, readBody, sendJson, type RouteHandler } from '../http/replies.ts';

export const SECRET_HEADER = 'x-plugboard-action-secret';
export const ACTIONS_PATH = '/hasura/actions';
export const EVENTS_PATH = '/hasura/events';

/** How a plugin marks a Query or Mutation field of its schema as a Hasura action. */
export interface HasuraActionSpec {
  /** `asynchronous`: Hasura answers the client with an action id and calls us in the background. */
  kind: 'synchronous' | 'asynchronous';
  /** Roles besides admin that Hasura lets call it (admin always may); the field checks again. */
  roles: string[];
}

/** An event trigger a plugin defines on one of its own tables. */
export interface HasuraEventTriggerSpec {
  /** A table of the plugin's schema. */
  table: string;
  /** The operations that fire it (a trigger may also be run by hand from the console: MANUAL). */
  on: readonly ('insert' | 'update' | 'delete')[];
}

/** An event-trigger delivery, as Hasura sends it (camel-cased). */
export interface HasuraEvent {
  /** Hasura's event id: a redelivery carries the same one. */
  id: string;
  createdAt: string;
  trigger: string;
  table: { schema: string; name: string };
  op: 'INSERT' | 'UPDATE' | 'DELETE' | 'MANUAL';
  old: Record<string, unknown> | null;
  new: Record<string, unknown> | null;
  sessionVariables: Record<string, string>;
}

/**
 * Handles one trigger's deliveries. Resolve only once the work is committed or enqueued; Hasura
 * redelivers until it gets a 2xx, so the same event may come twice: be idempotent on `event.id`.
 */
export type EventTriggerHandler = (event: HasuraEvent) => Promise<unknown>;

export interface ActionField {
  name: string;
  operation: 'query' | 'mutation';
  field: GraphQLField<unknown, unknown>;
  spec: HasuraActionSpec;
}

/** The declared actions, found in the composed schema (a declared field that is missing is an error). */
export function actionFields(schema: GraphQLSchema, actions: ReadonlyMap<string, HasuraActionSpec>): ActionField[] {
  return [...actions].map(([name, spec]) => {
    const mutation = schema.getMutationType()?.getFields()[name];
    const query = schema.getQueryType()?.getFields()[name];
    if (!mutation && !query)
      throw new Error(`Hasura action ${name} is declared, but the schema has no Query or Mutation field ${name}`);
    return { name, operation: mutation ? 'mutation' : 'query', field: (mutation ?? query)!, spec };
  });
}

const MAX_SELECTION_DEPTH = 4;

/** Every field of an output type that needs no arguments, to MAX_SELECTION_DEPTH: Hasura picks what it wants. */
function selectionOf(type: GraphQLOutputType, depth = 0): string {
  const named = getNamedType(type);
  if (isScalarType(named) || isEnumType(named)) return '';
  if (!isObjectType(named) || depth >= MAX_SELECTION_DEPTH) return '{ __typename }';
  const fields = Object.values(named.getFields())
    .filter((field) => field.args.every((arg) => !isNonNullType(arg.type) || arg.defaultValue !== undefined))
    .map((field) => `${field.name} ${selectionOf(field.type, depth + 1)}`.trim());
  return `{ ${fields.join(' ')} }`;
}

/** The operation an action runs: its field, every argument a variable, the whole output selected. */
export function actionDocument(action: ActionField): { operationName: string; query: string } {
  const { field } = action;
  const operationName = `${field.name}Action`;
  const variables = field.args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
  const args = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  return {
    operationName,
    query: `${action.operation} ${operationName}${variables ? `(${variables})` : ''} { result: ${field.name}${args ? `(${args})` : ''} ${selectionOf(field.type)} }`,
  };
}

/** Whether the request carries the shared secret (compared in constant time). */
function trusted(request: IncomingMessage, secret: string): boolean {
  const given = request.headers[SECRET_HEADER];
  if (typeof given !== 'string') return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(secret));
}

/**
 * Hasura's error shape for action and event handlers, `{ message, extensions: { code } }`, with the
 * code's status from the catalog (or `status`, where HTTP has a more precise one).
 */
function fail(
  response: ServerResponse,
  error: Pick<ErrorEntry, 'code' | 'status'>,
  message: string,
  { status = error.status, extensions = {} }: { status?: number; extensions?: Record<string, unknown> } = {},
): void {
  sendJson(response, status, { message, extensions: { code: error.code, ...extensions } });
}

/** Reads a JSON object body; answers the client itself (413/415/400) and returns null when it cannot. */
async function readJson(
  request: IncomingMessage,
  response: ServerResponse,
  bodyLimit: number,
): Promise<Record<string, unknown> | null> {
  if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
    fail(response, ERRORS.BAD_REQUEST, 'Send application/json', { status: 415 });
    return null;
  }
  let body: unknown;
  try {
    body = JSON.parse((await readBody(request, response, bodyLimit)).toString('utf8'));
  } catch (error) {
    if (error instanceof BodyTooLarge) fail(response, ERRORS.PAYLOAD_TOO_LARGE, `Body over ${bodyLimit} bytes`);
    else if (error instanceof SyntaxError) fail(response, ERRORS.BAD_REQUEST, 'Body is not valid JSON');
    else throw error;
    return null;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    fail(response, ERRORS.BAD_REQUEST, 'Body must be a JSON object');
    return null;
  }
  return body as Record<string, unknown>;
}

/** A payload that can never be handled, whoever retries it: answered 400. */
export class MalformedPayload extends Error {}

/** Longest event id, action and trigger name taken (Hasura's are UUIDs and short names). */
const MAX_NAME_LENGTH = 128;
/** Postgres' longest identifier (NAMEDATALEN − 1). */
const MAX_IDENTIFIER_LENGTH = 63;

/**
 * The caller Hasura vouches for: its session variables, role and user. Hasura treats session
 * variable names case-insensitively, so they are lower-cased here (`X-Hasura-Role` is
 * `x-hasura-role`); two names that differ only in case are refused rather than one picked, as
 * are values that are not strings (Hasura sends strings). Throws MalformedPayload.
 */
export function sessionFromHasura(variables: unknown, defaultRole: string): Session {
  const vars: Record<string, string> = {};
  if (variables !== undefined && variables !== null) {
    if (typeof variables !== 'object' || Array.isArray(variables))
      throw new MalformedPayload('session_variables must be an object');
    for (const [key, value] of Object.entries(variables)) {
      const name = key.toLowerCase();
      if (typeof value !== 'string')
        throw new MalformedPayload(`Session variable ${key.slice(0, MAX_NAME_LENGTH)} must be a string`);
      if (Object.hasOwn(vars, name))
        throw new MalformedPayload(
          `Session variable ${name.slice(0, MAX_NAME_LENGTH)} is given twice, in different cases`,
        );
      vars[name] = value;
    }
  }
  const role = vars['x-hasura-role'] ?? defaultRole;
  return Object.freeze({
    role,
    userId: vars['x-hasura-user-id'] ?? null,
    allowedRoles: Object.freeze([role]),
    variables: Object.freeze(vars),
    via: 'hasura' as const,
  });
}

export interface HasuraRouteOptions {
  graphql: GraphQLServer;
  metrics: OperationMetrics;
  schema: GraphQLSchema;
  actions: ReadonlyMap<string, HasuraActionSpec>;
  triggers: ReadonlyMap<string, EventTriggerHandler>;
  secret: string | undefined;
  /** The gateway's and the enabled plugins' error codes, for the status of each. */
  errors: ErrorCatalog;
  /** The role of a Hasura session without x-hasura-role (Hasura sends one unless unauthorized). */
  anonymousRole: string;
  bodyLimit: number;
  log: Logger;
}

type ActionResult = {
  data?: { result?: unknown } | null;
  errors?: readonly { message: string; extensions?: { code?: string; retryable?: boolean } }[];
};

export function hasuraRoutes(options: HasuraRouteOptions): Map<string, RouteHandler> {
  const { graphql, metrics, secret, bodyLimit, log } = options;
  /** A code's entry in the catalog; a code no one declared is answered as bad input. */
  const entry = (code: string) => ({ code, status: statusOf(options.errors, code) });
  const documents = new Map(
    actionFields(options.schema, options.actions).map((action) => [action.name, actionDocument(action)]),
  );

  /**
   * Runs an action's document through yoga's envelop (its parse/validate caches, query limits,
   * error masking and compiled execution), as the graphql-ws path does: no inner Request, and no
   * JSON round trip of the result.
   */
  const execute = async (
    query: string,
    variables: Record<string, unknown>,
    session: Session,
  ): Promise<ActionResult> => {
    const enveloped = graphql.getEnveloped({ session, params: { query, variables } });
    const document = enveloped.parse(query);
    const errors = enveloped.validate(enveloped.schema, document);
    if (errors.length > 0) return { errors };
    const result = await enveloped.execute({
      schema: enveloped.schema,
      document,
      variableValues: variables,
      contextValue: await enveloped.contextFactory(),
    });
    return result as ActionResult;
  };

  /** The secret check shared by both routes; answers 503/401 itself. */
  const admit = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (!secret) {
      fail(response, ERRORS.SERVICE_UNAVAILABLE, 'Hasura integration is off: set HASURA_ACTION_SECRET');
      return false;
    }
    if (!trusted(request, secret)) {
      fail(response, ERRORS.UNAUTHENTICATED, `Missing or wrong ${SECRET_HEADER}`);
      return false;
    }
    return true;
  };

  const actions: RouteHandler = async (request, response) => {
    if (!admit(request, response)) return;
    const body = await readJson(request, response, bodyLimit);
    if (!body) return;
    const name = (body['action'] as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || name.length > MAX_NAME_LENGTH)
      return fail(
        response,
        ERRORS.BAD_REQUEST,
        "Expected Hasura's action payload: { action: { name }, input, session_variables }",
      );
    const document = documents.get(name);
    if (!document) return fail(response, ERRORS.NOT_FOUND, `No action named ${name}`);
    const input = body['input'] ?? {};
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      return fail(response, ERRORS.BAD_REQUEST, 'input must be an object');

    let session: Session;
    try {
      session = sessionFromHasura(body['session_variables'], options.anonymousRole);
    } catch (error) {
      if (error instanceof MalformedPayload) return fail(response, ERRORS.BAD_REQUEST, error.message);
      throw error;
    }
    const result = await metrics.measure(document.operationName, () =>
      execute(document.query, input as Record<string, unknown>, session),
    );
    const error = result.errors?.[0];
    if (error) {
      const code = error.extensions?.code ?? ERRORS.INTERNAL_SERVER_ERROR.code;
      return fail(
        response,
        entry(code),
        error.message,
        error.extensions?.retryable
          ? { status: ERRORS.SERVICE_UNAVAILABLE.status, extensions: { retryable: true } }
          : {},
      );
    }
    sendJson(response, 200, result.data?.result ?? null);
  };

  const events: RouteHandler = async (request, response) => {
    if (!admit(request, response)) return;
    const body = await readJson(request, response, bodyLimit);
    if (!body) return;
    const trigger = (body['trigger'] as { name?: unknown } | undefined)?.name;
    const event = body['event'] as
      | { op?: unknown; data?: { old?: unknown; new?: unknown }; session_variables?: unknown }
      | undefined;
    const table = body['table'] as { schema?: unknown; name?: unknown } | undefined;
    const ops = ['INSERT', 'UPDATE', 'DELETE', 'MANUAL'];
    // Bounded, so what can never be stored is a 400 Hasura stops at, not a 500 it retries forever.
    const text = (value: unknown, max: number): value is string =>
      typeof value === 'string' && value.length > 0 && value.length <= max;
    const createdAt = body['created_at'];
    if (
      !text(body['id'], MAX_NAME_LENGTH) ||
      !text(trigger, MAX_NAME_LENGTH) ||
      !event ||
      !ops.includes(event.op as string) ||
      !text(table?.name, MAX_IDENTIFIER_LENGTH) ||
      !(table.schema === undefined || text(table.schema, MAX_IDENTIFIER_LENGTH)) ||
      !(createdAt === undefined || text(createdAt, 64))
    ) {
      return fail(
        response,
        ERRORS.BAD_REQUEST,
        `Expected Hasura's event payload: { id, trigger: { name }, table: { schema, name }, event: { op, data: { old, new } } }, names and id at most ${MAX_NAME_LENGTH} characters`,
      );
    }
    const id = body['id'];
    const handler = options.triggers.get(trigger);
    if (!handler) return fail(response, ERRORS.NOT_FOUND, `No plugin handles event trigger ${trigger}`);
    const row = (value: unknown) =>
      typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
    let session: Session;
    try {
      session = sessionFromHasura(event.session_variables, options.anonymousRole);
    } catch (error) {
      if (error instanceof MalformedPayload) return fail(response, ERRORS.BAD_REQUEST, error.message);
      throw error;
    }
    try {
      const result = await handler({
        id,
        createdAt: createdAt ?? new Date().toISOString(),
        trigger,
        table: { schema: table.schema ?? 'public', name: table.name },
        op: event.op as HasuraEvent['op'],
        old: row(event.data?.old),
        new: row(event.data?.new),
        sessionVariables: session.variables,
      });
      sendJson(response, 200, { ok: true, result: result ?? null });
    } catch (error) {
      // Hasura retries non-2xx answers (per the trigger's retry_conf); the reason is logged here.
      if (error instanceof InputError) return fail(response, entry(error.code), error.message);
      const coded = error as { message?: string; extensions?: { code?: string } };
      const code = coded.extensions?.code;
      if (code && code !== ERRORS.INTERNAL_SERVER_ERROR.code)
        return fail(response, entry(code), coded.message ?? 'Event refused');
      // A retry would be refused too.
      if (isRefusedValue(error)) {
        log.warn({ err: error, trigger, eventId: id }, 'Hasura event refused: Postgres cannot store its data');
        return fail(response, ERRORS.BAD_REQUEST, 'The event holds data that cannot be stored');
      }
      log.error({ err: error, trigger, eventId: id }, 'Hasura event trigger handler failed');
      fail(response, ERRORS.INTERNAL_SERVER_ERROR, 'The event could not be handled; Hasura will retry it');
    }
  };

  return new Map([
    [`POST ${ACTIONS_PATH}`, actions],
    [`POST ${EVENTS_PATH}`, events],
  ]);
}

/** Named types an action's SDL needs (its arguments' and output's, transitively). */
export function typesOfActions(actions: readonly ActionField[]): GraphQLNamedType[] {
  const seen = new Map<string, GraphQLNamedType>();
  const visit = (type: GraphQLNamedType) => {
    if (seen.has(type.name)) return;
    seen.set(type.name, type);
    if (isObjectType(type) || isInputObjectType(type)) {
      const fields: { type: GraphQLType }[] = Object.values(type.getFields());
      for (const field of fields) visit(getNamedType(field.type));
    }
  };
  for (const { field } of actions) {
    for (const arg of field.args) visit(getNamedType(arg.type));
    visit(getNamedType(field.type));
  }
  return [...seen.values()];
}

/**
 * The GraphQL engine: graphql-yoga over the composed schema, with authentication, query limits
 * (gateway/http/limits.ts), CSRF prevention, Prometheus metrics (gateway/metrics.ts) and error masking.
 */
import { useGraphQlJit } from '@envelop/graphql-jit';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import {
  BREAK,
  getOperationAST,
  GraphQLError,
  Kind,
  OperationTypeNode,
  visit,
  type DocumentNode,
  type GraphQLSchema,
  type Token,
} from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import type { Logger } from 'pino';
import { ADMIN_ROLE, type Authenticate, type Session } from '../auth.ts';
import type { Context } from '../builder.ts';
import { ERRORS, ErrorCode, InputError, isRefusedValue, isUnavailable, unavailableMessage } from '../errors.ts';
import { useQueryLimits } from './limits.ts';
import { useTracing } from './tracing.ts';
import { createLoaders } from '../loaders.ts';
import { currentRequestId, newRequestId } from '../logger.ts';
import type { OperationMetrics } from '../metrics.ts';
import type { PubSub } from '../pubsub.ts';
import type { QueuePort } from '../queue/port.ts';
import type { GatewaySettings } from '../config/settings.ts';
import { documentIdOf, type OperationParams, type TrustedDocuments } from './trusted-documents.ts';
import { tracingEnabled } from '../tracing.ts';

/** What the WebSocket layer hands to yoga with each operation (HTTP passes nothing extra). */
export interface ServerContext {
  /** graphql-ws operations: the socket's id; HTTP requests: taken from AsyncLocalStorage. */
  requestId?: string;
  /** graphql-ws operations: the session of the socket's `connection_init`. */
  session?: Session;
  /** graphql-ws operations: the socket's connection id. */
  socketId?: string;
}

export type GraphQLServer = YogaServerInstance<ServerContext, Context>;

const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'graphql-preflight', 'apollo-require-preflight'];

/**
 * What yoga's parse caches may hold, weighed in bytes: the document's text plus about 150 bytes
 * a token (graphql-js keeps every token and location). yoga's default counts entries (1,024 of
 * any size), and clients choose the documents: 1,024 distinct documents of 5,000 tokens each, or
 * of 900 KB of comment, held about a gigabyte. Real clients' documents fit many times over.
 */
const PARSE_CACHE_BYTES = 32 * 1024 * 1024;
const BYTES_PER_TOKEN = 150;

function tokensOf(document: DocumentNode): number {
  let count = 0;
  for (let token: Token | null | undefined = document.loc?.startToken; token; token = token.next) count++;
  return count;
}

function parseCaches() {
  const cache = <T extends object>(weigh: (value: T, key: string) => number) =>
    new LRUCache<string, T>({
      max: 1024,
      ttl: 3_600_000,
      maxSize: PARSE_CACHE_BYTES,
      sizeCalculation: (value, key) => Math.max(1, weigh(value, key)),
    });
  return {
    documentCache: cache<DocumentNode>((document, text) => text.length + tokensOf(document) * BYTES_PER_TOKEN),
    // A parse error keeps only its message and the text (the key).
    errorCache: cache<object>((_error, text) => text.length),
  };
}

/**
 * yoga's validation cache without its per-request key: yoga joins the names of all the rules into
 * a string on every request and hashes it (graphql-js's 27 rules and the limits'; without it, a
 * small query costs about a tenth fewer instructions: bench/RESULTS.md). Here the rules are the same on every request of a yoga (graphql-js's,
 * added by yoga's engine, then useQueryLimits', fixed when the server is built; no plugin adds one
 * for some requests only), so a result is kept by schema and document alone. First among the
 * plugins, as yoga's is, so the result kept is graphql-js's, before useQueryLimits edits it.
 */
function useValidationCache(): Plugin {
  const bySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, readonly Error[]>>();
  return {
    onValidate({ params: { schema, documentAST }, setResult }) {
      if (schema == null) return;
      let byDocument = bySchema.get(schema);
      if (!byDocument) {
        byDocument = new WeakMap();
        bySchema.set(schema, byDocument);
      }
      const cached = byDocument.get(documentAST);
      if (cached) {
        setResult(cached);
        return;
      }
      return ({ result }) => {
        byDocument.set(documentAST, result);
      };
    },
  };
}

type ErrorExtensions = Record<string, unknown> & { http?: { status?: number; spec?: boolean } };

/**
 * yoga's own request errors (bad JSON, bad params) are BAD_REQUEST and marked `http.spec`,
 * which answers them 200 to application/json clients; a malformed request is a 400 for every
 * client here. GraphQL parse and validation errors keep the GraphQL-over-HTTP behaviour (200
 * for application/json, 400 for application/graphql-response+json). The JSON parser's detail
 * stays server-side outside development.
 */
function withCode(error: GraphQLError, development: boolean): GraphQLError {
  const { originalError: detail, http, ...rest } = error.extensions as ErrorExtensions;
  const code =
    typeof rest['code'] === 'string' ? rest['code'] : http?.status ? ErrorCode.BAD_REQUEST : ErrorCode.BAD_USER_INPUT;
  const malformedRequest = code === ErrorCode.BAD_REQUEST && http?.status;
  if (code === rest['code'] && !detail && !malformedRequest) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    path: error.path,
    extensions: {
      ...rest,
      code,
      ...(http ? { http: malformedRequest ? { status: http.status } : http } : {}),
      ...(development && detail ? { originalError: detail } : {}),
    },
  });
}

/**
 * Errors raised on purpose (GraphQLErrors) reach the client, each with a code; a dependency
 * down becomes SERVICE_UNAVAILABLE; anything else is logged and masked (its message shown only
 * in development).
 */
export function createErrorMasker(
  settings: GatewaySettings,
  log: Logger,
): (error: unknown, message: string) => GraphQLError {
  return (error, message) => {
    const graphqlError = error instanceof GraphQLError ? error : null;
    const original = graphqlError?.originalError;
    if (graphqlError && (!original || original instanceof GraphQLError))
      return withCode(graphqlError, settings.development);
    const cause = original ?? error;
    if (cause instanceof InputError)
      return new GraphQLError(cause.message, {
        nodes: graphqlError?.nodes,
        path: graphqlError?.path,
        extensions: { code: cause.code },
      });
    if (isUnavailable(cause)) {
      log.warn({ err: cause, path: graphqlError?.path }, 'a dependency is unavailable');
      return new GraphQLError(unavailableMessage(cause), {
        nodes: graphqlError?.nodes,
        path: graphqlError?.path,
        extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, http: { status: ERRORS.SERVICE_UNAVAILABLE.status } },
      });
    }
    if (isRefusedValue(cause)) {
      log.warn({ err: cause, path: graphqlError?.path }, 'Postgres refused a value');
      return new GraphQLError(`A value cannot be stored: ${(cause as Error).message}`, {
        nodes: graphqlError?.nodes,
        path: graphqlError?.path,
        extensions: { code: ErrorCode.BAD_USER_INPUT },
      });
    }
    log.error({ err: cause, path: graphqlError?.path }, 'unexpected error in a resolver');
    return new GraphQLError(settings.development ? ((cause as Error).message ?? message) : message, {
      nodes: graphqlError?.nodes,
      path: graphqlError?.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    });
  };
}

export function createGraphQLServer(options: {
  schema: GraphQLSchema;
  settings: GatewaySettings;
  authenticate: Authenticate;
  db: pg.Pool;
  pubsub: PubSub;
  queue: QueuePort;
  log: Logger;
  metrics: OperationMetrics;
  documents: TrustedDocuments;
}): GraphQLServer {
  const { settings, log, documents } = options;
  const caches = parseCaches();

  return createYoga<ServerContext, Context>({
    schema: options.schema,
    graphqlEndpoint: '/graphql',
    graphiql: !settings.production,
    // GraphiQL's scripts, styles and editor workers inlined from the package, not a public CDN:
    // the page works offline. Imported on the first page view (the 9 MB module takes ~0.4 s).
    renderGraphiQL: async (graphiql) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(graphiql),
    landingPage: false,
    batching: false,
    // A trusted document's id (GraphQL over HTTP's persisted documents); APQ's hash goes in `extensions`.
    extraParamNames: ['documentId'],
    // Browsers may read x-request-id; credentials (cookies) only for origins named in config,
    // since Plugboard authenticates with headers, not cookies.
    cors: settings.corsOrigins
      ? { origin: settings.corsOrigins, credentials: true, exposedHeaders: ['x-request-id'] }
      : { credentials: false, exposedHeaders: ['x-request-id'] },
    // yoga logs client mistakes (bad JSON, missing CSRF header) as errors; they are warnings
    // here. Unexpected resolver errors are logged at error level by maskError below.
    logging: {
      // yoga logs at debug on every request: format only when debug is on.
      debug: (...args) => log.isLevelEnabled('debug') && log.debug(args.map(String).join(' ')),
      info: (...args) => log.isLevelEnabled('debug') && log.debug(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => log.warn(args.map(String).join(' ')),
    },
    maskedErrors: { maskError: createErrorMasker(settings, log) },
    // The HTTP layer enforces the body limit (cheaply, without wrapping every body in a stream).
    maxRequestBodySize: false,
    // Validation results are cached by useValidationCache below, not by yoga.
    parserAndValidationCache: { ...caches, validationCache: false },
    context: ({ request, requestId, session, socketId }) => {
      const build = (caller: Session): Context => ({
        session: caller,
        db: options.db,
        pubsub: options.pubsub,
        queue: options.queue,
        loaders: createLoaders(),
        log,
        requestId: requestId ?? currentRequestId() ?? newRequestId(),
        socketId: socketId ?? null,
      });
      const caller = session ?? options.authenticate(request.headers);
      return caller instanceof Promise ? caller.then(build) : build(caller);
    },
    plugins: [
      useValidationCache(),
      useCSRFPrevention({ requestHeaders: CSRF_HEADERS }),
      useTrustedDocuments(documents, options.authenticate),
      useQueryLimits(settings.limits, { introspection: settings.introspection }),
      options.metrics.plugin,
      // Each operation is compiled once (cached by its parsed document) into a function that
      // executes it and a serializer for its result: graphql-js's per-field machinery and
      // JSON.stringify over its null-prototype result objects were most of a large page's CPU.
      // Subscriptions keep graphql-js: graphql-jit's subscribe loses field arguments. So do
      // documents with a variable inside a literal: graphql-jit parses a JSON literal without
      // the variables, so `data: { title: $title }` would lose its title.
      useGraphQlJit(
        {},
        {
          enableIf: ({ document, operationName }) =>
            getOperationAST(document, operationName)?.operation !== OperationTypeNode.SUBSCRIPTION &&
            !hasVariableInLiteral(document),
        },
      ),
      ...(tracingEnabled() ? [useTracing()] : []),
    ],
  });
}

/**
 * A document sent by id runs as its trusted text (TrustedDocuments.resolve, as over graphql-ws):
 * yoga's parse cache, keyed by that text (the same string object each time), then holds its
 * parsed document, and its validation cache the checks of that document. An admin check only
 * where `trusted` mode meets text. (yoga's persisted-operations plugin does the same with a
 * WeakSet and a WeakMap entry per request.)
 */
function useTrustedDocuments(documents: TrustedDocuments, authenticate: Authenticate): Plugin {
  const isAdmin = async (request: Request) => {
    try {
      return (await authenticate(request.headers)).role === ADMIN_ROLE;
    } catch {
      return false;
    }
  };
  return {
    onParams({ params, request }) {
      // yoga reads only query, variables, operationName and extensions from a GET's URL.
      const sent: OperationParams =
        params.query || documentIdOf(params) !== null || request.method !== 'GET'
          ? params
          : { documentId: new URL(request.url).searchParams.get('documentId') ?? undefined };
      const run = (admin: boolean) => {
        const query = documents.resolve(sent, admin, 'http');
        if (typeof query !== 'string') throw query;
        // The request's own parameters object, parsed from its body for this request alone.
        if (query !== params.query) params.query = query;
      };
      return documents.asksWhoSends(sent) ? isAdmin(request).then(run) : run(false);
    },
  };
}

/** Answers of hasVariableInLiteral by document: yoga hands over the same parsed document for a repeated query. */
const variablesInLiterals = new WeakMap<DocumentNode, boolean>();

/** Whether a variable appears inside an object or list literal (`{ a: $a }`, `[$a]`). */
function hasVariableInLiteral(document: DocumentNode): boolean {
  const known = variablesInLiterals.get(document);
  if (known !== undefined) return known;
  let depth = 0;
  let found = false;
  const nest = { enter: () => void depth++, leave: () => void depth-- };
  visit(document, {
    [Kind.OBJECT]: nest,
    [Kind.LIST]: nest,
    [Kind.VARIABLE]: () => {
      if (depth === 0) return undefined;
      found = true;
      return BREAK;
    },
  });
  variablesInLiterals.set(document, found);
  return found;
}

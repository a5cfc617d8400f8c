/**
 * The HTTP layer: one node:http server for /graphql (yoga), graphql-ws upgrades on the same
 * path, and the operational routes /healthz, /readyz and /metrics.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import {
  type DocumentNode,
  type ExecutionArgs,
  getOperationAST,
  GraphQLError,
  type GraphQLSchema,
  OperationTypeNode,
} from 'graphql';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import {
  ADMIN_ROLE,
  expired,
  headersFromConnectionParams,
  type Authenticate,
  type HeaderSource,
  type Session,
} from '../auth.ts';
import { clientAddress, parseTrustedProxies, type TrustedProxies } from './client-ip.ts';
import { codedError, ERRORS, ErrorCode } from '../errors.ts';
import type { Context } from '../builder.ts';
import { createLoaders } from '../loaders.ts';
import type { GraphQLServer } from './graphql.ts';
import { requestIdFrom, withRequestId } from '../logger.ts';
import type { OperationMetrics } from '../metrics.ts';
import type { PluginRoute, SocketConnection, SocketHooks } from '../plugin/contract.ts';
import type { ServerLimits } from '../config/settings.ts';
import { type KeepAlive, Refusal, serveGraphQLWs } from './graphql-ws.ts';
import { createLoadShedder } from './load-shedding.ts';
import type { TrustedDocuments } from './trusted-documents.ts';
import { type EventContexts, sharedSubscription } from './shared-subscriptions.ts';
import { BodyTooLarge, NOSNIFF, readBody, type RouteHandler, sendError } from './replies.ts';

export interface HttpServerOptions {
  graphql: GraphQLServer;
  /** The schema yoga serves (which mutations are sheddable). */
  schema: GraphQLSchema;
  authenticate: Authenticate;
  /** The gateway's own exact-path routes, keyed `METHOD /path`. */
  routes: ReadonlyMap<string, RouteHandler>;
  /** Plugins' routes (webhooks, dashboards, OAuth callbacks). */
  pluginRoutes?: readonly PluginRoute[];
  /** Plugins' hooks on graphql-ws connections. */
  socketHooks?: readonly SocketHooks[];
  /** Proxies whose X-Forwarded-For names a socket's client address (none: the TCP peer). */
  trustedProxies?: TrustedProxies;
  /** Which documents may run, by id or as text (PLUGBOARD_DOCUMENTS, PLUGBOARD_TRUSTED_DOCUMENTS). */
  documents: TrustedDocuments;
  /** Operations one graphql-ws socket may have in flight (PLUGBOARD_MAX_OPERATIONS_PER_SOCKET). */
  maxOperationsPerSocket: number;
  /** Bytes a graphql-ws socket may have waiting to be sent (PLUGBOARD_WS_MAX_BUFFER). */
  maxSocketBuffer: number;
  /** When sheddable mutations are refused (PLUGBOARD_SHED_LAG_MS, PLUGBOARD_SHED_IN_FLIGHT; 0: never). */
  shed: { lagMs: number; inFlight: number };
  /** Masks unexpected errors, as for every operation (see createErrorMasker). */
  maskError: (error: unknown, message: string) => GraphQLError;
  bodyLimit: number;
  /** Timeouts and the connection cap (PLUGBOARD_*_TIMEOUT_MS, PLUGBOARD_MAX_CONNECTIONS). */
  limits: ServerLimits;
  metrics: OperationMetrics;
  log: Logger;
}

/**
 * What the gateway keeps per graphql-ws socket once connection_init let it in; plugins see it as
 * the SocketConnection of their hooks.
 */
class SocketState implements SocketConnection, EventContexts {
  /** What its shared subscriptions' events are executed with, but loaders: set by the first. */
  eventContextBase: Omit<Context, 'loaders'> | undefined;
  /** Operations accepted and not finished yet. */
  operations = 0;
  /** Of those, the sheddable ones (the set is made with the socket's first). */
  sheddable: Set<string> | undefined;

  readonly socket: WebSocket;
  readonly id: string;
  readonly session: Session;
  readonly ip: string;
  readonly requestId: string;

  constructor(socket: WebSocket, id: string, session: Session, ip: string, requestId: string) {
    this.socket = socket;
    this.id = id;
    this.session = session;
    this.ip = ip;
    this.requestId = requestId;
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason.slice(0, 120));
  }

  eventContext(): Context {
    return { ...this.eventContextBase!, loaders: createLoaders() };
  }
}

export interface HttpServer {
  server: Server;
  /** Closes every graphql-ws socket with 1001 (Going Away). */
  closeSockets(): Promise<void>;
}

/** Headers for authentication; HTTP Basic carries the admin secret as its password (browsers). */
function authHeaders(request: IncomingMessage): HeaderSource {
  const authorization = request.headers.authorization;
  let basicSecret: string | null = null;
  if (authorization?.slice(0, 6).toLowerCase() === 'basic ') {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    basicSecret = decoded.slice(decoded.indexOf(':') + 1);
  }
  return {
    get(name) {
      if (basicSecret !== null) {
        if (name === 'x-hasura-admin-secret') return basicSecret;
        if (name === 'authorization') return null;
      }
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : (value ?? null);
    },
  };
}

/** The admin's session, or null after answering 401 (no or bad credentials) or 403 (not admin). */
export async function admitAdmin(
  authenticate: Authenticate,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<Session | null> {
  const challenge = { 'www-authenticate': 'Basic realm="Plugboard admin", charset="UTF-8"' };
  let session: Session;
  try {
    session = await authenticate(authHeaders(request));
  } catch (error) {
    sendError(response, ERRORS.UNAUTHENTICATED, error instanceof GraphQLError ? error.message : 'Unauthorized', {
      headers: challenge,
    });
    return null;
  }
  if (session.via === 'anonymous') {
    sendError(response, ERRORS.UNAUTHENTICATED, 'Admin credentials required', { headers: challenge });
    return null;
  }
  if (session.role !== ADMIN_ROLE) {
    sendError(response, ERRORS.FORBIDDEN, `Role "${session.role}" may not use this route`);
    return null;
  }
  return session;
}

/** The caller's session (anonymous without credentials), or null after answering 401 to bad ones. */
async function admitSession(
  authenticate: Authenticate,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<Session | null> {
  try {
    return await authenticate(authHeaders(request));
  } catch (error) {
    sendError(response, ERRORS.UNAUTHENTICATED, error instanceof GraphQLError ? error.message : 'Unauthorized');
    return null;
  }
}

/** Whether the request carries admin credentials (answers nothing). */
export async function isAdmin(authenticate: Authenticate, request: IncomingMessage): Promise<boolean> {
  try {
    return (await authenticate(authHeaders(request))).role === ADMIN_ROLE;
  } catch {
    return false;
  }
}

/**
 * A node:http server with the gateway's limits: a client gets PLUGBOARD_HEADERS_TIMEOUT_MS for
 * its headers and PLUGBOARD_REQUEST_TIMEOUT_MS for the whole request (then 408 and the
 * connection is closed), an idle keep-alive connection is closed after
 * PLUGBOARD_KEEP_ALIVE_TIMEOUT_MS, and connections past PLUGBOARD_MAX_CONNECTIONS are refused
 * (WebSockets count: they are connections too). Neither timeout covers the answer, so a slow
 * resolver, an SSE stream or an upgraded WebSocket is never cut by them.
 */
export function createLimitedServer(limits: ServerLimits, log: Logger, listener: RequestListener): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often node looks for requests over those timeouts; its default of 30 s would let a
      // slow client hold its connection that much longer.
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    listener,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  // One warning per burst of refusals, not one per connection.
  let dropped = 0;
  server.on('drop', () => {
    if (dropped++ > 0) return;
    setTimeout(() => {
      log.warn({ dropped, maxConnections: limits.maxConnections }, 'connections refused at PLUGBOARD_MAX_CONNECTIONS');
      dropped = 0;
    }, 10_000).unref();
  });
  return server;
}

/** The request id and the headers every response carries, and the JSON 500 when routing throws. */
function handleRequests(
  log: Logger,
  route: (request: IncomingMessage, response: ServerResponse, path: string) => Promise<void>,
): RequestListener {
  return (request, response) => {
    const requestId = requestIdFrom(request.headers['x-request-id']);
    response.setHeader('x-request-id', requestId);
    response.setHeader('x-content-type-options', NOSNIFF['x-content-type-options']);
    const path = (request.url ?? '/').split('?', 1)[0]!;
    withRequestId(requestId, async () => {
      try {
        await route(request, response, path);
      } catch (error) {
        // Cut off (a timeout) or gone before sending its whole request: the client's doing, not a failure here.
        if (!request.complete && request.destroyed)
          return log.debug({ err: error }, 'request aborted before its body was read');
        log.error({ err: error }, 'request failed');
        if (!response.headersSent) sendError(response, ERRORS.INTERNAL_SERVER_ERROR, 'Unexpected error.');
        else response.destroy();
      }
    });
  };
}

const notFound = (request: IncomingMessage, response: ServerResponse, path: string) =>
  sendError(response, ERRORS.NOT_FOUND, `No route for ${request.method} ${path}`);

/** A server for exact-path routes only (the operations port: /metrics, /readyz, /healthz). */
export function createRoutesServer(
  routes: ReadonlyMap<string, RouteHandler>,
  limits: ServerLimits,
  log: Logger,
): Server {
  return createLimitedServer(
    limits,
    log,
    handleRequests(log, async (request, response, path) => {
      const route = routes.get(`${request.method} ${path}`);
      if (route) await route(request, response);
      else notFound(request, response, path);
    }),
  );
}

function matches(route: PluginRoute, method: string, path: string): boolean {
  if (route.method !== 'ANY' && route.method !== method) return false;
  return route.prefix
    ? path === route.path || path.startsWith(route.path.endsWith('/') ? route.path : `${route.path}/`)
    : path === route.path;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { graphql, log, bodyLimit } = options;
  const tooLarge = `Request body is larger than the limit of ${bodyLimit} bytes`;
  const pluginRoutes = options.pluginRoutes ?? [];
  const reserved = ['/graphql', ...[...options.routes.keys()].map((key) => key.split(' ')[1]!)];
  for (const route of pluginRoutes) {
    if (reserved.some((path) => path === route.path || path.startsWith(`${route.path}/`))) {
      throw new Error(`A plugin route at ${route.path} would shadow the gateway's ${reserved.join(', ')}`);
    }
  }

  async function handlePluginRoute(
    route: PluginRoute,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    if (route.access === 'public') return route.handler(request, response, null);
    const session =
      route.access === 'admin'
        ? await admitAdmin(options.authenticate, request, response)
        : await admitSession(options.authenticate, request, response);
    if (!session) return;
    await route.handler(request, response, session);
  }

  async function handleGraphQL(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const declared = request.headers['content-length'];
    // A body of declared size within the limit goes to yoga unread: Node's parser stops at
    // Content-Length. One over the limit, or chunked (no declared size), is read here, counting,
    // and yoga gets the bytes (whatwg-node takes a pre-read `request.body`, as from body parsers).
    if (
      (declared !== undefined && Number(declared) > bodyLimit) ||
      (declared === undefined && request.headers['transfer-encoding'] !== undefined)
    ) {
      try {
        Object.assign(request, { body: await readBody(request, response, bodyLimit) });
      } catch (error) {
        if (!(error instanceof BodyTooLarge)) throw error;
        return sendError(response, ERRORS.PAYLOAD_TOO_LARGE, tooLarge);
      }
    }
    // No server context argument: yoga reads the request id from AsyncLocalStorage, and an
    // extra context object would be merged property by property on every request.
    await graphql.handle(request, response);
  }

  const server = createLimitedServer(
    options.limits,
    log,
    handleRequests(log, async (request, response, path) => {
      const route = options.routes.get(`${request.method} ${path}`);
      if (route) await route(request, response);
      else if (path === '/graphql') await handleGraphQL(request, response);
      else {
        const pluginRoute = pluginRoutes.find((r) => matches(r, request.method ?? 'GET', path));
        if (pluginRoute) await handlePluginRoute(pluginRoute, request, response);
        else notFound(request, response, path);
      }
    }),
  );

  server.on('upgrade', (request, socket, head) => {
    if ((request.url ?? '/').split('?', 1)[0] !== '/graphql') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    graphqlWs.handleUpgrade(request, socket, head);
  });

  const socketHooks = options.socketHooks ?? [];
  const expiries = new ExpiryClock();
  const closedHooks = async (connection: SocketConnection, hooks: readonly SocketHooks[]) => {
    for (const hook of hooks) {
      await Promise.resolve(hook.closed?.(connection)).catch((error: unknown) =>
        log.error({ err: error }, 'socket closed hook failed'),
      );
    }
  };

  const shedder = createLoadShedder(options.shed, options.schema);
  // One error for every refusal: under overload, building one each was a measurable cost.
  const busy = [
    codedError(
      ErrorCode.RATE_LIMITED,
      'The server is busy: this update was dropped (PLUGBOARD_SHED_LAG_MS, PLUGBOARD_SHED_IN_FLIGHT); send the next one later',
      { retryAfterMs: 1000 },
    ),
  ];
  const maxOperations = options.maxOperationsPerSocket;
  const tooManyOperations = `This socket has ${maxOperations} operations in flight (PLUGBOARD_MAX_OPERATIONS_PER_SOCKET=${maxOperations}); complete one first`;

  const graphqlWs = serveGraphQLWs<SocketState>({
    handlers: {
      connect: async (socket, request, connectionParams) => {
        let session: Session;
        try {
          // The upgrade's cookie goes along: the console's session is a cookie plus its CSRF
          // token in connection_init (a page of another site can send neither).
          const params = headersFromConnectionParams(connectionParams);
          session = await options.authenticate({
            get: (name) => (name === 'cookie' ? (request.headers.cookie ?? null) : params.get(name)),
          });
        } catch (error) {
          // 4403 is graphql-ws's Forbidden; the reason tells the client why.
          return new Refusal(4403, error instanceof GraphQLError ? error.message : 'Forbidden');
        }
        const ip = clientAddress(
          request.socket.remoteAddress,
          request.headers['x-forwarded-for'],
          options.trustedProxies ?? NO_PROXIES,
        );
        const state = new SocketState(
          socket,
          randomUUID(),
          session,
          ip,
          requestIdFrom(request.headers['x-request-id']),
        );
        for (const [index, hooks] of socketHooks.entries()) {
          const refusal = await hooks.opened?.(state);
          if (refusal) {
            await closedHooks(state, socketHooks.slice(0, index));
            return new Refusal(refusal.code, refusal.reason);
          }
        }
        if (session.expiresAt !== undefined) expiries.add(socket, session.expiresAt);
        return state;
      },
      disconnect: async (state) => {
        if (state.session.expiresAt !== undefined) expiries.delete(state.socket, state.session.expiresAt);
        await closedHooks(state, socketHooks);
      },
      admit: (state, payload) => {
        // The close timer may run late under load: an operation after the token's exp is refused.
        if (expired(state.session)) {
          setImmediate(() => closeExpired(state.socket)); // after the error frame has gone
          return [codedError(ErrorCode.UNAUTHENTICATED, 'Token expired')];
        }
        const query = options.documents.resolve(payload, state.session.role === ADMIN_ROLE, 'ws');
        if (typeof query !== 'string') return [query];
        (payload as { query: string }).query = query;
        const shed = shedder.isSheddable(payload.query, payload.operationName) ? shedder.refuses() : undefined;
        if (shed) {
          options.metrics.countShedOperation(payload.operationName, shed);
          return busy;
        }
        if (state.operations >= maxOperations) return [codedError(ErrorCode.TOO_MANY_OPERATIONS, tooManyOperations)];
        return undefined;
      },
      operate: async (state, id, payload, sink) => {
        const { session, requestId } = state;
        const sheddable = shedder.isSheddable(payload.query, payload.operationName);
        // No `request`: yoga would read the upgrade's GET as the operation's method and refuse
        // mutations, which graphql-ws carries as well as queries and subscriptions.
        const enveloped = graphql.getEnveloped({ requestId, session, socketId: state.id, params: payload });
        let document: DocumentNode;
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          const message = error instanceof Error ? error.message : 'Could not parse the document';
          const code =
            error instanceof GraphQLError && error.extensions['code']
              ? error.extensions['code']
              : ErrorCode.GRAPHQL_PARSE_FAILED;
          return [new GraphQLError(message, { extensions: { code } })];
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [codedError(ErrorCode.BAD_REQUEST, 'Could not determine what operation to execute.')];
        // The slot is taken before the first await (operate runs at once after admit), so a burst
        // of subscribes cannot all pass admit's check; `finished` gives it back. An operation
        // refused above never took one.
        state.operations++;
        if (sheddable) {
          shedder.started();
          state.sheddable ??= new Set();
          state.sheddable.add(id);
        }
        options.metrics.countWebSocketOperation(payload.operationName, document);
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
        };
        if (operation.operation !== OperationTypeNode.SUBSCRIPTION) return enveloped.execute(args);
        const shared = sharedSubscription(args, session.role, options.maskError, sink, id, state);
        if (!shared) return enveloped.subscribe(args);
        // A shared subscription's events need only the gateway's part of the context, not yoga's
        // request, parameters and caches; one for all the socket's shared subscriptions.
        const context = args.contextValue as Context;
        state.eventContextBase ??= {
          session,
          db: context.db,
          pubsub: context.pubsub,
          queue: context.queue,
          log: context.log,
          requestId,
          socketId: state.id,
        };
        return shared;
      },
      finished: (state, id) => {
        state.operations--;
        if (state.sheddable?.delete(id)) shedder.finished();
      },
      maskError: options.maskError,
    },
    maxBufferedBytes: options.maxSocketBuffer,
    log,
    maxPayload: bodyLimit,
    keepAlive: keepAliveOf(socketHooks),
  });

  return {
    server,
    closeSockets: async () => {
      shedder.stop();
      await graphqlWs.dispose();
    },
  };
}

const NO_PROXIES: TrustedProxies = parseTrustedProxies('');

/** 4403, as for bad credentials at connection_init. */
function closeExpired(socket: WebSocket): void {
  socket.close(4403, 'Token expired');
}

/**
 * Closes sockets when their tokens expire. Sockets are kept by the second their token expires in,
 * and one timer waits for the earliest second: ten thousand sockets cost ten thousand set
 * entries, not ten thousand timers and their closures.
 */
class ExpiryClock {
  private readonly due = new Map<number, Set<WebSocket>>();
  private timer: NodeJS.Timeout | undefined;
  private next = Number.POSITIVE_INFINITY;

  add(socket: WebSocket, expiresAt: number): void {
    const second = Math.ceil(expiresAt / 1000);
    let sockets = this.due.get(second);
    if (!sockets) {
      sockets = new Set();
      this.due.set(second, sockets);
    }
    sockets.add(socket);
    if (second < this.next) this.arm(second);
  }

  delete(socket: WebSocket, expiresAt: number): void {
    const second = Math.ceil(expiresAt / 1000);
    const sockets = this.due.get(second);
    if (sockets?.delete(socket) && sockets.size === 0) this.due.delete(second);
  }

  private arm(second: number): void {
    clearTimeout(this.timer);
    this.next = second;
    // setTimeout takes at most 2^31 - 1 ms (about 24.8 days); a later second is waited for in steps.
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(second * 1000 - Date.now(), 0), 2 ** 31 - 1));
    this.timer.unref();
  }

  private fire(): void {
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [second, sockets] of this.due) {
      if (second * 1000 <= now) {
        this.due.delete(second);
        for (const socket of sockets) closeExpired(socket);
      } else if (second < next) next = second;
    }
    this.timer = undefined;
    this.next = Number.POSITIVE_INFINITY;
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
  }
}

/** graphql-ws's own keep-alive, which the gateway's replaces when no plugin asks for another. */
const DEFAULT_KEEP_ALIVE = { intervalMs: 12_000, timeoutMs: 12_000 };

/** The keep-alive the plugins asked for (the shortest interval and timeout), or the default. */
function keepAliveOf(hooks: readonly SocketHooks[]): KeepAlive {
  const wanted = hooks.flatMap((h) => (h.keepAlive ? [h.keepAlive] : []));
  if (wanted.length === 0) return DEFAULT_KEEP_ALIVE;
  return {
    intervalMs: Math.min(...wanted.map((w) => w.intervalMs)),
    timeoutMs: Math.min(...wanted.map((w) => w.timeoutMs)),
  };
}

/**
 * The gateway's life cycle: validate configuration, open Postgres (embedded when there is no
 * DATABASE_URL), migrate, connect pubsub, compose the enabled plugins' schemas, start plugins,
 * listen; and the reverse on shutdown.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createAuthenticator } from './auth.ts';
import { consoleRoutes } from './console/routes.ts';
import { createConsoleSessions } from './console/sessions.ts';
import { ConfigError, type Env } from './config/variables.ts';
import type { Database } from './db.ts';
import { createErrorMasker, createGraphQLServer } from './http/graphql.ts';
import { hasuraRoutes } from './hasura/routes.ts';
import { healthz, readyz } from './http/health.ts';
import type { RouteHandler } from './http/replies.ts';
import { admitAdmin, createHttpServer, createRoutesServer, isAdmin } from './http/server.ts';
import { ManifestError, TrustedDocuments } from './http/trusted-documents.ts';
import { createLogger } from './logger.ts';
import { createOperationMetrics } from './metrics.ts';
import { loadMigrationFiles } from './migrations.ts';
import type { Plugin, PluginStatus } from './plugin/contract.ts';
import type { PubSub } from './pubsub.ts';
import type { QueuePort } from './queue/port.ts';
import { instantiatePlugins, loadConfiguration, migrationSources, openServices } from './plugin/services.ts';
import { scheduleRetention } from './retention.ts';

export interface GatewayOptions {
  registry: readonly Plugin[];
  env: Env;
  /** Defaults to JSON on stdout at LOG_LEVEL. */
  log?: Logger;
}

export interface Gateway {
  /** e.g. http://127.0.0.1:4000 */
  readonly url: string;
  readonly port: number;
  /** The PLUGBOARD_METRICS_PORT server's URL (/metrics, /readyz, /healthz), or null when there is none. */
  readonly metricsUrl: string | null;
  readonly schema: GraphQLSchema;
  readonly plugins: readonly PluginStatus[];
  readonly database: Database;
  readonly pubsub: PubSub;
  readonly queue: QueuePort;
  readonly log: Logger;
  /**
   * Graceful shutdown: stop accepting, drain HTTP, close sockets (1001), stop plugins, close pools.
   * With `drain`, it first keeps serving everything for PLUGBOARD_SHUTDOWN_DELAY_MS while /readyz
   * answers 503, so a load balancer's health check takes this instance out before it closes.
   */
  close(options?: { drain?: boolean }): Promise<void>;
  /** Reads PLUGBOARD_TRUSTED_DOCUMENTS again (SIGHUP); false, with the old set kept, when it cannot. */
  reloadTrustedDocuments(): Promise<boolean>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { settings, selected } = loadConfiguration(options.registry, options.env);
  const log = options.log ?? createLogger(settings.logLevel);
  for (const s of selected) {
    if (!s.enabled) log.info({ plugin: s.manifest.name, reason: s.reason }, 'plugin disabled');
  }

  // Read before any connection: a manifest that cannot be used stops start-up as a config error.
  const documents = new TrustedDocuments(settings.documentsMode, settings.trustedDocuments, log);
  try {
    await documents.load();
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    throw new ConfigError([{ variable: 'PLUGBOARD_TRUSTED_DOCUMENTS', owner: 'gateway', message: error.message }]);
  }

  // Built before any connection, so a schema or job-type conflict fails start-up at once.
  const plugins = instantiatePlugins(selected);
  const schema = await plugins.schema();

  const cleanup: (() => Promise<void>)[] = [];
  const runCleanup = async () => {
    for (const step of cleanup.reverse()) {
      await step().catch((error: unknown) => log.error({ err: error }, 'shutdown step failed'));
    }
  };

  try {
    const enabled = selected.filter((s) => s.enabled);
    const sources = migrationSources(enabled);
    const services = await openServices(settings, log, sources);
    cleanup.push(() => services.close());
    const { database, pubsub, queue } = services;
    plugins.attach(services);

    for (const { selected: entry, runtime, instance } of plugins.instances) {
      // The services are attached now, so each plugin's instance is set up here (once).
      const made = instance();
      await entry.plugin.start?.(runtime, made);
      if (entry.plugin.stop) cleanup.push(async () => entry.plugin.stop!(runtime, made));
    }
    for (const webhookLog of plugins.webhooks.values()) {
      webhookLog.start();
      cleanup.push(() => webhookLog.stop());
    }
    await scheduleRetention(queue, plugins.pruning, settings.retentionCron);
    // Closed before the queue, which waits for the jobs they are running.
    const workers = settings.workers ? await plugins.jobs.startWorkers(queue, log) : [];
    cleanup.push(async () => {
      await Promise.all(workers.map((worker) => worker.close({ timeoutMs: settings.shutdownTimeoutMs })));
    });

    const metricsRegistry = new Registry();
    collectDefaultMetrics({ register: metricsRegistry });
    const metrics = createOperationMetrics(metricsRegistry);
    const consoleSessions = settings.adminSecret
      ? createConsoleSessions(settings.adminSecret, settings.consoleSessionSeconds)
      : null;
    const authenticate = createAuthenticator({
      adminSecret: settings.adminSecret,
      jwtSecret: settings.jwtSecret,
      jwksUrl: settings.jwksUrl,
      issuer: settings.jwtIssuer,
      audience: settings.jwtAudience,
      allowNoExp: settings.jwtAllowNoExp,
      allowAnonymous: settings.allowAnonymous,
      anonymousRole: settings.anonymousRole,
      consoleSessions: consoleSessions ?? undefined,
    });
    const graphql = createGraphQLServer({
      schema,
      settings,
      authenticate,
      db: database.pool,
      pubsub,
      queue,
      log,
      metrics,
      documents,
    });

    let shuttingDown = false;
    const readiness = {
      db: database.pool,
      migrations: sources.flatMap(loadMigrationFiles),
      plugins: sources.map((s) => s.plugin),
      pubsub,
      isShuttingDown: () => shuttingDown,
    };
    const serveMetrics: RouteHandler = async (_request, response) => {
      const text = await metricsRegistry.metrics();
      response.writeHead(200, { 'content-type': metricsRegistry.contentType });
      response.end(text);
    };
    // PLUGBOARD_METRICS_ACCESS=admin: the main port shows metrics and readiness checks to admins only.
    const adminOnly = settings.metricsAccess === 'admin';
    const adminMetrics: RouteHandler = async (request, response) => {
      if (await admitAdmin(authenticate, request, response)) await serveMetrics(request, response);
    };
    const routes = new Map<string, RouteHandler>([
      ['GET /healthz', healthz],
      [
        'GET /readyz',
        readyz({ ...readiness, ...(adminOnly ? { showChecks: (request) => isAdmin(authenticate, request) } : {}) }),
      ],
      ['GET /metrics', adminOnly ? adminMetrics : serveMetrics],
      ...hasuraRoutes({
        graphql,
        metrics,
        schema,
        actions: plugins.hasuraActions(),
        triggers: plugins.eventTriggers(),
        errors: plugins.errors(),
        secret: settings.hasuraActionSecret,
        anonymousRole: settings.anonymousRole,
        bodyLimit: settings.bodyLimit,
        log,
      }),
    ]);
    let metricsUrl: string | null = null;
    if (settings.metricsPort !== null) {
      const operations = createRoutesServer(
        new Map([
          ['GET /healthz', healthz],
          ['GET /readyz', readyz(readiness)],
          ['GET /metrics', serveMetrics],
        ]),
        settings.server,
        log,
      );
      metricsUrl = urlOf(settings.metricsHost, await listen(operations, settings.metricsPort, settings.metricsHost));
      cleanup.push(async () => {
        const closed = new Promise<void>((resolve) => operations.close(() => resolve()));
        operations.closeAllConnections();
        await closed;
      });
    }
    const http = createHttpServer({
      graphql,
      schema,
      authenticate,
      routes,
      pluginRoutes: [
        ...plugins.routes({ bodyLimit: settings.bodyLimit }),
        ...consoleRoutes({
          sessions: consoleSessions,
          adminSecret: settings.adminSecret,
          trustedProxies: settings.trustedProxies,
          log,
        }),
      ],
      socketHooks: plugins.sockets(),
      trustedProxies: settings.trustedProxies,
      documents,
      maxOperationsPerSocket: settings.maxOperationsPerSocket,
      maxSocketBuffer: settings.wsMaxBuffer,
      shed: { lagMs: settings.shedLagMs, inFlight: settings.shedInFlight },
      maskError: createErrorMasker(settings, log),
      bodyLimit: settings.bodyLimit,
      limits: settings.server,
      metrics,
      log,
    });
    const port = await listen(http.server, settings.port, settings.host);
    const url = urlOf(settings.host, port);
    log.info(
      {
        url: `${url}/graphql`,
        metricsUrl,
        plugins: plugins.instances.map((p) => p.selected.manifest.name),
        pubsub: pubsub.transport,
        queue: queue.backend,
        embeddedPostgres: database.embedded !== null,
      },
      'gateway listening',
    );

    let closing: Promise<void> | undefined;
    const close = (options: { drain?: boolean } = {}) => {
      closing ??= (async () => {
        shuttingDown = true;
        if (options.drain && settings.shutdownDelayMs > 0) {
          log.info({ delayMs: settings.shutdownDelayMs }, 'draining: /readyz answers 503, still serving');
          await new Promise((resolve) => setTimeout(resolve, settings.shutdownDelayMs));
        }
        log.info('shutting down');
        const drained = new Promise<void>((resolve) => http.server.close(() => resolve()));
        await http.closeSockets();
        // Keep-alive connections close as soon as their in-flight request has been answered.
        const idleSweep = setInterval(() => http.server.closeIdleConnections(), 50);
        http.server.closeIdleConnections();
        const timedOut = await Promise.race([
          drained.then(() => false),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(true), settings.shutdownTimeoutMs).unref()),
        ]);
        clearInterval(idleSweep);
        if (timedOut) {
          log.warn(
            { timeoutMs: settings.shutdownTimeoutMs },
            'requests still running at the shutdown timeout; closing their connections',
          );
          http.server.closeAllConnections();
        }
        await runCleanup();
        log.info('shutdown complete');
      })();
      return closing;
    };

    return {
      url,
      port,
      metricsUrl,
      schema,
      plugins: plugins.statuses,
      database,
      pubsub,
      queue,
      log,
      close,
      reloadTrustedDocuments: () => documents.reload(),
    };
  } catch (error) {
    await runCleanup();
    throw error;
  }
}

/** Listens; resolves with the port (the one picked, for port 0). */
function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const urlOf = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

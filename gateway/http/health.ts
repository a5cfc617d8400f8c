/**
 * /healthz answers while the process is alive. /readyz answers 200 only when Postgres is
 * reachable, every migration is applied, Redis (when configured) answers, and the gateway is
 * not shutting down; otherwise 503 with the failing checks, so a load balancer stops routing.
 * The checks (timings, error messages) are shown only to whom `showChecks` allows; others get
 * the status alone, which is all a load balancer needs.
 */
import type { IncomingMessage } from 'node:http';
import type pg from 'pg';
import { type RouteHandler, sendJson } from './replies.ts';
import { statusOf, type MigrationFile } from '../migrations.ts';
import type { PubSub } from '../pubsub.ts';
import { gatewaySql } from '../sql.ts';

interface Check {
  ok: boolean;
  ms: number;
  error?: string;
  [detail: string]: unknown;
}

const CHECK_TIMEOUT_MS = 2000;

/** Runs one check; what `run` resolves to (details, or nothing) is merged into its Check. */
async function timed(run: () => Promise<unknown>): Promise<Check> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    const details = ((await Promise.race([run(), timeout])) ?? {}) as Record<string, unknown>;
    return { ok: details['ok'] !== false, ms: Math.round(performance.now() - started), ...details };
  } catch (error) {
    return {
      ok: false,
      ms: Math.round(performance.now() - started),
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

export const healthz: RouteHandler = (_request, response) => sendJson(response, 200, { status: 'ok' });

export function readyz(options: {
  db: pg.Pool;
  migrations: MigrationFile[];
  plugins: string[];
  pubsub: PubSub;
  isShuttingDown: () => boolean;
  /** Whether this request may see the checks; always, when not given. */
  showChecks?: (request: IncomingMessage) => Promise<boolean>;
}): RouteHandler {
  return async (request, response) => {
    const checks: Record<string, Check> = {
      postgres: await timed(async () => {
        await options.db.query(gatewaySql('ping'));
      }),
    };
    checks['migrations'] = checks['postgres']!.ok
      ? await timed(async () => {
          const statuses = await statusOf(options.db, options.migrations, options.plugins);
          const notApplied = statuses.filter((s) => s.state !== 'applied');
          return {
            ok: notApplied.length === 0,
            applied: statuses.length - notApplied.length,
            notApplied: notApplied.length,
          };
        })
      : { ok: false, ms: 0, error: 'Postgres unreachable' };
    if (options.pubsub.transport === 'redis') checks['redis'] = await timed(() => options.pubsub.ready());
    const shuttingDown = options.isShuttingDown();
    const ok = !shuttingDown && Object.values(checks).every((c) => c.ok);
    const status = ok ? 'ok' : shuttingDown ? 'shutting down' : 'unavailable';
    const shown = !options.showChecks || (await options.showChecks(request));
    sendJson(response, ok ? 200 : 503, shown ? { status, checks } : { status }, { 'cache-control': 'no-store' });
  };
}

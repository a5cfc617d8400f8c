/**
 * Bull Board at /admin/queues, for admins only (the gateway checks: admin secret as a header, as
 * the HTTP Basic password in a browser, or an admin-role token). It inspects BullMQ queues, so it
 * is served only when the queue runs on Redis.
 *
 * A browser that saved the Basic credentials sends them with every request to the board, a form
 * another site posts included. So a state change (POST, PUT, PATCH, DELETE) needs what no form can
 * send: a JSON body, an `X-Requested-With` header, or the browser's own word that the board's page
 * sent it (`Sec-Fetch-Site: same-origin`, or an `Origin` of this host; no page can set either).
 * Bull Board's page sends JSON for adds and edits, and only the browser's headers with its
 * bodiless PUTs.
 */
import type express from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BullMQQueuePort, ERRORS, type PluginRoute, type PluginRuntime, sendError } from '../../gateway/sdk.ts';
import type { JobsConfig } from './config.ts';
import { jobsSql } from './sql.ts';

export const DASHBOARD_PATH = '/admin/queues';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether a state change could have come from a form or a page of another site (see above). */
function crossSiteForgeable(request: IncomingMessage): boolean {
  if (!STATE_CHANGING.has(request.method ?? 'GET')) return false;
  const mediaType = (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType === 'application/json' || request.headers['x-requested-with'] !== undefined) return false;
  if (request.headers['sec-fetch-site'] !== undefined) return request.headers['sec-fetch-site'] !== 'same-origin';
  // Browsers without Fetch Metadata still send Origin with every state change.
  return !sameHost(request.headers.origin, request.headers.host);
}

function sameHost(origin: string | undefined, host: string | undefined): boolean {
  if (!origin || !host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

export function dashboardRoutes(runtime: PluginRuntime<JobsConfig>): PluginRoute[] {
  let app: Promise<express.Express> | undefined;
  // Bull Board and Express load with the first request to the board, not with every CLI command.
  const build = async () => {
    const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }, { default: express }] = await Promise.all([
      import('@bull-board/api'),
      import('@bull-board/api/bullMQAdapter'),
      import('@bull-board/express'),
      import('express'),
    ]);
    const port = runtime.queue as BullMQQueuePort;
    const { rows } = await runtime.db.query<{ queue: string }>(jobsSql('queues-in-history'));
    const names = [...new Set([...runtime.jobs.queues(), ...rows.map((r) => r.queue)])].sort();
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(DASHBOARD_PATH);
    createBullBoard({ queues: names.map((name) => new BullMQAdapter(port.bullQueue(name))), serverAdapter });
    const board = express();
    board.use(DASHBOARD_PATH, serverAdapter.getRouter());
    return board;
  };
  return [
    {
      method: 'ANY',
      path: DASHBOARD_PATH,
      prefix: true,
      access: 'admin',
      async handler(request: IncomingMessage, response: ServerResponse) {
        if (!runtime.config.dashboardEnabled) {
          return sendError(
            response,
            ERRORS.NOT_FOUND,
            'The jobs dashboard is turned off (JOBS_DASHBOARD_ENABLED=false)',
          );
        }
        if (runtime.queue.backend !== 'bullmq') {
          return sendError(
            response,
            ERRORS.NOT_FOUND,
            'Bull Board needs the BullMQ queue: set REDIS_URL or JOBS_REDIS_URL (jobs now run on Postgres)',
          );
        }
        if (crossSiteForgeable(request)) {
          return sendError(
            response,
            ERRORS.FORBIDDEN,
            'Changes through the jobs dashboard need Content-Type: application/json or an X-Requested-With header',
          );
        }
        app ??= build();
        (await app)(request as express.Request, response as express.Response);
      },
    },
  ];
}

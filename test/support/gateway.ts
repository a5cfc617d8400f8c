/** Starts a real gateway in this process on a free port, with helpers to talk to it. */
import type { Logger } from 'pino';
import { startGateway, type Gateway } from '../../gateway/gateway.ts';
import { createLogger } from '../../gateway/logger.ts';
import type { Plugin } from '../../gateway/plugin/contract.ts';
import { registry } from '../../plugins/registry.ts';
import echo from './echo-plugin/index.ts';
import { ADMIN_SECRET, JWT_SECRET } from './tokens.ts';

export const ECHO_API_KEY = 'ek_0123456789abcdefxyz';

export interface TestGateway extends Gateway {
  graphqlUrl: string;
  wsUrl: string;
  /** POSTs a GraphQL request and returns the status and the parsed body. */
  gql(
    query: string,
    options?: { variables?: Record<string, unknown>; headers?: Record<string, string> },
  ): Promise<{ status: number; body: GraphQLBody }>;
}

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown>; path?: unknown[] }[];
}

export async function startTestGateway(options: {
  databaseUrl: string;
  env?: Record<string, string | undefined>;
  plugins?: readonly Plugin[];
  log?: Logger;
}): Promise<TestGateway> {
  const gateway = await startGateway({
    registry: options.plugins ?? [...registry, echo],
    env: {
      DATABASE_URL: options.databaseUrl,
      PORT: '0',
      PLUGBOARD_JWT_SECRET: JWT_SECRET,
      PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
      ECHO_API_KEY,
      ...options.env,
    },
    log: options.log ?? createLogger('silent'),
  });
  const graphqlUrl = `${gateway.url}/graphql`;
  return Object.assign(gateway, {
    graphqlUrl,
    wsUrl: graphqlUrl.replace(/^http/, 'ws'),
    async gql(query: string, init: { variables?: Record<string, unknown>; headers?: Record<string, string> } = {}) {
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...init.headers },
        body: JSON.stringify({ query, variables: init.variables }),
      });
      return { status: response.status, body: (await response.json()) as GraphQLBody };
    },
  });
}

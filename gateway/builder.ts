/**
 * The shared Pothos builder factory. Every plugin gets a fresh builder from here, so all
 * subschemas agree on scalars, auth scopes, Relay connections and the request Context.
 */
import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLScalarType } from 'graphql';
import { BigIntResolver, DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { forbidden } from './errors.ts';
import type { Loaders } from './loaders.ts';
import type { PubSub } from './pubsub.ts';
import type { QueuePort } from './queue/port.ts';
import type { Session } from './auth.ts';

/** What every resolver receives. One per HTTP request or graphql-ws operation. */
export interface Context {
  session: Session;
  db: Pool;
  pubsub: PubSub;
  /** The job queue. */
  queue: QueuePort;
  /** Per-request DataLoaders: batch and cache relation lookups (no N+1). */
  loaders: Loaders;
  log: Logger;
  requestId: string;
  /** The graphql-ws connection an operation arrived on (null over HTTP). */
  socketId: string | null;
}

export interface AuthScopes {
  /** Anyone, including anonymous callers. */
  public: boolean;
  /** A caller with an `x-hasura-user-id`. */
  loggedIn: boolean;
  /** The admin role (admin secret, or a token whose chosen role is `admin`). */
  admin: boolean;
  /** The caller's chosen role is exactly this one. */
  role: string;
}

export interface PlugboardTypes {
  Context: Context;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  Scalars: {
    ID: { Input: string; Output: string | number | bigint };
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
    BigInt: { Input: bigint; Output: bigint | number | string };
  };
}

export type Builder = PothosSchemaTypes.SchemaBuilder<PothosSchemaTypes.ExtendDefaultTypes<PlugboardTypes>>;

export function createBuilder(): Builder {
  const builder = new SchemaBuilder<PlugboardTypes>({
    plugins: [ScopeAuthPlugin, RelayPlugin, DataloaderPlugin],
    defaultFieldNullability: false,
    scopeAuth: {
      // Check a subscription's scopes when it starts, not on each event it would deliver.
      authorizeOnSubscribe: true,
      authScopes: (context) => ({
        public: true,
        loggedIn: context.session.userId !== null,
        admin: context.session.role === 'admin',
        role: (role: string) => context.session.role === role,
      }),
      unauthorizedError: (_parent, _context, _info, result) => forbidden(result.message),
    },
    relay: {
      // Global node lookups would need one resolver that knows every plugin's types;
      // plugins expose their own typed lookups instead.
      nodeQueryOptions: false,
      nodesQueryOptions: false,
      clientMutationId: 'omit',
      cursorType: 'String',
    },
  });
  builder.addScalarType('DateTime', DateTimeResolver);
  // parseLiteral takes the variables through a rest parameter, so its declared arity is 1:
  // graphql-jit prints an error for every literal of a scalar whose arity is 2. Documents with a
  // variable inside a literal run on graphql-js, which passes them (gateway/http/graphql.ts).
  builder.addScalarType(
    'JSON',
    new GraphQLScalarType({
      ...JSONResolver.toConfig(),
      parseLiteral: (ast, ...variables) => JSONResolver.parseLiteral(ast, ...variables),
    }),
  );
  builder.addScalarType('BigInt', BigIntResolver);
  builder.queryType({});
  builder.mutationType({});
  builder.subscriptionType({});
  return builder;
}

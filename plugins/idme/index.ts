/**
 * The ID.me plugin: verification through OpenID Connect (authorization code + PKCE) with
 * `openid-client`, for the groups ID.me verifies (military, veteran, responder, government,
 * teacher, student, nurse). GraphQL for SPAs (only the signed-in user's verifyIdme completes a
 * flow), a browser callback route that hands ID.me's answer on to the frontend, and CLI
 * commands; verifications, groups, badges and attributes are stored in schema `idme`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  batchedRule,
  definePlugin,
  ERRORS,
  InputError,
  type PluginRuntime,
  sendError,
  sendJson,
} from '../../gateway/sdk.ts';
import { addIdmeCommands } from './cli.ts';
import { readIdmeConfig, type IdmeConfig } from './config.ts';
import manifest from './plugin.json' with { type: 'json' };
import { classify, IDME_ERRORS, IdmeError, IdmeErrorCode, RelyingParty } from './relying-party.ts';
import { addIdmeSchema } from './schema.ts';
import { IdmeService } from './service.ts';
import { IDME_VERIFIED } from './topics.ts';
import { idmeSql } from './sql.ts';

export const CALLBACK_PATH = '/auth/idme/callback';

/** The ID.me plugin's instance: the OpenID relying party and the verification service. */
interface IdmeInstance {
  service: IdmeService;
  party: RelyingParty;
}

/**
 * GET /auth/idme/callback?code&state[&iss] (or ?error=…): where ID.me sends the browser back.
 * It completes nothing: the browser arriving here need not belong to the user the state was
 * issued to (anyone can send their authorization URL to someone else, who then consents as
 * themselves), and this route cannot know who is signed in. It checks the state is pending and
 * sends the browser on to IDME_FRONTEND_URL with ?idme=verify&code&state[&iss], for the signed-in
 * page to call verifyIdme (which completes the caller's own state only), or with
 * ?idme=error&code=…; without a frontend it answers the same as JSON.
 */
async function callback(
  runtime: PluginRuntime<IdmeConfig>,
  instance: () => IdmeInstance,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const params = new URL(request.url ?? '/', 'http://localhost').searchParams;
  let result:
    | { status: number; code: string; message: string }
    | { status: 200; response: { code: string; state: string; iss?: string } };
  try {
    const error = params.get('error');
    if (error)
      throw new IdmeError(
        IdmeErrorCode.DENIED,
        `ID.me answered the authorization with ${error}${params.get('error_description') ? `: ${params.get('error_description')}` : ''}`,
      );
    const code = params.get('code');
    const state = params.get('state');
    const iss = params.get('iss');
    if (!code || !state) throw new InputError('The callback needs code and state query parameters');
    await instance().service.pending({ code, state, iss });
    result = { status: 200, response: { code, state, ...(iss ? { iss } : {}) } };
  } catch (error) {
    // The callback's input is its query string: what is wrong with it is a bad request.
    if (error instanceof InputError) result = { ...ERRORS.BAD_REQUEST, message: error.message };
    else {
      const failure = classify(error);
      result = { code: failure.code, status: IDME_ERRORS[failure.code].status, message: failure.message };
    }
  }
  const frontend = runtime.config.frontendUrl;
  if (frontend) {
    const target = new URL(frontend.href);
    if ('code' in result) {
      target.searchParams.set('idme', 'error');
      target.searchParams.set('code', result.code);
    } else {
      target.searchParams.set('idme', 'verify');
      for (const [name, value] of Object.entries(result.response)) target.searchParams.set(name, value);
    }
    response.writeHead(303, { location: target.href, 'cache-control': 'no-store' }).end();
  } else if ('code' in result) {
    sendError(response, result, result.message);
  } else {
    sendJson(response, 200, result.response, { 'cache-control': 'no-store' });
  }
}

export default definePlugin<IdmeConfig, IdmeInstance>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  topics: [IDME_VERIFIED],
  config: readIdmeConfig,
  setup(runtime) {
    const party = new RelyingParty(runtime.config);
    return { service: new IdmeService(runtime, () => party), party };
  },
  schema: (builder, runtime, instance) => addIdmeSchema(builder, runtime, () => instance().service),
  commands: (command, open) =>
    addIdmeCommands(command, async () => {
      const { runtime, instance } = await open();
      return { runtime, ...instance };
    }),
  errors: IDME_ERRORS,
  retention: (runtime) => [
    batchedRule({
      name: 'idme.authorization_requests',
      days: runtime.config.requestsRetentionDays,
      sql: idmeSql('requests-prune'),
    }),
  ],
  hasura: {
    actions: {
      idmeAuthorizationUrl: { kind: 'synchronous', roles: ['user'] },
      verifyIdme: { kind: 'synchronous', roles: ['user'] },
    },
  },
  routes: (runtime, instance) => [
    {
      method: 'GET',
      path: CALLBACK_PATH,
      access: 'public',
      handler: (request, response) => callback(runtime, instance, request, response),
    },
  ],
  async start(runtime, instance) {
    // Discovery early, so a wrong issuer shows in the log at startup; the first request retries it.
    await instance.party
      .configuration()
      .catch((error: unknown) =>
        runtime.log.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'ID.me discovery failed; retrying on first use',
        ),
      );
  },
});

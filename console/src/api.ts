/**
 * The console's session and its GraphQL client. The session cookie is HttpOnly (this code never
 * sees it); the CSRF token the gateway hands over with it goes in a header on every request.
 */
import type { Client } from 'graphql-ws';
import { createRequestClient, type RequestClient } from '../../client/request.ts';
import { createSubscriptionClient } from '../../client/subscriptions.ts';

export const CSRF_HEADER = 'x-plugboard-csrf';

export interface Session {
  csrfToken: string;
  expiresAt: string;
}

async function answer(response: Response): Promise<Session> {
  const body = (await response.json()) as Session & { errors?: { message: string }[] };
  if (!response.ok) throw new Error(body.errors?.[0]?.message ?? `The gateway answered ${response.status}`);
  return body;
}

/** The current session, or null when signed out. */
export async function currentSession(): Promise<Session | null> {
  const response = await fetch('/console/session', { headers: { accept: 'application/json' } });
  return response.status === 401 ? null : answer(response);
}

export async function signIn(secret: string): Promise<Session> {
  return answer(
    await fetch('/console/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret }),
    }),
  );
}

export async function signOut(session: Session): Promise<void> {
  await fetch('/console/session', { method: 'DELETE', headers: { [CSRF_HEADER]: session.csrfToken } });
}

export function apiFor(session: Session): RequestClient {
  return createRequestClient({ url: '/graphql', headers: () => ({ [CSRF_HEADER]: session.csrfToken }) });
}

/** graphql-ws on the same origin: the browser sends the cookie with the upgrade, the token goes in connection_init. */
export function subscriptionsFor(session: Session): Client {
  return createSubscriptionClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    params: () => ({ [CSRF_HEADER]: session.csrfToken }),
  });
}

/**
 * The typed client documents (client/operations → client/generated, `npm run codegen`) against a
 * live gateway: a query and a mutation over fetch, a presence subscription over graphql-ws. tsc
 * checks that the results are used as the generated types say.
 */
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateRoomDocument,
  RoomPresenceDocument,
  ViewerDocument,
  type CreateRoomMutation,
  type RoomPresenceSubscription,
  type ViewerQuery,
} from '../client/generated/graphql.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { signToken } from './support/tokens.ts';
import { connectWs, type TestWsClient } from './support/ws-client.ts';

let db: TestDatabase;
let gateway: TestGateway;
const sockets: TestWsClient[] = [];

/** A plain fetch client for typed documents. */
async function request<T>(
  document: Parameters<typeof print>[0],
  variables: Record<string, unknown>,
  token: string,
): Promise<T> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data!;
}

beforeAll(async () => {
  db = await createTestDatabase();
  gateway = await startTestGateway({ databaseUrl: db.url });
});

afterAll(async () => {
  for (const socket of sockets) await socket.client.dispose();
  await gateway?.close();
  await db?.drop();
});

describe('typed client documents', () => {
  it('runs the query, the mutation and the presence subscription', async () => {
    const token = await signToken({ userId: 'codegen-user' });
    const viewer = await request<ViewerQuery>(ViewerDocument, {}, token);
    expect(viewer.viewer.userId).toBe('codegen-user');
    expect(viewer.plugins.map((p) => p.name)).toContain('realtime');

    const created = await request<CreateRoomMutation>(CreateRoomDocument, { name: 'typed' }, token);
    expect(created.createRoom.name).toBe('typed');

    const ws = connectWs(gateway.wsUrl, { Authorization: `Bearer ${token}` });
    sockets.push(ws);
    await ws.connected;
    const presence = ws.subscribe<RoomPresenceSubscription>(print(RoomPresenceDocument), {
      roomId: created.createRoom.id,
    });
    const first = (await presence.next()).data?.presence;
    expect(first).toMatchObject({ userId: 'codegen-user', status: expect.any(String) });
  });
});

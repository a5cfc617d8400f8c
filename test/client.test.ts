/**
 * The typed client (client/request.ts, client/subscriptions.ts) with the codegen'd documents
 * (client/operations → client/generated, `npm run codegen`) against a live gateway that runs
 * trusted documents only (PLUGBOARD_DOCUMENTS=trusted): the query and the mutation go over HTTP
 * and the presence subscription over graphql-ws, each as `{ documentId }`. tsc checks that the
 * results are used as the generated types say.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  CreateRoomDocument,
  RoomPresenceDocument,
  ViewerDocument,
  type RoomPresenceSubscription,
} from '../client/generated/graphql.ts';
import { createRequestClient, GraphQLRequestError } from '../client/request.ts';
import { createSubscriptionClient, subscribeTo } from '../client/subscriptions.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { signToken } from './support/tokens.ts';

let db: TestDatabase;
let gateway: TestGateway;
const disposals: (() => unknown)[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  // The codegen'd client's manifest is the default PLUGBOARD_TRUSTED_DOCUMENTS.
  gateway = await startTestGateway({ databaseUrl: db.url, env: { PLUGBOARD_DOCUMENTS: 'trusted' } });
});

afterAll(async () => {
  for (const dispose of disposals) await dispose();
  await gateway?.close();
  await db?.drop();
});

describe('the typed client against trusted documents', () => {
  it('runs the query and the mutation by id over HTTP, and the presence subscription by id over graphql-ws', async () => {
    const token = await signToken({ userId: 'codegen-user' });
    const client = createRequestClient({ url: gateway.graphqlUrl, token: () => token });
    const viewer = await client.request(ViewerDocument, {});
    expect(viewer.viewer.userId).toBe('codegen-user');
    expect(viewer.plugins.map((p) => p.name)).toContain('realtime');

    const created = await client.request(CreateRoomDocument, { name: 'typed' });
    expect(created.createRoom.name).toBe('typed');

    const subscriptions = createSubscriptionClient({
      url: gateway.wsUrl,
      token: () => token,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    disposals.push(() => subscriptions.dispose());
    const first = await new Promise<RoomPresenceSubscription>((resolve, reject) => {
      const stop = subscribeTo(
        subscriptions,
        RoomPresenceDocument,
        { roomId: created.createRoom.id },
        {
          next: (result) => (result.data ? resolve(result.data) : reject(new GraphQLRequestError(result.errors ?? []))),
          error: reject,
          complete: () => undefined,
        },
      );
      disposals.push(stop);
    });
    expect(first.presence).toMatchObject({ userId: 'codegen-user', status: expect.any(String) });
  });

  it('is refused the same documents as text, over HTTP and graphql-ws', async () => {
    const token = await signToken({ userId: 'codegen-user' });
    const client = createRequestClient({ url: gateway.graphqlUrl, token: () => token, sendText: true });
    await expect(client.request(ViewerDocument, {})).rejects.toMatchObject({ code: 'PERSISTED_QUERY_ONLY' });

    const subscriptions = createSubscriptionClient({
      url: gateway.wsUrl,
      token: () => token,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    disposals.push(() => subscriptions.dispose());
    const errors = await new Promise<unknown>((resolve) => {
      subscribeTo(
        subscriptions,
        RoomPresenceDocument,
        { roomId: 'any' },
        { next: () => resolve('a result'), error: resolve, complete: () => resolve('completed') },
        { sendText: true },
      );
    });
    expect(errors).toEqual([expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_ONLY' } })]);
  });
});

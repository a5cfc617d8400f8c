/**
 * The graphql-transport-ws protocol as the gateway serves it (gateway/http/graphql-ws.ts), frame
 * by frame with a raw `ws` client: its close codes, ping/pong, and how operations start, answer
 * and stop. graphql-ws's own client is exercised everywhere else (test/support/ws-client.ts).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';

let db: TestDatabase;
let gateway: TestGateway;

beforeAll(async () => {
  db = await createTestDatabase();
  gateway = await startTestGateway({ databaseUrl: db.url });
});
afterAll(async () => {
  await gateway?.close();
  await db?.drop();
});

interface Frame {
  type: string;
  id?: string;
  payload?: unknown;
}

/** A raw socket: every frame it received, in order, and its close. */
function open(protocols: string[] = ['graphql-transport-ws']) {
  const socket = new WebSocket(gateway.wsUrl, protocols);
  const frames: Frame[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const send = async (message: unknown) => {
    await opened;
    socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  };
  /** Waits for a frame matching `match` and returns it. */
  const frame = async (match: Partial<Frame>) => {
    let found: Frame | undefined;
    await vi.waitFor(
      () => {
        found = frames.find((f) => Object.entries(match).every(([k, v]) => f[k as keyof Frame] === v));
        expect(found).toBeDefined();
      },
      { timeout: 5000, interval: 10 },
    );
    return found!;
  };
  return { socket, frames, closed, send, frame, opened };
}

async function acknowledged(params: Record<string, unknown> = { 'x-hasura-admin-secret': ADMIN_SECRET }) {
  const client = open();
  await client.send({ type: 'connection_init', payload: params });
  await client.frame({ type: 'connection_ack' });
  return client;
}

/** Runs until completed: an admin following the whole default queue. */
const LONG_RUNNING = { query: 'subscription { jobUpdates(queue: "default") { __typename } }' };

describe('graphql-transport-ws: what closes a socket', () => {
  it.each([
    ['a message that is not JSON', [], 'not json', 4400, 'Invalid message received'],
    ['a message of no known type', [], { type: 'hello' }, 4400, 'Invalid message received'],
    [
      'a server-bound message',
      [],
      { type: 'connection_ack' },
      4400,
      'Unexpected message of type connection_ack received',
    ],
    [
      'subscribe before connection_init',
      [],
      { id: '1', type: 'subscribe', payload: LONG_RUNNING },
      4401,
      'Unauthorized',
    ],
    [
      'a second connection_init',
      [{ type: 'connection_init', payload: { 'x-hasura-admin-secret': ADMIN_SECRET } }],
      { type: 'connection_init' },
      4429,
      'Too many initialisation requests',
    ],
    [
      'an id already in use',
      [
        { type: 'connection_init', payload: { 'x-hasura-admin-secret': ADMIN_SECRET } },
        { id: 'same', type: 'subscribe', payload: LONG_RUNNING },
      ],
      { id: 'same', type: 'subscribe', payload: LONG_RUNNING },
      4409,
      'Subscriber for same already exists',
    ],
    [
      'bad credentials',
      [],
      { type: 'connection_init', payload: { 'x-hasura-admin-secret': 'wrong' } },
      4403,
      'Invalid x-hasura-admin-secret',
    ],
  ] as const)('%s: %i', async (_, before, message, code, reason) => {
    const client = open();
    for (const earlier of before) {
      await client.send(earlier);
      if (earlier.type === 'connection_init') await client.frame({ type: 'connection_ack' });
    }
    await client.send(message);
    expect(await client.closed).toEqual({ code, reason });
    // Closed for the message, not for anything before it.
    expect(client.frames.filter((f) => f.type !== 'connection_ack')).toEqual([]);
  });

  it('closes a socket without the graphql-transport-ws subprotocol with 4406', async () => {
    expect(await open([]).closed).toEqual({ code: 4406, reason: 'Subprotocol not acceptable' });
  });

  it('closes a socket that sends no connection_init within 3 s with 4408', async () => {
    const client = open();
    await client.opened;
    const started = Date.now();
    expect(await client.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
  });
});

describe('graphql-transport-ws: pings and operations', () => {
  it('answers a ping with a pong, echoing its payload', async () => {
    const client = open();
    await client.send({ type: 'ping', payload: { at: 1 } });
    expect(await client.frame({ type: 'pong' })).toEqual({ type: 'pong', payload: { at: 1 } });
    client.frames.length = 0;
    await client.send({ type: 'ping' });
    expect(await client.frame({ type: 'pong' })).toEqual({ type: 'pong' });
    client.socket.close();
  });

  // Frames sent in one turn leave in one buffer, each with a header the gateway writes: its
  // length takes 7 bits up to 125 bytes, 16 bits up to 65,535, and 64 bits beyond (RFC 6455 §5.2).
  it('frames pongs of every header size, sent in one turn, whole and in order', async () => {
    const client = open();
    const raw: Buffer[] = [];
    client.socket.on('message', (data: Buffer) => raw.push(data));
    // A pong is '{"type":"pong","payload":{"p":"…"}}': 34 bytes around the padding.
    const pong = (bytes: number, wide: boolean) => {
      const twoByteChars = wide ? Math.floor((bytes - 34) / 4) : 0;
      return { p: 'é'.repeat(twoByteChars) + 'x'.repeat(bytes - 34 - 2 * twoByteChars) };
    };
    const sizes = [125, 126, 65_535, 65_536, 70_001];
    const payloads = sizes.flatMap((bytes) => [pong(bytes, false), pong(bytes, true)]);
    await client.opened;
    for (const payload of payloads) client.socket.send(JSON.stringify({ type: 'ping', payload }));
    await vi.waitFor(() => expect(raw).toHaveLength(payloads.length), { timeout: 5000, interval: 10 });
    expect(raw.map((data) => data.length)).toEqual(sizes.flatMap((bytes) => [bytes, bytes]));
    expect(client.frames).toEqual(payloads.map((payload) => ({ type: 'pong', payload })));
    client.socket.close();
  });

  it('answers a query with next then complete, and a document that does not validate with error only', async () => {
    const client = await acknowledged();
    await client.send({ id: 'q', type: 'subscribe', payload: { query: '{ viewer { role } }' } });
    await client.frame({ id: 'q', type: 'complete' });
    expect(client.frames.filter((f) => f.id === 'q')).toEqual([
      { id: 'q', type: 'next', payload: { data: { viewer: { role: 'admin' } } } },
      { id: 'q', type: 'complete' },
    ]);
    await client.send({ id: 'bad', type: 'subscribe', payload: { query: '{ nothingHere }' } });
    const error = await client.frame({ id: 'bad', type: 'error' });
    expect(error.payload).toEqual([expect.objectContaining({ message: expect.stringContaining('nothingHere') })]);
    // An id is free again once its operation ended: the same id runs a second query.
    await client.send({ id: 'q', type: 'subscribe', payload: { query: '{ viewer { role } }' } });
    await vi.waitFor(() => expect(client.frames.filter((f) => f.id === 'q' && f.type === 'complete')).toHaveLength(2));
    expect(client.frames.some((f) => f.id === 'bad' && f.type === 'complete')).toBe(false);
    client.socket.close();
  });

  it('stops a subscription the client completes, and keeps its other one running', async () => {
    const client = await acknowledged({ Authorization: `Bearer ${await signToken({ userId: 'reader' })}` });
    const echoed = { query: 'subscription { echoed { body } }' };
    await client.send({ id: 'kept', type: 'subscribe', payload: echoed });
    await client.send({ id: 'stopped', type: 'subscribe', payload: echoed });
    const writer = await signToken({ userId: 'writer' });
    const write = (body: string) =>
      gateway.gql(`mutation { echo(body: "${body}") { id } }`, { headers: { authorization: `Bearer ${writer}` } });
    // Subscribing is not acknowledged: write until both have an event.
    await vi.waitFor(
      async () => {
        await write('first');
        expect(client.frames.filter((f) => f.type === 'next').map((f) => f.id)).toEqual(
          expect.arrayContaining(['kept', 'stopped']),
        );
      },
      { timeout: 5000, interval: 100 },
    );
    await client.send({ id: 'stopped', type: 'complete' });
    // A round trip on the same socket: the complete has been handled once the pong is back.
    await client.send({ type: 'ping', payload: { after: 'complete' } });
    await client.frame({ type: 'pong' });
    const seen = client.frames.length;
    await write('second');
    await vi.waitFor(() =>
      expect(client.frames.slice(seen)).toContainEqual({
        id: 'kept',
        type: 'next',
        payload: { data: { echoed: { body: 'second' } } },
      }),
    );
    expect(client.frames.slice(seen).filter((f) => f.id === 'stopped')).toEqual([]);
    client.socket.close();
  });
});

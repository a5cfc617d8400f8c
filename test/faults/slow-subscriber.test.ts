/**
 * Fault: a graphql-ws subscriber stops reading while its events keep coming. The gateway keeps
 * no more than PLUGBOARD_WS_MAX_BUFFER for it and closes it with 1013, and a subscriber that
 * reads gets every event promptly all along. What the gateway held for the stalled socket is
 * read off what reaches that client once it reads again: every byte of it was held by the
 * gateway or the kernel, so it is at most the kernel's socket buffers plus the limit.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { printFigures } from '../support/fault-load.ts';
import { ECHO_API_KEY } from '../support/gateway.ts';
import { type ServingGateway, serveGateway } from '../support/processes.ts';
import { ADMIN_SECRET, JWT_SECRET, signToken } from '../support/tokens.ts';
import { connectWs, nextMatching, type TestWsClient } from '../support/ws-client.ts';

const MAX_BUFFER = 1024 * 1024;
const EVENT_BYTES = 64 * 1024;
const EVENTS = 60;
/** The stalled client follows the topic this many times over, so each event is this many frames for it. */
const STALLED_SUBSCRIPTIONS = 50;
/** What loopback TCP may buffer for one connection: the receiver's and the sender's autotuned maxima. */
const kernelBuffers = ['tcp_rmem', 'tcp_wmem']
  .map((name) => Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[2]))
  .reduce((sum, bytes) => sum + bytes, 0);

let db: TestDatabase;
let gateway: ServingGateway;
let reader: TestWsClient;

const rss = () =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8'))![1]) * 1024;

beforeAll(async () => {
  db = await createTestDatabase();
  gateway = await serveGateway({
    DATABASE_URL: db.url,
    PLUGBOARD_PLUGINS: 'echo',
    PLUGBOARD_JWT_SECRET: JWT_SECRET,
    PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
    ECHO_API_KEY,
    PLUGBOARD_WS_MAX_BUFFER: String(MAX_BUFFER),
  });
});

afterAll(async () => {
  await reader?.client.dispose();
  await gateway?.stop();
  await db?.drop();
});

async function publish(body: string): Promise<void> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET },
    body: JSON.stringify({ query: 'mutation ($b: String!) { echo(body: $b) { id } }', variables: { b: body } }),
  });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
}

/** A graphql-ws client on a bare `ws` socket, so the test can stop it reading (pause the socket). */
async function stalledSubscriber(url: string, token: string) {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const live = new Set<string>();
  let bytes = 0;
  const firstEvent = new Promise<void>((resolve, reject) => {
    socket.on('message', (data: Buffer) => {
      bytes += data.length;
      const message = JSON.parse(data.toString()) as { type: string; id?: string };
      if (message.type === 'connection_ack')
        for (let id = 1; id <= STALLED_SUBSCRIPTIONS; id++)
          socket.send(
            JSON.stringify({
              id: String(id),
              type: 'subscribe',
              payload: { query: 'subscription { echoed { body } }' },
            }),
          );
      if (message.type === 'next') live.add(message.id!);
      if (live.size === STALLED_SUBSCRIPTIONS) resolve();
    });
    socket.once('error', reject);
    // Cut by the gateway, the socket may end in an error (a reset) too: its close says what happened.
    socket.on('error', () => {});
  });
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
  return { socket, closed, allLive: firstEvent, live: () => live.size, bytes: () => bytes };
}

it('closes a subscriber that stops reading with 1013 past PLUGBOARD_WS_MAX_BUFFER, holding no more memory, and delays no one else', async () => {
  const wsUrl = `${gateway.url.replace(/^http/, 'ws')}/graphql`;
  reader = connectWs(wsUrl, { Authorization: `Bearer ${await signToken({ userId: 'reader' })}` });
  await reader.connected;
  const events = reader.subscribe<{ echoed: { body: string } }>('subscription { echoed { body } }');
  const slow = await stalledSubscriber(wsUrl, await signToken({ userId: 'slow' }));
  // Every subscription is live once it has had an event (graphql-ws subscribes asynchronously).
  await expect
    .poll(async () => {
      await publish('warm-up');
      return slow.live();
    })
    .toBe(STALLED_SUBSCRIPTIONS);
  await slow.allLive;
  slow.socket.pause();
  const bytesAtPause = slow.bytes();
  // The reader's events after the warm-up ones it may still hold.
  const next = () => nextMatching(events, (value) => value.data?.echoed.body !== 'warm-up', 5000);

  // As soon as the gateway gives up on it (and says why), the client reads again, in time for the close frame.
  const givenUp = expect
    .poll(() => gateway.output().includes('closing a WebSocket that does not read'), { timeout: 30_000 })
    .toBe(true)
    .then(() => slow.socket.resume());
  const filler = 'x'.repeat(EVENT_BYTES - 16);
  const baseline = rss();
  let peak = baseline;
  const latencies: number[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const sent = Date.now();
    await publish(`${String(i).padStart(6, '0')}${filler}`);
    const event = await next();
    latencies.push(Date.now() - sent);
    expect(event.data?.echoed.body.slice(0, 6)).toBe(String(i).padStart(6, '0'));
    peak = Math.max(peak, rss());
  }

  await givenUp;
  const closed = await slow.closed;
  expect(closed).toEqual({
    code: 1013,
    reason: `Sending faster than the client reads (PLUGBOARD_WS_MAX_BUFFER=${MAX_BUFFER})`,
  });
  // Published for the stalled client: far more than the kernel and the limit could hold together,
  // so had the gateway kept it all, the client would have read it all once it read again.
  const pushed = EVENTS * STALLED_SUBSCRIPTIONS * EVENT_BYTES;
  const bound = kernelBuffers + MAX_BUFFER + 2 * (EVENT_BYTES + 1024);
  expect(pushed).toBeGreaterThan(3 * bound);
  const held = slow.bytes() - bytesAtPause;
  expect(held).toBeLessThan(bound);
  // The reading subscriber got every event, in order, each soon after its mutation was sent.
  latencies.sort((a, b) => a - b);
  expect(latencies.at(-1)!).toBeLessThan(2000);

  printFigures({
    fault: `Subscriber stops reading (PLUGBOARD_WS_MAX_BUFFER=${MAX_BUFFER})`,
    load: `${EVENTS} events of ${EVENT_BYTES / 1024} KB to a reader and to a stalled client following them ${STALLED_SUBSCRIPTIONS} times (${(pushed / 1024 ** 2).toFixed(0)} MB for it); it read ${(held / 1024 ** 2).toFixed(1)} MB once resumed (kernel buffers up to ${(kernelBuffers / 1024 ** 2).toFixed(0)} MB); gateway RSS +${((peak - baseline) / 1024 ** 2).toFixed(0)} MB; reader latency p50 ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies.at(-1)} ms`,
    inFlight: 0,
    acknowledged: EVENTS,
    applied: latencies.length,
    lost: EVENTS - latencies.length,
    duplicated: 0,
    recovery: `stalled socket closed with ${closed.code}`,
  });
});

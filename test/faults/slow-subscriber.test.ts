/**
 * Fault: a graphql-ws subscriber stops reading while its events keep coming. The gateway keeps
 * no more than PLUGBOARD_WS_MAX_BUFFER for it (its memory stays flat however much is published),
 * closes it with 1013, and a subscriber that reads gets every event as promptly as before.
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
/** Each event carries this much (under PLUGBOARD_BODY_LIMIT), so a few hundred make 150 MB. */
const EVENT_BYTES = 512 * 1024;
const EVENTS = 300;

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

async function publish(body: string): Promise<number> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET },
    body: JSON.stringify({ query: 'mutation ($b: String!) { echo(body: $b) { id } }', variables: { b: body } }),
  });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  return Date.now();
}

/** A graphql-ws client on a bare `ws` socket, so the test can stop it reading (pause the socket). */
async function stalledSubscriber(url: string, token: string) {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  let received = 0;
  const firstEvent = new Promise<void>((resolve, reject) => {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { type: string };
      if (message.type === 'connection_ack')
        socket.send(
          JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { echoed { body } }' } }),
        );
      if (message.type === 'next' && received++ === 0) resolve();
    });
    socket.once('error', reject);
  });
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
  return { socket, closed, firstEvent, received: () => received };
}

it('closes a subscriber that stops reading with 1013 past PLUGBOARD_WS_MAX_BUFFER, holding no more memory, and delays no one else', async () => {
  const wsUrl = `${gateway.url.replace(/^http/, 'ws')}/graphql`;
  reader = connectWs(wsUrl, { Authorization: `Bearer ${await signToken({ userId: 'reader' })}` });
  await reader.connected;
  const events = reader.subscribe<{ echoed: { body: string } }>('subscription { echoed { body } }');
  const slow = await stalledSubscriber(wsUrl, await signToken({ userId: 'slow' }));
  // Both subscriptions are live once both have an event (graphql-ws subscribes asynchronously).
  await expect
    .poll(async () => {
      await publish('warm-up');
      return slow.received() > 0;
    })
    .toBe(true);
  await slow.firstEvent;
  slow.socket.pause();
  // The reader's events after the warm-up ones it may still hold.
  const next = () => nextMatching(events, (value) => value.data?.echoed.body !== 'warm-up', 5000);

  const filler = 'x'.repeat(EVENT_BYTES - 16);
  const baseline = rss();
  let peak = baseline;
  const latencies: number[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const body = `${String(i).padStart(6, '0')}${filler}`;
    const answered = await publish(body);
    const event = await next();
    expect(event.data?.echoed.body.slice(0, 6)).toBe(String(i).padStart(6, '0'));
    latencies.push(Date.now() - answered);
    peak = Math.max(peak, rss());
  }

  // The gateway gave up on the stalled socket, and said why (the close frame reaches it once it reads).
  expect(gateway.output()).toContain('closing a WebSocket that does not read');
  slow.socket.resume();
  const closed = await slow.closed;
  expect([1013, 1006]).toContain(closed.code);
  if (closed.code === 1013) expect(closed.reason).toContain('PLUGBOARD_WS_MAX_BUFFER');
  // 150 MB were published to the stalled socket; the gateway's memory did not grow with it.
  const pushed = EVENTS * EVENT_BYTES;
  expect(peak - baseline).toBeLessThan(pushed / 3);
  // The reading subscriber got every event, in order, each soon after its mutation was answered.
  latencies.sort((a, b) => a - b);
  expect(latencies.at(-1)!).toBeLessThan(2000);

  printFigures({
    fault: `Subscriber stops reading (PLUGBOARD_WS_MAX_BUFFER=${MAX_BUFFER})`,
    load: `${EVENTS} events of ${EVENT_BYTES / 1024} KB to 2 subscribers, one stalled (${pushed / 1024 ** 2} MB for it); gateway RSS +${((peak - baseline) / 1024 ** 2).toFixed(0)} MB; reader latency p50 ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies.at(-1)} ms`,
    inFlight: 0,
    acknowledged: EVENTS,
    applied: latencies.length,
    lost: EVENTS - latencies.length,
    duplicated: 0,
    recovery: `stalled socket closed with ${closed.code}`,
  });
});

/**
 * The realtime benchmark's load generator, a child process of bench/realtime.ts (pinned to core
 * 0, the server under test on core 1), driven over IPC: `connect` opens one WebSocket per member
 * of every room and follows typing and presence; `run` sends typing events at
 * a rate for some seconds and reports deliveries and latency from send to each delivery.
 *
 * Two dialects: `graphql` (graphql-ws: connection_init with a JWT, subscriptions `typing` and
 * `presence`, `startTyping` mutations over the same socket) and `ws` (the bare peer's join and
 * typing messages). Deliveries are read without a full JSON.parse (the frames are the same in
 * both), so the generator stays cheaper than either server.
 *
 * `run` also reports how late typing expiries arrive (receipt − the frame's `expiresAt`), and
 * `churn` closes and reopens a share of the connections every second, for a soak.
 */
import { SignJWT } from 'jose';
import WebSocket from 'ws';

interface Connect {
  cmd: 'connect';
  mode: 'graphql' | 'ws';
  url: string;
  rooms: string[];
  roomSize: number;
  jwtSecret: string;
}
interface Run {
  cmd: 'run';
  rate: number;
  seconds: number;
  /** Keep every latency (the latency phase) or only count (saturation steps). */
  latency: boolean;
}
interface Churn {
  cmd: 'churn';
  seconds: number;
  /** Connections closed and opened again each second. */
  perSecond: number;
}
type Command = Connect | Run | Churn | { cmd: 'close' };

const send = (message: unknown) => process.send!(message);
const TYPING_FRAME = '{"id":"t","type":"next","payload":{"data":{"typing":{"userId":"';
const EXPIRES_AT = '"expiresAt":"';

interface Client {
  socket?: WebSocket;
  user: string;
  room: number;
}

let clients: Client[] = [];
let mode: Connect['mode'] = 'graphql';
let rooms: string[] = [];
/** When the newest typing event of `${room}:${user}` was sent. */
const sentAt = new Map<string, number>();
let counting = false;
let keepLatency = false;
let typed = 0;
let expired = 0;
let refused = 0;
let latencies: number[] = [];
/** How late each expiry arrived after its `expiresAt` (ms; the clocks are the same machine's). */
let expiryLateness: number[] = [];
let connectCommand: Connect | undefined;

function onMessage(client: Client, data: WebSocket.RawData): void {
  const text = data.toString();
  if (!counting) return;
  if (text.startsWith(TYPING_FRAME)) {
    const userEnd = text.indexOf('"', TYPING_FRAME.length);
    const isTyping = text.startsWith('true', userEnd + 13); // ","isTyping":true
    if (!isTyping) {
      expired++;
      if (keepLatency) {
        const at = text.indexOf(EXPIRES_AT, userEnd);
        if (at !== -1)
          expiryLateness.push(Date.now() - Date.parse(text.slice(at + EXPIRES_AT.length, at + EXPIRES_AT.length + 24)));
      }
      return;
    }
    typed++;
    if (keepLatency) {
      const at = sentAt.get(`${client.room}:${text.slice(TYPING_FRAME.length, userEnd)}`);
      if (at !== undefined) latencies.push(performance.now() - at);
    }
  } else if (text.includes('"errors"') || (text.startsWith('{"id":"m') && text.includes('"type":"error"'))) {
    refused++;
  }
}

async function open(client: Client, command: Connect): Promise<void> {
  const socket = new WebSocket(command.url, command.mode === 'graphql' ? 'graphql-transport-ws' : undefined);
  client.socket = socket;
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const ready = new Promise<void>((resolve, reject) => {
    const first = (data: WebSocket.RawData) => {
      const text = data.toString();
      if (text.includes('connection_ack') || text.includes('"joined"')) {
        socket.off('message', first);
        resolve();
      }
    };
    socket.on('message', first);
    socket.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
  });
  if (command.mode === 'graphql') {
    const token = await new SignJWT({
      'https://hasura.io/jwt/claims': {
        'x-hasura-default-role': 'user',
        'x-hasura-allowed-roles': ['user'],
        'x-hasura-user-id': client.user,
      },
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(client.user)
      .setExpirationTime('2h')
      .sign(new TextEncoder().encode(command.jwtSecret));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
    await ready;
    const variables = { r: rooms[client.room] };
    socket.send(
      JSON.stringify({
        id: 't',
        type: 'subscribe',
        payload: { query: 'subscription($r: ID!) { typing(roomId: $r) { userId isTyping expiresAt } }', variables },
      }),
    );
    socket.send(
      JSON.stringify({
        id: 'p',
        type: 'subscribe',
        payload: { query: 'subscription($r: ID!) { presence(roomId: $r) { userId status } }', variables },
      }),
    );
  } else {
    socket.send(JSON.stringify({ type: 'join', room: rooms[client.room], user: client.user }));
    await ready;
  }
  socket.on('message', (data) => onMessage(client, data));
}

async function connect(command: Connect): Promise<void> {
  connectCommand = command;
  mode = command.mode;
  rooms = command.rooms;
  const started = performance.now();
  clients = [];
  for (let room = 0; room < rooms.length; room++) {
    for (let member = 0; member < command.roomSize; member++) {
      clients.push({ user: `u${room * command.roomSize + member}`, room });
    }
  }
  // At most 500 handshakes in flight.
  let next = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: 500 }, async () => {
      while (next < clients.length) {
        const client = clients[next++]!;
        await open(client, command).catch(() => failures++);
      }
    }),
  );
  send({ event: 'connected', ms: performance.now() - started, connections: clients.length - failures, failures });
}

/** Sends `rate` typing events a second: a third refresh someone typing now, the rest start anew. */
async function run({ rate, seconds, latency }: Run): Promise<void> {
  typed = 0;
  expired = 0;
  refused = 0;
  latencies = [];
  expiryLateness = [];
  keepLatency = latency;
  counting = true;
  // Senders of the last four seconds (inside the 5 s TTL): a refresh picks one of them.
  const recent = new Int32Array(Math.max(1, rate * 4)).fill(-1);
  let cursor = 0;
  let sent = 0;
  let due = 0;
  const started = performance.now();
  const tick = () => {
    due += rate / 100;
    const now = performance.now();
    for (; due >= 1; due--) {
      const refresh = sent % 3 === 2 ? recent[Math.floor(Math.random() * Math.min(sent, recent.length))]! : -1;
      // A stride spreads consecutive new typers over rooms and users.
      if (refresh < 0) cursor = (cursor + 7919) % clients.length;
      const index = refresh >= 0 ? refresh : cursor;
      recent[sent % recent.length] = index;
      const client = clients[index]!;
      const socket = client.socket;
      if (!socket) continue; // its connection failed
      sentAt.set(`${client.room}:${client.user}`, now);
      if (mode === 'graphql') {
        socket.send(
          `{"id":"m${sent}","type":"subscribe","payload":{"query":"mutation($r: ID!) { startTyping(roomId: $r) }","variables":{"r":"${rooms[client.room]}"}}}`,
        );
      } else {
        socket.send(`{"type":"typing","room":"${rooms[client.room]}","user":"${client.user}"}`);
      }
      sent++;
    }
  };
  const timer = setInterval(tick, 10);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  clearInterval(timer);
  const elapsed = (performance.now() - started) / 1000;
  const deliveredInWindow = typed;
  const expiredInWindow = expired;
  // Deliveries still in flight count for latency, not for the rate.
  await new Promise((resolve) => setTimeout(resolve, 500));
  counting = false;
  const at = percentiles(latencies);
  const late = percentiles(expiryLateness);
  send({
    event: 'ran',
    rate,
    sent,
    sentPerSecond: sent / elapsed,
    deliveredPerSecond: deliveredInWindow / elapsed,
    expiredPerSecond: expiredInWindow / elapsed,
    delivered: typed,
    expiries: expired,
    refused,
    p50: at(0.5),
    p99: at(0.99),
    samples: latencies.length,
    expiryLateP50: late(0.5),
    expiryLateP99: late(0.99),
    expirySamples: expiryLateness.length,
  });
}

function percentiles(values: number[]): (q: number) => number {
  values.sort((a, b) => a - b);
  return (q) => values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? NaN;
}

/** Closes `perSecond` connections a second, each opened again at once (a reconnect), for `seconds`. */
async function churn({ seconds, perSecond }: Churn): Promise<void> {
  const command = connectCommand!;
  let cycled = 0;
  let failures = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const second = performance.now();
    const picked = new Set<Client>();
    while (picked.size < Math.min(perSecond, clients.length))
      picked.add(clients[Math.floor(Math.random() * clients.length)]!);
    await Promise.all(
      [...picked].map(async (client) => {
        const socket = client.socket;
        client.socket = undefined;
        if (socket) {
          const closed = new Promise((resolve) => socket.once('close', resolve));
          socket.close();
          await closed;
        }
        await open(client, command).then(
          () => cycled++,
          () => failures++,
        );
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (performance.now() - second))));
  }
  send({ event: 'churned', cycled, failures });
}

process.on('message', (command: Command) => {
  const done = (error: unknown) => send({ event: 'error', message: String((error as Error)?.stack ?? error) });
  if (command.cmd === 'connect') connect(command).catch(done);
  else if (command.cmd === 'run') run(command).catch(done);
  else if (command.cmd === 'churn') churn(command).catch(done);
  else {
    for (const { socket } of clients) socket?.terminate();
    process.exit(0);
  }
});
send({ event: 'ready' });

/**
 * The realtime benchmark's peer: a bare `ws` server doing the same fan-out with no GraphQL, no
 * auth, no Redis, no Postgres. A client sends {"type":"join","room","user"}; a typing message
 * {"type":"typing","room","user"} goes to every other member of the room as the same frame a
 * graphql-ws subscriber gets ({"id":"t","type":"next","payload":{"data":{"typing":{…}}}}),
 * serialized once per event; an indicator not refreshed within the TTL lapses with isTyping
 * false, as the gateway's do. Presence too, as the gateway's subscribers get it: a joiner is
 * sent who in the room is online (a frame each), and the others get the joiner's ONLINE (and
 * OFFLINE when they leave). PORT and TYPING_TTL_MS from the environment.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const ttlMs = Number(process.env['TYPING_TTL_MS'] ?? 5000);
const rooms = new Map<string, Set<WebSocket>>();
const typing = new Map<string, NodeJS.Timeout>();

const frame = (userId: string, isTyping: boolean, expiresAt: number) =>
  JSON.stringify({
    id: 't',
    type: 'next',
    payload: { data: { typing: { userId, isTyping, expiresAt: new Date(expiresAt).toISOString() } } },
  });

const presenceFrame = (userId: string, status: 'ONLINE' | 'OFFLINE') =>
  JSON.stringify({ id: 'p', type: 'next', payload: { data: { presence: { userId, status } } } });
const users = new WeakMap<WebSocket, string>();

function broadcast(room: string, from: WebSocket | null, text: string): void {
  for (const member of rooms.get(room) ?? []) if (member !== from) member.send(text);
}

const server = createServer((request, response) => {
  response.writeHead(request.url === '/readyz' ? 200 : 404).end();
});
const sockets = new WebSocketServer({ server });
sockets.on('connection', (socket) => {
  let joined: string | undefined;
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; room: string; user: string };
    if (message.type === 'join') {
      joined = message.room;
      let members = rooms.get(joined);
      if (!members) {
        members = new Set();
        rooms.set(joined, members);
      }
      socket.send('{"type":"joined"}');
      for (const member of members) socket.send(presenceFrame(users.get(member)!, 'ONLINE'));
      users.set(socket, message.user);
      members.add(socket);
      broadcast(joined, socket, presenceFrame(message.user, 'ONLINE'));
    } else if (message.type === 'typing' && joined === message.room) {
      const key = `${message.room}\n${message.user}`;
      clearTimeout(typing.get(key));
      const expiresAt = Date.now() + ttlMs;
      typing.set(
        key,
        setTimeout(() => {
          typing.delete(key);
          broadcast(message.room, null, frame(message.user, false, expiresAt));
        }, ttlMs),
      );
      broadcast(message.room, socket, frame(message.user, true, expiresAt));
    }
  });
  socket.on('close', () => {
    if (!joined) return;
    rooms.get(joined)?.delete(socket);
    broadcast(joined, null, presenceFrame(users.get(socket)!, 'OFFLINE'));
  });
});
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1');

/**
 * Realtime: the gateway instances and their connections (refreshed every few seconds), the open
 * connections with a button that closes one wherever it is held, and rooms with their members
 * and who of them is online.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  ConsoleDisconnectDocument,
  ConsoleRealtimeDocument,
  ConsoleRoomMembersDocument,
} from '../../client/generated/graphql.ts';
import type { RequestClient } from '../../client/request.ts';
import { useLoad } from './load.ts';

const REFRESH_MS = 5000;

function Members({ api, roomId }: { api: RequestClient; roomId: string }) {
  const members = useLoad(() => api.request(ConsoleRoomMembersDocument, { roomId }), [api, roomId]);
  if (members.error) return <p class="error">{members.error}</p>;
  if (!members.data) return <p class="loading">Loading…</p>;
  return (
    <ul class="members">
      {members.data.realtimeRoomMembers.map((member) => (
        <li key={member.userId}>
          {member.userId} <span class="badge">{member.role}</span>{' '}
          <span class={member.status === 'OFFLINE' ? 'badge off' : 'badge ok'}>{member.status.toLowerCase()}</span>
        </li>
      ))}
    </ul>
  );
}

export function RealtimePage({ api }: { api: RequestClient }) {
  const [instance, setInstance] = useState<string | null>(null);
  const [room, setRoom] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const data = useLoad(() => api.request(ConsoleRealtimeDocument, { instance }), [api, instance]);
  useEffect(() => {
    const timer = setInterval(data.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [data.reload]);
  if (data.error) return <p class="error">{data.error}</p>;
  if (!data.data) return <p class="loading">Loading…</p>;
  const { realtimeInstances, realtimeConnections, realtimeRooms } = data.data;
  return (
    <div>
      <h2>Instances</h2>
      <table>
        <thead>
          <tr>
            <th>instance</th>
            <th>started</th>
            <th>last heartbeat</th>
            <th>connections</th>
            <th>users</th>
          </tr>
        </thead>
        <tbody>
          {realtimeInstances.map((row) => (
            <tr key={row.id} data-instance={row.id} aria-selected={row.id === instance}>
              <td>
                <button type="button" class="link" onClick={() => setInstance(row.id === instance ? null : row.id)}>
                  {row.id}
                </button>
              </td>
              <td>{new Date(row.startedAt).toLocaleString()}</td>
              <td>{new Date(row.heartbeatAt).toLocaleTimeString()}</td>
              <td>{row.connections}</td>
              <td>{row.users}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Connections{instance ? ` of ${instance}` : ''}</h2>
      {notice && <p class="notice">{notice}</p>}
      <table>
        <thead>
          <tr>
            <th>connection</th>
            <th>user</th>
            <th>instance</th>
            <th>connected</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {realtimeConnections.map((connection) => (
            <tr key={connection.id} data-connection={connection.id} data-user={connection.userId}>
              <td>
                <code>{connection.id}</code>
              </td>
              <td>{connection.userId}</td>
              <td>{connection.instance}</td>
              <td>{new Date(connection.connectedAt).toLocaleString()}</td>
              <td>
                <button
                  type="button"
                  class="disconnect"
                  onClick={async () => {
                    try {
                      const { disconnectRealtimeConnection: closed } = await api.request(ConsoleDisconnectDocument, {
                        id: connection.id,
                      });
                      setNotice(closed ? `Closed ${connection.id}` : `${connection.id} was already closed`);
                    } catch (failure) {
                      setNotice((failure as Error).message);
                    }
                    data.reload();
                  }}
                >
                  Disconnect
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Rooms</h2>
      <table>
        <thead>
          <tr>
            <th>room</th>
            <th>private</th>
            <th>created by</th>
            <th>members</th>
            <th>online</th>
          </tr>
        </thead>
        <tbody>
          {realtimeRooms.map((row) => [
            <tr key={row.id} data-room={row.id}>
              <td>
                <button type="button" class="link" onClick={() => setRoom(room === row.id ? null : row.id)}>
                  {row.name}
                </button>
              </td>
              <td>{row.isPrivate ? 'yes' : 'no'}</td>
              <td>{row.createdBy}</td>
              <td>{row.members}</td>
              <td>{row.online}</td>
            </tr>,
            room === row.id && (
              <tr key={`${row.id}-members`}>
                <td colSpan={5}>
                  <Members api={api} roomId={row.id} />
                </td>
              </tr>
            ),
          ])}
        </tbody>
      </table>
    </div>
  );
}

/**
 * What operators see of realtime (admins; the console's Realtime page): the gateway instances
 * with their connections, the open connections, rooms with their members, and closing one
 * connection wherever it is held.
 */
import { validate as isUuid } from 'uuid';
import { badUserInput, type Builder, type PluginRuntime } from '../../gateway/sdk.ts';
import type { RealtimeConfig } from './config.ts';
import { disconnectConnection } from './disconnect.ts';
import { realtimeSql } from './sql.ts';

const MAX_ROWS = 500;

interface InstanceRow {
  id: string;
  started_at: Date;
  heartbeat_at: Date;
  connections: number;
  users: number;
}
interface ConnectionRow {
  id: string;
  instance: string;
  user_id: string;
  connected_at: Date;
  last_seen: Date;
}
interface RoomRow {
  id: string;
  name: string;
  is_private: boolean;
  created_by: string;
  created_at: Date;
  members: number;
  online: number;
}
interface MemberRow {
  user_id: string;
  role: string;
  joined_at: Date;
  status: string;
}

/** `first`, bounded: a client asks at most MAX_ROWS rows. */
function bounded(first: number | null | undefined, fallback: number): number {
  const value = first ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > MAX_ROWS) throw badUserInput(`first must be 1…${MAX_ROWS}`);
  return value;
}

export function addRealtimeAdminSchema(builder: Builder, runtime: PluginRuntime<RealtimeConfig>): void {
  const rows = async <T>(name: string, params: unknown[]) =>
    (await runtime.db.query(realtimeSql(name), params)).rows as T[];

  const InstanceType = builder.objectRef<InstanceRow>('RealtimeInstance').implement({
    description: 'A gateway process serving graphql-ws, alive while it heartbeats.',
    fields: (t) => ({
      id: t.exposeID('id'),
      startedAt: t.field({ type: 'DateTime', resolve: (row) => row.started_at }),
      heartbeatAt: t.field({ type: 'DateTime', resolve: (row) => row.heartbeat_at }),
      connections: t.exposeInt('connections'),
      users: t.exposeInt('users', { description: 'Distinct users among its connections.' }),
    }),
  });
  const ConnectionType = builder.objectRef<ConnectionRow>('RealtimeConnection').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      instance: t.exposeString('instance'),
      userId: t.exposeString('user_id'),
      connectedAt: t.field({ type: 'DateTime', resolve: (row) => row.connected_at }),
      lastSeen: t.field({ type: 'DateTime', resolve: (row) => row.last_seen }),
    }),
  });
  const MemberType = builder.objectRef<MemberRow>('RealtimeRoomMember').implement({
    fields: (t) => ({
      userId: t.exposeString('user_id'),
      role: t.exposeString('role'),
      joinedAt: t.field({ type: 'DateTime', resolve: (row) => row.joined_at }),
      status: t.exposeString('status', { description: 'ONLINE, AWAY, BUSY or OFFLINE.' }),
    }),
  });
  const RoomType = builder.objectRef<RoomRow>('RealtimeRoomSummary').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      isPrivate: t.exposeBoolean('is_private'),
      createdBy: t.exposeString('created_by'),
      createdAt: t.field({ type: 'DateTime', resolve: (row) => row.created_at }),
      members: t.exposeInt('members'),
      online: t.exposeInt('online'),
    }),
  });

  builder.queryFields((t) => ({
    realtimeInstances: t.field({
      type: [InstanceType],
      description: 'Gateway instances with their connection counts (admins).',
      authScopes: { admin: true },
      resolve: () => rows<InstanceRow>('status-instances', []),
    }),
    realtimeConnections: t.field({
      type: [ConnectionType],
      description: `Open graphql-ws connections, newest first, of one instance or all (admins); at most ${MAX_ROWS}.`,
      authScopes: { admin: true },
      args: { instance: t.arg.string(), first: t.arg.int() },
      resolve: (_root, args) =>
        rows<ConnectionRow>('connections-list', [args.instance ?? null, bounded(args.first, 100)]),
    }),
    realtimeRooms: t.field({
      type: [RoomType],
      description: `Rooms with member and online counts, most members first (admins); at most ${MAX_ROWS}.`,
      authScopes: { admin: true },
      args: { first: t.arg.int() },
      resolve: (_root, args) => rows<RoomRow>('rooms-list', [bounded(args.first, 50)]),
    }),
    realtimeRoomMembers: t.field({
      type: [MemberType],
      description: `A room's members with their presence (admins); at most ${MAX_ROWS}.`,
      authScopes: { admin: true },
      args: { roomId: t.arg.id({ required: true }), first: t.arg.int() },
      resolve: (_root, args) => {
        const roomId = String(args.roomId);
        if (!isUuid(roomId)) throw badUserInput(`Not a room id: ${roomId.slice(0, 64)}`);
        return rows<MemberRow>('room-members-list', [roomId, bounded(args.first, 100)]);
      },
    }),
  }));

  builder.mutationField('disconnectRealtimeConnection', (t) =>
    t.boolean({
      description:
        'Closes one graphql-ws connection (code 4000) on whichever instance holds it, and answers once it is closed (admins). False when no such connection is open.',
      authScopes: { admin: true },
      args: { id: t.arg.id({ required: true }) },
      resolve: async (_root, args) => {
        const id = String(args.id);
        if (!isUuid(id)) throw badUserInput(`Not a connection id: ${id.slice(0, 64)}`);
        const result = await disconnectConnection(runtime.db, id);
        if (result.outcome === 'timed-out')
          throw badUserInput(`Instance ${result.instance} did not close connection ${id} in time; is it running?`);
        return result.outcome === 'closed';
      },
    }),
  );
}

/** Rooms and membership: who may join, invite, read and follow a room. */
import DataLoader from 'dataloader';
import { LRUCache } from 'lru-cache';
import { validate as isUuid } from 'uuid';
import { badUserInput, forbidden, type KeysetRow, type PluginRuntime, type Session } from '../../gateway/sdk.ts';
import type { RealtimeConfig } from './config.ts';
import type { EventLog } from './events-log.ts';
import { realtimeSql } from './sql.ts';
import { MEMBERSHIP_ENDED, ROOM_EVENTS, type RoomEventType } from './topics.ts';

export interface RoomRow {
  id: string;
  name: string;
  is_private: boolean;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  /** The caller's role in it, null when not a member. */
  role: 'owner' | 'admin' | 'member' | null;
  invited?: boolean;
}

/** A room id from input: a UUID, or a BAD_USER_INPUT error. */
export function roomIdOf(value: string | number): string {
  const id = String(value);
  if (!isUuid(id)) throw badUserInput(`Not a room id: ${id.slice(0, 60)}`);
  // One spelling, as Postgres prints it: the membership cache is keyed by it.
  return id.toLowerCase();
}

export const isAdmin = (session: Session) => session.role === 'admin';

/**
 * How long a membership seen is trusted without asking Postgres again: a minute, give or take half
 * of one, so that the memberships of 10,000 sockets that subscribed together do not all lapse in
 * the same second and come back to Postgres at once.
 */
const MEMBERSHIP_TTL_MS = 60_000;
const membershipTtl = () => Math.round(MEMBERSHIP_TTL_MS * (0.5 + Math.random()));

export class Rooms {
  /**
   * Memberships seen in the last minute, so typing and subscribing are not a query each. Only
   * "yes" is kept, so a join anywhere counts at once; a leave anywhere is published on
   * MEMBERSHIP_ENDED and every instance forgets it (the TTL bounds what a lost message costs).
   */
  private readonly members = new LRUCache<string, true>({ max: 200_000, ttl: MEMBERSHIP_TTL_MS });
  /**
   * Lookups the cache cannot answer, collected for a turn of the event loop and asked in one
   * query: 10,000 sockets subscribing at once, two subscriptions each, cost a few queries.
   */
  private readonly lookups: DataLoader<string, boolean>;
  private readonly runtime: PluginRuntime<RealtimeConfig>;
  private readonly events: EventLog;
  private ended: AsyncIterableIterator<{ roomId: string; userId: string }> | undefined;

  constructor(runtime: PluginRuntime<RealtimeConfig>, events: EventLog) {
    this.runtime = runtime;
    this.events = events;
    this.lookups = new DataLoader((keys) => this.membersAmong(keys), {
      cache: false,
      maxBatchSize: 1000,
      batchScheduleFn: (callback) => setImmediate(callback),
    });
  }

  /** Listens for memberships ended on any instance. */
  start(): void {
    this.ended = this.runtime.pubsub.subscribe(MEMBERSHIP_ENDED);
    void (async () => {
      for await (const { roomId, userId } of this.ended!) this.members.delete(`${roomId}:${userId}`);
    })().catch((error: unknown) => this.runtime.log.error({ err: error }, 'realtime membership listener failed'));
  }

  stop(): void {
    void this.ended?.return?.();
  }

  /** Keys are `room:user`; a room id is a UUID, so the first colon ends it. */
  private async membersAmong(keys: readonly string[]): Promise<boolean[]> {
    const { rows } = await this.runtime.db.query<{ n: string }>(realtimeSql('members-among'), [
      keys.map((key) => key.slice(0, key.indexOf(':'))),
      keys.map((key) => key.slice(key.indexOf(':') + 1)),
    ]);
    const members = new Set(rows.map((row) => Number(row.n) - 1));
    return keys.map((_key, index) => members.has(index));
  }

  async create(userId: string, name: string, isPrivate: boolean): Promise<RoomRow> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 200) throw badUserInput('A room name is 1 to 200 characters');
    const { rows } = await this.runtime.db.query<RoomRow>(realtimeSql('room-create'), [trimmed, isPrivate, userId]);
    const room = { ...rows[0]!, role: 'owner' as const };
    this.members.set(`${room.id}:${userId}`, true, { ttl: membershipTtl() });
    this.events.record('room_created', { roomId: room.id, userId, data: { name: trimmed, isPrivate } });
    return room;
  }

  async get(roomId: string, userId: string | null): Promise<RoomRow | null> {
    const { rows } = await this.runtime.db.query<RoomRow>(realtimeSql('room-by-id'), [roomId, userId]);
    return rows[0] ?? null;
  }

  /** The room as the caller may see it: public rooms to anyone signed in, private ones to members and invitees. */
  async visible(session: Session, roomId: string): Promise<RoomRow | null> {
    const room = await this.get(roomId, session.userId);
    if (room?.is_private && !room.role && !room.invited && !isAdmin(session)) throw forbidden('This room is private');
    return room;
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    const key = `${roomId}:${userId}`;
    if (this.members.has(key)) return true;
    const member = await this.lookups.load(key);
    if (member) this.members.set(key, true, { ttl: membershipTtl() });
    return member;
  }

  /** FORBIDDEN unless the caller is a member of the room (or an admin). Unknown rooms look the same. */
  async requireMember(session: Session, roomId: string): Promise<void> {
    if (isAdmin(session)) return;
    if (!session.userId || !(await this.isMember(roomId, session.userId)))
      throw forbidden('Only members of this room may do that');
  }

  async join(userId: string, roomId: string): Promise<RoomRow> {
    const room = await this.get(roomId, userId);
    if (!room) throw badUserInput(`No room ${roomId}`);
    if (room.role) return room;
    if (room.is_private && !room.invited) throw forbidden('This room is private: joining needs an invitation');
    const { rowCount } = await this.runtime.db.query(realtimeSql('room-join'), [roomId, userId]);
    this.members.set(`${roomId}:${userId}`, true, { ttl: membershipTtl() });
    if (rowCount) {
      this.publish(roomId, 'MEMBER_JOINED', userId);
      this.events.record('joined', { roomId, userId });
    }
    return { ...room, role: 'member', invited: false };
  }

  async leave(userId: string, roomId: string): Promise<boolean> {
    const { rowCount } = await this.runtime.db.query(realtimeSql('room-leave'), [roomId, userId]);
    this.members.delete(`${roomId}:${userId}`);
    this.runtime.pubsub.publish(MEMBERSHIP_ENDED, { roomId, userId });
    if (!rowCount) return false;
    this.publish(roomId, 'MEMBER_LEFT', userId);
    this.events.record('left', { roomId, userId });
    return true;
  }

  /** Owners and admins of a private room may invite; any member of a public one. */
  async invite(inviterId: string, roomId: string, userId: string): Promise<boolean> {
    const room = await this.get(roomId, inviterId);
    if (!room?.role) throw forbidden('Only members of this room may invite to it');
    if (room.is_private && room.role === 'member')
      throw forbidden('Only owners and admins may invite to a private room');
    const { rowCount } = await this.runtime.db.query(realtimeSql('room-invite'), [roomId, userId, inviterId]);
    if (rowCount) this.events.record('invited', { roomId, userId, data: { by: inviterId } });
    return rowCount === 1;
  }

  /** Owners and admins rename a room or change who may join it. */
  async update(
    userId: string,
    roomId: string,
    changes: { name?: string | null; isPrivate?: boolean | null },
  ): Promise<RoomRow> {
    const room = await this.get(roomId, userId);
    if (room?.role !== 'owner' && room?.role !== 'admin') throw forbidden('Only owners and admins may change a room');
    const name = changes.name == null ? null : changes.name.trim();
    if (name !== null && (name.length === 0 || name.length > 200))
      throw badUserInput('A room name is 1 to 200 characters');
    const { rows } = await this.runtime.db.query<RoomRow>(realtimeSql('room-update'), [
      roomId,
      name,
      changes.isPrivate ?? null,
    ]);
    this.publish(roomId, 'ROOM_UPDATED', userId);
    return { ...rows[0]!, role: room.role };
  }

  async ofMember(
    userId: string,
    limit: number,
    after: { at: string; id: string } | null,
  ): Promise<(RoomRow & KeysetRow)[]> {
    const { rows } = await this.runtime.db.query<RoomRow & KeysetRow>(realtimeSql('rooms-of-member'), [
      userId,
      limit,
      after?.at ?? null,
      after?.id ?? null,
    ]);
    return rows;
  }

  /** The users among `userIds` who share a room with `userId`. */
  async sharingWith(userId: string, userIds: string[]): Promise<Set<string>> {
    const { rows } = await this.runtime.db.query<{ user_id: string }>(realtimeSql('shares-room'), [userId, userIds]);
    return new Set(rows.map((row) => row.user_id));
  }

  private publish(roomId: string, type: RoomEventType, userId: string | null): void {
    this.runtime.pubsub.publish(ROOM_EVENTS, { type, roomId, userId, at: new Date().toISOString() }, roomId);
  }
}

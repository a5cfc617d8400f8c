/**
 * GraphQL of the realtime plugin: rooms, presence and typing. Subscriptions start with the
 * room's current state and carry its changes; only members (and admins) may follow or read a room.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import {
  badUserInput,
  type Builder,
  codedError,
  type Context,
  ErrorCode,
  forbidden,
  forwardConnection,
  type PluginRuntime,
  SHARED_RESULTS,
  SHEDDABLE,
  signedInUser,
} from '../../gateway/sdk.ts';
import type { RealtimeConfig } from './config.ts';
import { toPresence, type PresenceTracker } from './presence.ts';
import { isAdmin, roomIdOf, type RoomRow, type Rooms } from './rooms.ts';
import { realtimeSql } from './sql.ts';
import type { RoomFeed } from './feed.ts';
import type { PresencePayload, PresenceStatus, RoomEventPayload, TypingPayload } from './topics.ts';
import type { TypingIndicators } from './typing.ts';

export interface RealtimeServices {
  rooms: Rooms;
  presence: PresenceTracker;
  typing: TypingIndicators;
  presenceFeed: RoomFeed<PresencePayload>;
  roomEventsFeed: RoomFeed<RoomEventPayload>;
}

const MAX_USERS = 500;

export function addRealtimeSchema(
  builder: Builder,
  runtime: PluginRuntime<RealtimeConfig>,
  services: () => RealtimeServices,
): void {
  let limiter: RateLimiterMemory | undefined;
  /** Typing and presence changes per connection (per user over HTTP), REALTIME_RATE_LIMIT a second. */
  const rateLimit = async (context: Context) => {
    limiter ??= new RateLimiterMemory({ points: runtime.config.rateLimit, duration: 1 });
    try {
      await limiter.consume(context.socketId ?? `user:${context.session.userId}`);
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        throw codedError(
          ErrorCode.RATE_LIMITED,
          `Too many typing or presence changes: at most ${runtime.config.rateLimit} a second`,
          { retryAfterMs: error.msBeforeNext },
        );
      }
      throw error;
    }
  };

  const StatusEnum = builder.enumType('PresenceStatus', { values: ['ONLINE', 'AWAY', 'BUSY', 'OFFLINE'] as const });
  const RoomEventTypeEnum = builder.enumType('RoomEventType', {
    values: {
      ROOM_STATE: { description: 'The room as it is when the subscription starts (the first event).' },
      MEMBER_JOINED: {},
      MEMBER_LEFT: {},
      ROOM_UPDATED: {},
    } as const,
  });

  const PresenceType = builder.objectRef<PresencePayload>('Presence').implement({
    fields: (t) => ({
      userId: t.exposeString('userId'),
      status: t.field({ type: StatusEnum, resolve: (p) => p.status }),
      customStatus: t.exposeString('customStatus', { nullable: true }),
      lastSeen: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'Null for a user never seen.',
        resolve: (p) => (p.lastSeen ? new Date(p.lastSeen) : null),
      }),
    }),
  });

  const TypingType = builder.objectRef<TypingPayload>('Typing').implement({
    fields: (t) => ({
      userId: t.exposeString('userId'),
      isTyping: t.exposeBoolean('isTyping'),
      expiresAt: t.field({
        type: 'DateTime',
        description: 'When the indicator lapses without a refresh (when it stopped, if isTyping is false).',
        resolve: (p) => new Date(p.expiresAt),
      }),
    }),
  });

  const RoomType = builder.objectRef<RoomRow>('Room').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      isPrivate: t.exposeBoolean('is_private'),
      createdBy: t.exposeString('created_by'),
      createdAt: t.field({ type: 'DateTime', resolve: (room) => room.created_at }),
      myRole: t.exposeString('role', {
        nullable: true,
        description: 'owner, admin or member; null when the caller is not a member.',
      }),
    }),
  });

  const RoomEventType = builder.objectRef<RoomEventPayload & { room?: RoomRow | null }>('RoomEvent').implement({
    fields: (t) => ({
      type: t.field({ type: RoomEventTypeEnum, resolve: (e) => e.type }),
      roomId: t.exposeID('roomId'),
      userId: t.exposeString('userId', { nullable: true }),
      at: t.field({ type: 'DateTime', resolve: (e) => new Date(e.at) }),
      room: t.field({
        type: RoomType,
        nullable: true,
        description: 'The room (on ROOM_STATE).',
        resolve: (e) => e.room ?? null,
      }),
    }),
  });

  /** The room id, once the caller is known to be a member (or an admin). */
  const memberRoom = async (context: Context, roomId: string | number): Promise<string> => {
    const id = roomIdOf(roomId);
    await services().rooms.requireMember(context.session, id);
    return id;
  };
  const typingChange = async (
    context: Context,
    roomId: string | number,
    change: 'start' | 'stop',
  ): Promise<boolean> => {
    const userId = signedInUser(context.session);
    const id = await memberRoom(context, roomId);
    await rateLimit(context);
    await services().typing[change](id, userId);
    return true;
  };

  const presenceOfUsers = async (userIds: string[]): Promise<PresencePayload[]> => {
    const { rows } = await runtime.db.query(realtimeSql('presence-of-users'), [userIds]);
    const known = new Map(rows.map((row) => [row.user_id as string, toPresence(row)]));
    return userIds.map(
      (userId) => known.get(userId) ?? { userId, status: 'OFFLINE', customStatus: null, lastSeen: null },
    );
  };

  builder.queryFields((t) => ({
    room: t.field({
      type: RoomType,
      nullable: true,
      description: 'A room: public ones for anyone signed in, private ones for members and invitees.',
      authScopes: { $any: { admin: true, loggedIn: true } },
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }, context) => services().rooms.visible(context.session, roomIdOf(id)),
    }),
    myRooms: t.connection({
      type: RoomType,
      description: 'The rooms the caller is a member of, newest membership first.',
      authScopes: { loggedIn: true },
      resolve: (_root, args, context) => {
        const userId = signedInUser(context.session);
        return forwardConnection('myRooms', args, (after, limit) => services().rooms.ofMember(userId, limit, after));
      },
    }),
    onlineMembers: t.field({
      type: [PresenceType],
      description: 'Members of the room who are not OFFLINE (members and admins only).',
      authScopes: { $any: { admin: true, loggedIn: true } },
      args: { roomId: t.arg.id({ required: true }) },
      resolve: async (_root, { roomId }, context) => services().presence.onlineIn(await memberRoom(context, roomId)),
    }),
    presenceOf: t.field({
      type: [PresenceType],
      description: `Presence of users who share a room with the caller (admins: anyone), in the order asked; at most ${MAX_USERS}.`,
      authScopes: { $any: { admin: true, loggedIn: true } },
      args: { userIds: t.arg.stringList({ required: true }) },
      resolve: async (_root, { userIds }, context) => {
        const wanted = [...new Set(userIds)];
        if (wanted.length > MAX_USERS) throw badUserInput(`At most ${MAX_USERS} users at once`);
        if (!isAdmin(context.session)) {
          const me = signedInUser(context.session);
          const shared = await services().rooms.sharingWith(me, wanted);
          const strangers = wanted.filter((id) => id !== me && !shared.has(id));
          if (strangers.length > 0)
            throw forbidden(
              `No room shared with ${strangers.slice(0, 5).join(', ')}${strangers.length > 5 ? ', …' : ''}`,
            );
        }
        const byId = new Map((await presenceOfUsers(wanted)).map((p) => [p.userId, p]));
        return userIds.map((id) => byId.get(id)!);
      },
    }),
  }));

  builder.mutationFields((t) => ({
    createRoom: t.field({
      type: RoomType,
      description: 'A new room; the caller is its owner.',
      authScopes: { loggedIn: true },
      args: { name: t.arg.string({ required: true }), isPrivate: t.arg.boolean({ defaultValue: false }) },
      resolve: (_root, { name, isPrivate }, context) =>
        services().rooms.create(signedInUser(context.session), name, isPrivate ?? false),
    }),
    joinRoom: t.field({
      type: RoomType,
      description: 'Joins a public room, or a private one the caller is invited to.',
      authScopes: { loggedIn: true },
      args: { roomId: t.arg.id({ required: true }) },
      resolve: async (_root, { roomId }, context) => {
        const userId = signedInUser(context.session);
        const { rooms, presence } = services();
        const room = await rooms.join(userId, roomIdOf(roomId));
        await presence.announce(userId, room.id);
        return room;
      },
    }),
    updateRoom: t.field({
      type: RoomType,
      description:
        'Renames a room or makes it private or public (owners and admins); members following roomEvents see ROOM_UPDATED.',
      authScopes: { loggedIn: true },
      args: { roomId: t.arg.id({ required: true }), name: t.arg.string(), isPrivate: t.arg.boolean() },
      resolve: (_root, args, context) =>
        services().rooms.update(signedInUser(context.session), roomIdOf(args.roomId), {
          name: args.name,
          isPrivate: args.isPrivate,
        }),
    }),
    leaveRoom: t.boolean({
      description: 'Leaves a room; false when the caller was not in it.',
      authScopes: { loggedIn: true },
      args: { roomId: t.arg.id({ required: true }) },
      resolve: (_root, { roomId }, context) => services().rooms.leave(signedInUser(context.session), roomIdOf(roomId)),
    }),
    inviteToRoom: t.boolean({
      description:
        'Invites a user (owners and admins of a private room, any member of a public one); false when they are in it or invited already.',
      authScopes: { loggedIn: true },
      args: { roomId: t.arg.id({ required: true }), userId: t.arg.string({ required: true }) },
      resolve: (_root, args, context) =>
        services().rooms.invite(signedInUser(context.session), roomIdOf(args.roomId), args.userId),
    }),
    setPresence: t.field({
      type: PresenceType,
      description: "Sets the caller's status, seen by the members of their rooms.",
      authScopes: { loggedIn: true },
      args: { status: t.arg({ type: StatusEnum, required: true }), customStatus: t.arg.string() },
      resolve: async (_root, { status, customStatus }, context) => {
        const userId = signedInUser(context.session);
        if (customStatus && customStatus.length > 200) throw badUserInput('A custom status is at most 200 characters');
        await rateLimit(context);
        return services().presence.setPresence(userId, status as PresenceStatus, customStatus ?? null);
      },
    }),
    startTyping: t.boolean({
      // A keystroke's indicator: while the gateway is overloaded it may be refused (RATE_LIMITED),
      // and the next keystroke sends another.
      extensions: { [SHEDDABLE]: true },
      description:
        'The caller types in the room; repeat within REALTIME_TYPING_TTL_MS to keep the indicator on. Refused with RATE_LIMITED while the server is overloaded (PLUGBOARD_SHED_LAG_MS).',
      authScopes: { loggedIn: true },
      args: { roomId: t.arg.id({ required: true }) },
      resolve: (_root, { roomId }, context) => typingChange(context, roomId, 'start'),
    }),
    stopTyping: t.boolean({
      description: 'The caller stopped typing in the room.',
      authScopes: { loggedIn: true },
      args: { roomId: t.arg.id({ required: true }) },
      resolve: (_root, { roomId }, context) => typingChange(context, roomId, 'stop'),
    }),
  }));

  builder.subscriptionFields((t) => ({
    presence: t.field({
      // What a member sees of an event does not depend on which member they are.
      extensions: { [SHARED_RESULTS]: true },
      type: PresenceType,
      description: 'Members of the room who are online now, then every presence change of its members.',
      authScopes: { $any: { admin: true, loggedIn: true } },
      args: { roomId: t.arg.id({ required: true }) },
      subscribe: async (_root, { roomId }, context) =>
        services().presenceFeed.follow(await memberRoom(context, roomId)),
      resolve: (payload) => payload,
    }),
    typing: t.field({
      // What a member sees of an event does not depend on which member they are.
      extensions: { [SHARED_RESULTS]: true },
      type: TypingType,
      description: 'Who is typing in the room now, then every start, refresh, stop and expiry.',
      authScopes: { $any: { admin: true, loggedIn: true } },
      args: { roomId: t.arg.id({ required: true }) },
      subscribe: async (_root, { roomId }, context) => services().typing.follow(await memberRoom(context, roomId)),
      resolve: (payload) => payload,
    }),
    roomEvents: t.field({
      type: RoomEventType,
      description: 'The room as it is now (ROOM_STATE), then members joining and leaving and updates.',
      authScopes: { $any: { admin: true, loggedIn: true } },
      args: { roomId: t.arg.id({ required: true }) },
      subscribe: async (_root, { roomId }, context) => {
        const id = await memberRoom(context, roomId);
        return services().roomEventsFeed.follow(id, async () => {
          const room = await services().rooms.get(id, context.session.userId);
          return [{ type: 'ROOM_STATE' as const, roomId: id, userId: null, at: new Date().toISOString(), room }];
        });
      },
      resolve: (payload) => payload,
    }),
  }));
}

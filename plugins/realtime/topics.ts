/** What travels on the pubsub, one channel per room (the topic's id is the room id). */
import { topic } from '../../gateway/sdk.ts';

export type PresenceStatus = 'ONLINE' | 'AWAY' | 'BUSY' | 'OFFLINE';

export interface PresencePayload {
  userId: string;
  status: PresenceStatus;
  customStatus: string | null;
  /** ISO time; null for a user never seen. */
  lastSeen: string | null;
}

export interface TypingPayload {
  userId: string;
  isTyping: boolean;
  /** ISO time the indicator lapses without a refresh (when it stopped, for isTyping false). */
  expiresAt: string;
}

export type RoomEventType = 'ROOM_STATE' | 'MEMBER_JOINED' | 'MEMBER_LEFT' | 'ROOM_UPDATED';

export interface RoomEventPayload {
  type: RoomEventType;
  roomId: string;
  userId: string | null;
  at: string;
}

export const PRESENCE = topic<PresencePayload>('realtime.presence');
export const TYPING = topic<TypingPayload>('realtime.typing');
export const ROOM_EVENTS = topic<RoomEventPayload>('realtime.room-events');
/** One channel for all rooms: a membership ended, for every instance's membership cache. */
export const MEMBERSHIP_ENDED = topic<{ roomId: string; userId: string }>('realtime.membership-ended');

/** The analytics log (realtime.events), written in batches of whatever happened meanwhile. */
import type { Logger } from 'pino';
import type pg from 'pg';
import { Batcher } from '../../gateway/sdk.ts';
import { realtimeSql } from './sql.ts';

export type RealtimeEventType =
  | 'connected'
  | 'disconnected'
  | 'room_created'
  | 'joined'
  | 'left'
  | 'invited'
  | 'presence_changed'
  | 'typing_started';

interface LoggedEvent {
  type: RealtimeEventType;
  room_id: string | null;
  user_id: string | null;
  data: Record<string, unknown> | null;
  at: string;
}

export class EventLog {
  private readonly batcher: Batcher<LoggedEvent>;
  private readonly log: Logger;

  constructor(db: () => pg.Pool, log: Logger) {
    this.log = log;
    this.batcher = new Batcher<LoggedEvent>(
      async (events) => {
        await db().query(realtimeSql('events-insert'), [JSON.stringify(events)]);
      },
      { delayMs: 1000, maxItems: 1000 },
    );
  }

  record(
    type: RealtimeEventType,
    {
      roomId = null,
      userId = null,
      data = null,
    }: { roomId?: string | null; userId?: string | null; data?: Record<string, unknown> | null } = {},
  ): void {
    // Analytics must not fail the action it records: a lost batch is logged, not thrown.
    this.batcher
      .add({ type, room_id: roomId, user_id: userId, data, at: new Date().toISOString() })
      .catch((error: unknown) => this.log.warn({ err: error }, 'realtime events batch not written'));
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }
}

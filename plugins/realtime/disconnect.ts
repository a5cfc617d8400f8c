/** Closing one connection wherever it is held: the CLI's `disconnect` and the console's. */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { DISCONNECT_CHANNEL } from './presence.ts';
import { realtimeSql } from './sql.ts';

/** How long to wait for the holding instance to close the connection. */
export const DISCONNECT_WAIT_MS = 5000;

export type Disconnected =
  | { outcome: 'unknown' }
  | { outcome: 'closed' | 'timed-out'; instance: string; userId: string };

/** Asks the instance holding connection `id` to close it (code 4000) and waits until it has. */
export async function disconnectConnection(db: pg.Pool, id: string): Promise<Disconnected> {
  const found = (await db.query<{ instance: string; user_id: string }>(realtimeSql('connection-by-id'), [id])).rows[0];
  if (!found) return { outcome: 'unknown' };
  await db.query('SELECT pg_notify($1, $2)', [DISCONNECT_CHANNEL, id]);
  const deadline = Date.now() + DISCONNECT_WAIT_MS;
  while (Date.now() < deadline) {
    if ((await db.query(realtimeSql('connection-by-id'), [id])).rowCount === 0)
      return { outcome: 'closed', instance: found.instance, userId: found.user_id };
    await sleep(100);
  }
  return { outcome: 'timed-out', instance: found.instance, userId: found.user_id };
}

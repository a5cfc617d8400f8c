/** `plugboard realtime …`: status, rooms, and closing one connection wherever it is held. */
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { validate as isUuid } from 'uuid';
import { type OpenedPlugin, table, UsageError } from '../../gateway/sdk.ts';
import type { RealtimeConfig } from './config.ts';
import { DISCONNECT_CHANNEL } from './presence.ts';
import { realtimeSql } from './sql.ts';

type Open = () => Promise<OpenedPlugin<RealtimeConfig, unknown>>;

/** How long `disconnect` waits for the holding instance to close the connection. */
const DISCONNECT_WAIT_MS = 5000;

export function addRealtimeCommands(command: Command, open: Open): void {
  command
    .command('status')
    .description('Connections per instance, rooms and online users')
    .action(async () => {
      const {
        runtime: { db },
      } = await open();
      const instances = (await db.query(realtimeSql('status-instances'))).rows;
      const totals = (await db.query(realtimeSql('status-totals'))).rows[0] as Record<string, number>;
      console.log(
        instances.length > 0 ? table(instances) : 'No gateway instance is running (none has a recent heartbeat).',
      );
      console.log(
        `\nconnections ${totals['connections']}   online users ${totals['online']}   rooms ${totals['rooms']}   memberships ${totals['memberships']}`,
      );
    });

  command
    .command('rooms')
    .description('Rooms with their members and who is online, most members first')
    .option('--limit <n>', 'rooms to show', '50')
    .action(async (options: { limit: string }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
      const {
        runtime: { db },
      } = await open();
      const { rows } = await db.query(realtimeSql('rooms-list'), [limit]);
      console.log(rows.length > 0 ? table(rows) : 'No rooms yet.');
    });

  command
    .command('disconnect')
    .description('Close one connection, on whichever instance holds it (close code 4000)')
    .argument('<connectionId>', 'a connection id, as `status` or realtime.connections show it')
    .action(async (id: string) => {
      if (!isUuid(id)) throw new UsageError(`Not a connection id: ${id}`);
      const {
        runtime: { db },
      } = await open();
      const found = (await db.query(realtimeSql('connection-by-id'), [id])).rows[0] as
        | { instance: string; user_id: string }
        | undefined;
      if (!found) throw new UsageError(`No open connection ${id}`);
      await db.query('SELECT pg_notify($1, $2)', [DISCONNECT_CHANNEL, id]);
      const deadline = Date.now() + DISCONNECT_WAIT_MS;
      while (Date.now() < deadline) {
        if ((await db.query(realtimeSql('connection-by-id'), [id])).rowCount === 0) {
          console.log(`Closed connection ${id} of user ${found.user_id} (instance ${found.instance}).`);
          return;
        }
        await sleep(100);
      }
      console.error(
        `Instance ${found.instance} did not close connection ${id} within ${DISCONNECT_WAIT_MS / 1000} s; is it running?`,
      );
      process.exitCode = 1;
    });
}

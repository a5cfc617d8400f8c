/** `plugboard realtime …`: status, rooms, and closing one connection wherever it is held. */
import type { Command } from 'commander';
import { validate as isUuid } from 'uuid';
import { type OpenedPlugin, table, UsageError } from '../../gateway/sdk.ts';
import type { RealtimeConfig } from './config.ts';
import { DISCONNECT_WAIT_MS, disconnectConnection } from './disconnect.ts';
import { realtimeSql } from './sql.ts';

type Open = () => Promise<OpenedPlugin<RealtimeConfig, unknown>>;

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
      const result = await disconnectConnection(db, id);
      if (result.outcome === 'unknown') throw new UsageError(`No open connection ${id}`);
      if (result.outcome === 'closed') {
        console.log(`Closed connection ${id} of user ${result.userId} (instance ${result.instance}).`);
        return;
      }
      console.error(
        `Instance ${result.instance} did not close connection ${id} within ${DISCONNECT_WAIT_MS / 1000} s; is it running?`,
      );
      process.exitCode = 1;
    });
}

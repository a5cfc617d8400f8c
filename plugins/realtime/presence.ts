/**
 * Connections and presence. Each instance keeps its own sockets in memory and writes them to
 * Postgres in batches; presence lives in Postgres, so every instance sees the same. A user's
 * first connection anywhere makes them ONLINE; when their last one closes the grace period
 * starts (a reconnect inside it publishes nothing), and whichever instance's sweep finds it over
 * turns them OFFLINE and publishes it. Instances heartbeat; one silent for two reaper intervals
 * is dead, and the others reap its connections. Presence changes go to the user's rooms only.
 */
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import pg from 'pg';
import { Batcher, type PluginRuntime, type SocketConnection, type SocketRefusal } from '../../gateway/sdk.ts';
import type { RealtimeConfig } from './config.ts';
import type { EventLog } from './events-log.ts';
import { realtimeSql } from './sql.ts';
import { PRESENCE, type PresencePayload, type PresenceStatus } from './topics.ts';

/** Where `plugboard realtime disconnect` asks the instance holding a connection to close it. */
export const DISCONNECT_CHANNEL = 'realtime_disconnect';
/** Close code of a connection closed by an operator. */
export const CLOSED_BY_OPERATOR = 4000;
/** Close code of a connection refused at a connection cap ("try again later"); the reason names the cap. */
export const TOO_MANY_CONNECTIONS = 1013;

interface PresenceRow {
  user_id: string;
  status: PresenceStatus;
  custom_status: string | null;
  last_seen: Date | null;
}

export const toPresence = (row: PresenceRow): PresencePayload => ({
  userId: row.user_id,
  status: row.status,
  customStatus: row.custom_status,
  lastSeen: row.last_seen ? row.last_seen.toISOString() : null,
});

type Change = { kind: 'open' | 'close'; id: string; userId: string };

/** Users whose last-read presence is kept, so that reads of an unchanged presence give the same object. */
const KNOWN_PRESENCES = 100_000;

/** Adds to a count, dropping keys that reach 0 (so the maps hold only addresses and users with sockets). */
function adjust(counts: Map<string, number>, key: string, delta: number): void {
  const next = (counts.get(key) ?? 0) + delta;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}

export class PresenceTracker {
  readonly instanceId = randomUUID();
  /** This instance's sockets by connection id. */
  readonly local = new Map<string, SocketConnection>();
  /** Of `local`: anonymous sockets, and sockets by client address and by user (for the caps). */
  private anonymous = 0;
  private readonly byIp = new Map<string, number>();
  private readonly byUser = new Map<string, number>();
  private readonly changes: Batcher<Change>;
  private readonly timers: NodeJS.Timeout[] = [];
  private listener: pg.Client | undefined;
  private readonly runtime: PluginRuntime<RealtimeConfig>;
  private readonly events: EventLog;
  /**
   * Each user's presence as last read, by user: a room's state is read again for every turn in
   * which followers start, and handing out the same object for an unchanged presence lets the
   * shared subscriptions execute it once (their results are kept by event object), not once per
   * read: at 10,000 sockets connecting, that execution was most of the garbage made.
   */
  private readonly presences = new LRUCache<string, PresencePayload>({ max: KNOWN_PRESENCES });

  constructor(runtime: PluginRuntime<RealtimeConfig>, events: EventLog) {
    this.runtime = runtime;
    this.events = events;
    this.changes = new Batcher((changes) => this.apply(changes), { delayMs: 10, maxItems: 500 });
  }

  /**
   * Admits a socket under the caps of this instance: in all, anonymous ones (so that they never
   * take the places of signed-in users), per client address and per user.
   */
  opened(connection: SocketConnection): SocketRefusal | undefined {
    const { maxConnections, maxAnonymousConnections, maxConnectionsPerIp, maxConnectionsPerUser } = this.runtime.config;
    const { userId, via } = connection.session;
    const refuse = (reason: string): SocketRefusal => ({ code: TOO_MANY_CONNECTIONS, reason });
    if (this.local.size >= maxConnections)
      return refuse(`Too many connections on this instance (REALTIME_MAX_CONNECTIONS=${maxConnections}); retry later`);
    if (via === 'anonymous' && this.anonymous >= maxAnonymousConnections) {
      return refuse(
        `Too many anonymous connections (REALTIME_MAX_ANONYMOUS_CONNECTIONS=${maxAnonymousConnections}); sign in or retry later`,
      );
    }
    if ((this.byIp.get(connection.ip) ?? 0) >= maxConnectionsPerIp)
      return refuse(`Too many connections from this address (REALTIME_MAX_CONNECTIONS_PER_IP=${maxConnectionsPerIp})`);
    if (userId && (this.byUser.get(userId) ?? 0) >= maxConnectionsPerUser)
      return refuse(`Too many connections of this user (REALTIME_MAX_CONNECTIONS_PER_USER=${maxConnectionsPerUser})`);
    this.local.set(connection.id, connection);
    this.count(connection, 1);
    this.record('open', connection);
    return undefined;
  }

  closed(connection: SocketConnection): void {
    if (!this.local.delete(connection.id)) return;
    this.count(connection, -1);
    this.record('close', connection);
  }

  private count(connection: SocketConnection, delta: 1 | -1): void {
    const { userId, via } = connection.session;
    if (via === 'anonymous') this.anonymous += delta;
    adjust(this.byIp, connection.ip, delta);
    if (userId) adjust(this.byUser, userId, delta);
  }

  /** Queues a signed-in user's connection change for the next batch, and logs it for analytics. */
  private record(kind: Change['kind'], connection: SocketConnection): void {
    const { userId } = connection.session;
    if (!userId) return;
    this.changes
      .add({ kind, id: connection.id, userId })
      .catch((error: unknown) => this.runtime.log.error({ err: error, kind }, 'recording a connection change failed'));
    this.events.record(kind === 'open' ? 'connected' : 'disconnected', { userId, data: { connection: connection.id } });
  }

  /** Opens and closes in the order they happened: a connection opened and closed within one batch ends up gone. */
  private async apply(changes: Change[]): Promise<void> {
    const { db, config } = this.runtime;
    const opens = changes.filter((c) => c.kind === 'open');
    const closes = changes.filter((c) => c.kind === 'close');
    if (opens.length > 0) {
      const { rows } = await db.query<PresenceRow>(realtimeSql('connections-open'), [
        this.instanceId,
        opens.map((c) => c.id),
        opens.map((c) => c.userId),
      ]);
      await this.publish(rows);
    }
    if (closes.length > 0)
      await db.query(realtimeSql('connections-close'), [closes.map((c) => c.id), config.presenceGraceMs]);
  }

  /** Members of the room who are not OFFLINE. */
  async onlineIn(roomId: string): Promise<PresencePayload[]> {
    const { rows } = await this.runtime.db.query<PresenceRow>(realtimeSql('presence-of-room'), [roomId]);
    return rows.map((row) => this.known(toPresence(row)));
  }

  /** The presence object already handed out for this user, when nothing in it changed. */
  private known(presence: PresencePayload): PresencePayload {
    const known = this.presences.get(presence.userId);
    if (
      known?.status === presence.status &&
      known.customStatus === presence.customStatus &&
      known.lastSeen === presence.lastSeen
    )
      return known;
    this.presences.set(presence.userId, presence);
    return presence;
  }

  async setPresence(userId: string, status: PresenceStatus, customStatus: string | null): Promise<PresencePayload> {
    const { rows } = await this.runtime.db.query<PresenceRow>(realtimeSql('set-presence'), [
      userId,
      status,
      customStatus,
    ]);
    await this.publish(rows);
    this.events.record('presence_changed', { userId, data: { status, customStatus } });
    return toPresence(rows[0]!);
  }

  /** Shows a user who just joined a room to its members, unless they are OFFLINE. */
  async announce(userId: string, roomId: string): Promise<void> {
    const { rows } = await this.runtime.db.query<PresenceRow>(realtimeSql('presence-of-users'), [[userId]]);
    const row = rows[0];
    if (row && row.status !== 'OFFLINE') this.runtime.pubsub.publish(PRESENCE, toPresence(row), roomId);
  }

  /** Publishes each user's presence to each room they are a member of. */
  async publish(rows: PresenceRow[]): Promise<void> {
    if (rows.length === 0) return;
    const byUser = new Map(rows.map((row) => [row.user_id, toPresence(row)]));
    const { rows: memberships } = await this.runtime.db.query<{ room_id: string; user_id: string }>(
      realtimeSql('rooms-of-users'),
      [[...byUser.keys()]],
    );
    for (const { room_id, user_id } of memberships)
      this.runtime.pubsub.publish(PRESENCE, byUser.get(user_id)!, room_id);
  }

  async start(): Promise<void> {
    const { config, log } = this.runtime;
    await this.heartbeat();
    const every = (ms: number, task: () => Promise<void>, what: string) => {
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        task()
          .catch((error: unknown) => log.warn({ err: error }, `realtime ${what} failed`))
          .finally(() => (running = false));
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(config.reaperIntervalMs, () => this.heartbeat(), 'heartbeat');
    // The grace sweep runs often enough that OFFLINE lands within a quarter of the grace period.
    every(Math.min(1000, Math.max(50, config.presenceGraceMs / 4)), () => this.sweep(), 'grace sweep');
    await this.listenForDisconnects();
  }

  private async heartbeat(): Promise<void> {
    const { db, config } = this.runtime;
    await db.query(realtimeSql('instance-heartbeat'), [this.instanceId]);
    await db.query(realtimeSql('instances-reap'), [2 * config.reaperIntervalMs, config.presenceGraceMs]);
  }

  /** Users whose grace period is over turn OFFLINE; the sweep that takes a row publishes it. */
  async sweep(): Promise<void> {
    const { rows } = await this.runtime.db.query<PresenceRow>(realtimeSql('grace-sweep'));
    await this.publish(rows);
  }

  private async listenForDisconnects(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.runtime.connections.databaseUrl,
      application_name: 'plugboard-realtime',
    });
    client.on(
      'notification',
      ({ payload }) => payload && this.local.get(payload)?.close(CLOSED_BY_OPERATOR, 'Disconnected by an operator'),
    );
    client.on('error', (error) =>
      this.runtime.log.warn({ err: error }, 'realtime disconnect listener lost its connection'),
    );
    await client.connect();
    await client.query(`LISTEN ${DISCONNECT_CHANNEL}`);
    this.listener = client;
  }

  /** Stops the timers and writes what is pending; the sockets were closed before (their closes are in the batch). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.changes.flush();
    await this.runtime.db.query(realtimeSql('instance-leave'), [this.instanceId]);
    await this.listener?.end().catch(() => {});
  }
}

/**
 * Every webhook log: counts and deliveries per minute over the last hour (refreshed every few
 * seconds), then one plugin's events with filters, an event's payload and attempts, and replay:
 * of one event, or of every failed one.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  ConsoleReplayFailedWebhookEventsDocument,
  ConsoleReplayWebhookEventDocument,
  ConsoleWebhookEventsDocument,
  ConsoleWebhookStatsDocument,
  type ConsoleWebhookStatsQuery,
  type WebhookEventStatus,
} from '../../client/generated/graphql.ts';
import type { RequestClient } from '../../client/request.ts';
import { lastHour, TimeChart } from './chart.tsx';
import { useLoad } from './load.ts';

const REFRESH_MS = 5000;
const STATUSES: WebhookEventStatus[] = ['FAILED', 'RECEIVED', 'PROCESSED'];

type Stats = ConsoleWebhookStatsQuery['webhookStats'][number];

function Throughput({ stats }: { stats: Stats }) {
  const [times, series] = useMemo(
    () =>
      lastHour(stats.perMinute, [
        { key: 'received', label: 'received', color: '#2563eb' },
        { key: 'failed', label: 'failed', color: '#dc2626' },
      ]),
    [stats],
  );
  if (stats.perMinute.length === 0) return <p class="muted">No deliveries in the last hour.</p>;
  return <TimeChart title={`${stats.plugin}: deliveries in the last hour`} times={times} series={series} />;
}

function Events({ api, plugin, onChange }: { api: RequestClient; plugin: string; onChange: () => void }) {
  const [status, setStatus] = useState<WebhookEventStatus | ''>('');
  const [type, setType] = useState('');
  // datetime-local values (the browser's time zone), sent as instants.
  const [from, setFrom] = useState('');
  const [before, setBefore] = useState('');
  const instant = (local: string) => (local ? new Date(local).toISOString() : null);
  const [open, setOpen] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const events = useLoad(
    () =>
      api.request(ConsoleWebhookEventsDocument, {
        plugin,
        status: status || null,
        type: type || null,
        from: instant(from),
        before: instant(before),
      }),
    [api, plugin, status, type, from, before],
  );
  const act = async (run: () => Promise<string>) => {
    try {
      setNotice(await run());
    } catch (failure) {
      setNotice((failure as Error).message);
    }
    events.reload();
    onChange();
  };
  return (
    <section class="events">
      <h2>{plugin} events</h2>
      <div class="filters">
        <label>
          status
          <select
            name="status"
            value={status}
            onChange={(event) => setStatus(event.currentTarget.value as WebhookEventStatus | '')}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label>
          type
          <input
            name="type"
            placeholder="invoice.*"
            value={type}
            onChange={(event) => setType(event.currentTarget.value)}
          />
        </label>
        <label>
          received from
          <input
            name="from"
            type="datetime-local"
            value={from}
            onChange={(event) => setFrom(event.currentTarget.value)}
          />
        </label>
        <label>
          before
          <input
            name="before"
            type="datetime-local"
            value={before}
            onChange={(event) => setBefore(event.currentTarget.value)}
          />
        </label>
        <button
          type="button"
          class="replay-failed"
          onClick={() =>
            act(async () => {
              const { replayFailedWebhookEvents: count } = await api.request(ConsoleReplayFailedWebhookEventsDocument, {
                plugin,
              });
              return `Replayed ${count} failed event${count === 1 ? '' : 's'}`;
            })
          }
        >
          Replay every failed event
        </button>
      </div>
      {notice && <p class="notice">{notice}</p>}
      {events.error && <p class="error">{events.error}</p>}
      <table>
        <thead>
          <tr>
            <th>received</th>
            <th>id</th>
            <th>type</th>
            <th>status</th>
            <th>attempts</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {events.data?.webhookEvents.edges.map(({ node: event }) => [
            <tr key={event.id} data-event={event.id} data-status={event.status}>
              <td>{new Date(event.receivedAt).toLocaleString()}</td>
              <td>
                <button type="button" class="link" onClick={() => setOpen(open === event.id ? null : event.id)}>
                  {event.id}
                </button>
              </td>
              <td>{event.type}</td>
              <td>
                <span class={`badge ${event.status.toLowerCase()}`}>{event.status.toLowerCase()}</span>
              </td>
              <td>{event.attempts}</td>
              <td>
                <button
                  type="button"
                  class="replay"
                  onClick={() =>
                    act(async () => {
                      const { replayWebhookEvent: replayed } = await api.request(ConsoleReplayWebhookEventDocument, {
                        plugin,
                        id: event.id,
                      });
                      return `${replayed.id}: ${replayed.status.toLowerCase()}${replayed.lastError ? ` (${replayed.lastError})` : ''}`;
                    })
                  }
                >
                  Replay
                </button>
              </td>
            </tr>,
            open === event.id && (
              <tr key={`${event.id}-payload`} class="payload">
                <td colSpan={6}>
                  {event.lastError && <p class="error">last error: {event.lastError}</p>}
                  <pre>{JSON.stringify(event.payload, null, 2)}</pre>
                </td>
              </tr>
            ),
          ])}
        </tbody>
      </table>
    </section>
  );
}

export function WebhooksPage({ api }: { api: RequestClient }) {
  const stats = useLoad(() => api.request(ConsoleWebhookStatsDocument, {}), [api]);
  const [plugin, setPlugin] = useState<string | null>(null);
  useEffect(() => {
    const timer = setInterval(stats.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [stats.reload]);
  if (stats.error) return <p class="error">{stats.error}</p>;
  if (!stats.data) return <p class="loading">Loading…</p>;
  const logs = stats.data.webhookStats;
  if (logs.length === 0) return <p class="muted">No enabled plugin receives webhooks.</p>;
  const selected = plugin ?? logs[0]!.plugin;
  return (
    <div>
      <table class="stats">
        <thead>
          <tr>
            <th>plugin</th>
            <th>waiting</th>
            <th>processed</th>
            <th>failed</th>
            <th>last delivery</th>
          </tr>
        </thead>
        <tbody>
          {logs.map((log) => (
            <tr key={log.plugin} data-plugin={log.plugin} aria-selected={log.plugin === selected}>
              <td>
                <button type="button" class="link" onClick={() => setPlugin(log.plugin)}>
                  {log.plugin}
                </button>
              </td>
              <td>{log.received}</td>
              <td>{log.processed}</td>
              <td class="failed-count">{log.failed}</td>
              <td>{log.lastReceivedAt ? new Date(log.lastReceivedAt).toLocaleString() : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Throughput stats={logs.find((log) => log.plugin === selected)!} />
      <Events api={api} plugin={selected} onChange={stats.reload} />
    </div>
  );
}

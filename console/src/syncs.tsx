/**
 * Each synced plugin's resources (last sync, rows, status), a sync or a backfill on demand with
 * the run's progress as it happens (the syncProgress subscription: resources finished of those
 * the run covers, objects so far), and a check against the provider (optionally fixing) with its
 * result per resource.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  ConsoleCheckGithubDocument,
  ConsoleCheckShopifyDocument,
  ConsoleCheckStripeDocument,
  type ConsoleCheckStripeMutation,
  ConsoleGithubSyncStatusDocument,
  ConsolePluginsDocument,
  ConsoleShopifySyncStatusDocument,
  ConsoleStripeSyncStatusDocument,
  ConsoleSyncGithubDocument,
  ConsoleSyncProgressDocument,
  ConsoleSyncShopifyDocument,
  ConsoleSyncStripeDocument,
  type ConsoleStripeSyncStatusQuery,
} from '../../client/generated/graphql.ts';
import type { RequestClient } from '../../client/request.ts';
import { subscribeTo } from '../../client/subscriptions.ts';
import { subscriptionsFor, type Session } from './api.ts';
import { useLoad } from './load.ts';

type Resource = ConsoleStripeSyncStatusQuery['stripeSyncStatus'][number];
type CheckReport = ConsoleCheckStripeMutation['checkStripe'][number];

/** What the page runs for each synced plugin. */
const SYNCED: Record<
  string,
  {
    status: (api: RequestClient) => Promise<Resource[]>;
    sync: (api: RequestClient, full: boolean) => Promise<{ id: string; resources: string[] }>;
    check: (api: RequestClient, fix: boolean) => Promise<CheckReport[]>;
  }
> = {
  stripe: {
    status: async (api) => (await api.request(ConsoleStripeSyncStatusDocument, {})).stripeSyncStatus,
    sync: async (api, full) => (await api.request(ConsoleSyncStripeDocument, { full })).syncStripe,
    check: async (api, fix) => (await api.request(ConsoleCheckStripeDocument, { fix })).checkStripe,
  },
  github: {
    status: async (api) => (await api.request(ConsoleGithubSyncStatusDocument, {})).githubSyncStatus,
    sync: async (api, full) => (await api.request(ConsoleSyncGithubDocument, { full })).syncGithub,
    check: async (api, fix) => (await api.request(ConsoleCheckGithubDocument, { fix })).checkGithub,
  },
  shopify: {
    status: async (api) => (await api.request(ConsoleShopifySyncStatusDocument, {})).shopifySyncStatus,
    sync: async (api, full) => (await api.request(ConsoleSyncShopifyDocument, { full })).syncShopify,
    check: async (api, fix) => (await api.request(ConsoleCheckShopifyDocument, { fix })).checkShopify,
  },
};

/** A resource's check: in step, or what differs (and what was fixed). */
function checkResult(checked: Map<string, CheckReport> | 'checking' | null, resource: string): string {
  const report = checked instanceof Map ? checked.get(resource) : undefined;
  if (!report) return '—';
  const differences = report.missing + report.stale + report.extra;
  if (differences === 0) return `in step (${report.api} objects)`;
  return `${report.missing} missing, ${report.stale} stale, ${report.extra} extra${report.fixed ? `; ${report.fixed} fixed` : ''}`;
}

interface Run {
  id: string;
  resources: string[];
  synced: Record<string, number>;
  done: Set<string>;
}

function SyncedPlugin({ api, session, plugin }: { api: RequestClient; session: Session; plugin: string }) {
  const { status, sync, check } = SYNCED[plugin]!;
  const [checked, setChecked] = useState<Map<string, CheckReport> | 'checking' | null>(null);
  const resources = useLoad(() => status(api), [api]);
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);

  // Progress of this plugin's runs; the run this page started is the one shown.
  useEffect(() => {
    const client = subscriptionsFor(session);
    const stop = subscribeTo(
      client,
      ConsoleSyncProgressDocument,
      { plugin },
      {
        next: ({ data }) => {
          const progress = data?.syncProgress;
          if (!progress) return;
          setRun((current) => {
            if (!current || current.id !== progress.runId) return current;
            const done = new Set(current.done);
            if (progress.done) done.add(progress.resource);
            return { ...current, synced: { ...current.synced, [progress.resource]: progress.synced }, done };
          });
        },
        error: (failure) => setError(failure instanceof Error ? failure.message : 'The progress feed closed'),
        complete: () => undefined,
      },
    );
    return () => {
      stop();
      void client.dispose();
    };
  }, [session, plugin]);

  const finished = run !== null && run.done.size >= run.resources.length;
  useEffect(() => {
    if (finished) resources.reload();
  }, [finished, resources.reload]);

  const start = async (full: boolean) => {
    setError(null);
    try {
      const started = await sync(api, full);
      setRun({ id: started.id, resources: started.resources, synced: {}, done: new Set() });
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  const runCheck = async (fix: boolean) => {
    setError(null);
    setChecked('checking');
    try {
      setChecked(new Map((await check(api, fix)).map((report) => [report.resource, report])));
      resources.reload();
    } catch (failure) {
      setChecked(null);
      setError((failure as Error).message);
    }
  };
  const percent = run ? Math.round((100 * run.done.size) / Math.max(1, run.resources.length)) : 0;
  return (
    <section class="card" data-sync={plugin}>
      <h2>{plugin}</h2>
      <div class="filters">
        <button type="button" class="sync-now" disabled={run !== null && !finished} onClick={() => start(false)}>
          Sync now
        </button>
        <button type="button" class="backfill" disabled={run !== null && !finished} onClick={() => start(true)}>
          Backfill
        </button>
        <button type="button" class="check" disabled={checked === 'checking'} onClick={() => runCheck(false)}>
          Check
        </button>
        <button type="button" class="check-fix" disabled={checked === 'checking'} onClick={() => runCheck(true)}>
          Check and fix
        </button>
        {checked === 'checking' && <span class="muted">checking against {plugin}…</span>}
      </div>
      {run && (
        <div class="progress">
          <progress max={100} value={percent} aria-label={`${plugin} sync progress`} data-percent={percent} />
          <span>
            {percent} % — {run.done.size} of {run.resources.length} resources,{' '}
            {Object.values(run.synced)
              .reduce((sum, n) => sum + n, 0)
              .toLocaleString()}{' '}
            objects
          </span>
        </div>
      )}
      {error && <p class="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>resource</th>
            <th>status</th>
            <th>rows synced</th>
            <th>last sync</th>
            <th>check</th>
            <th>last error</th>
          </tr>
        </thead>
        <tbody>
          {resources.data?.map((resource) => (
            <tr key={resource.resource} data-resource={resource.resource}>
              <td>{resource.resource}</td>
              <td>{resource.status}</td>
              <td>{Number(resource.objectsSynced).toLocaleString()}</td>
              <td>{resource.lastSyncAt ? new Date(resource.lastSyncAt).toLocaleString() : '—'}</td>
              <td class="check-result">{checkResult(checked, resource.resource)}</td>
              <td class="error">{resource.lastError}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function SyncsPage({ api, session }: { api: RequestClient; session: Session }) {
  const plugins = useLoad(() => api.request(ConsolePluginsDocument, {}), [api]);
  if (plugins.error) return <p class="error">{plugins.error}</p>;
  if (!plugins.data) return <p class="loading">Loading…</p>;
  const synced = plugins.data.plugins.filter((p) => p.enabled && p.name in SYNCED).map((p) => p.name);
  if (synced.length === 0) return <p class="muted">No synced plugin (Stripe, GitHub, Shopify) is enabled.</p>;
  return (
    <div class="cards">
      {synced.map((plugin) => (
        <SyncedPlugin key={plugin} api={api} session={session} plugin={plugin} />
      ))}
    </div>
  );
}

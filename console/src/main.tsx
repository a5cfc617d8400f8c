/**
 * The operator console: sign-in, then one page per area (plugins, webhooks), each reading and
 * acting through the gateway's GraphQL API as the signed-in admin.
 */
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { RequestClient } from '../../client/request.ts';
import { apiFor, currentSession, type Session, signIn, signOut } from './api.ts';
import { JobsPage } from './jobs.tsx';
import { NotificationsPage } from './notifications.tsx';
import { PluginsPage } from './plugins.tsx';
import { RealtimePage } from './realtime.tsx';
import { SyncsPage } from './syncs.tsx';
import { WebhooksPage } from './webhooks.tsx';
import './style.css';

export interface PageProps {
  api: RequestClient;
  session: Session;
}

const PAGES = {
  plugins: { title: 'Plugins', Page: PluginsPage },
  webhooks: { title: 'Webhooks', Page: WebhooksPage },
  syncs: { title: 'Syncs', Page: SyncsPage },
  jobs: { title: 'Jobs', Page: JobsPage },
  realtime: { title: 'Realtime', Page: RealtimePage },
  notifications: { title: 'Notifications', Page: NotificationsPage },
} satisfies Record<string, { title: string; Page: (props: PageProps) => preact.JSX.Element }>;
type PageName = keyof typeof PAGES;

const pageOf = (path: string): PageName => {
  const name = path.replace(/^\/console\/?/, '').split('/')[0];
  return name && name in PAGES ? (name as PageName) : 'plugins';
};

function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main class="sign-in">
      <h1>Plugboard</h1>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          try {
            onSignedIn(await signIn(secret));
          } catch (failure) {
            setError((failure as Error).message);
          } finally {
            setSecret('');
            setBusy(false);
          }
        }}
      >
        <label>
          Admin secret
          <input
            name="secret"
            type="password"
            autocomplete="current-password"
            value={secret}
            onInput={(event) => setSecret(event.currentTarget.value)}
            required
          />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && <p class="error">{error}</p>}
      </form>
    </main>
  );
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [page, setPage] = useState<PageName>(pageOf(location.pathname));
  const api = useMemo(() => (session ? apiFor(session) : null), [session]);
  useEffect(() => {
    currentSession().then(setSession, () => setSession(null));
    const onPop = () => setPage(pageOf(location.pathname));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null || api === null) return <SignIn onSignedIn={setSession} />;
  const { Page, title } = PAGES[page];
  return (
    <div class="layout">
      <nav>
        <strong>Plugboard</strong>
        {(Object.keys(PAGES) as PageName[]).map((name) => (
          <a
            key={name}
            href={`/console/${name}`}
            aria-current={name === page ? 'page' : undefined}
            onClick={(event) => {
              event.preventDefault();
              history.pushState(null, '', `/console/${name}`);
              setPage(name);
            }}
          >
            {PAGES[name].title}
          </a>
        ))}
        <button
          type="button"
          class="sign-out"
          onClick={async () => {
            await signOut(session);
            setSession(null);
          }}
        >
          Sign out
        </button>
      </nav>
      <main>
        <h1>{title}</h1>
        <Page api={api} session={session} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);

-- GitHub objects synced from webhooks (and, later, the REST API). Each table keeps the whole
-- object in `data`; typed columns are generated from it, so every write path is the same upsert
-- of the sync core. `updated_at` is GitHub's time of the state a row holds (the object's own
-- `updated_at` where it has one): an older state never overwrites a newer one. Ids are GitHub's
-- numeric ids; commits are keyed by sha, branches by "<repository id>/<name>", team members by
-- "<team id>/<user id>". Objects that do not name their repository carry it as `repository`
-- (owner/name), set by the plugin. No foreign keys: events arrive in any order.

-- ISO 8601 text with its offset, as GitHub writes times: unambiguous whatever the session's
-- settings, hence immutable (which generated columns need).
CREATE FUNCTION to_timestamptz(value text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN value::timestamptz;

CREATE TABLE repositories (
  id            bigint PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  full_name text GENERATED ALWAYS AS (data->>'full_name') STORED,
  owner text GENERATED ALWAYS AS (data#>>'{owner,login}') STORED,
  name text GENERATED ALWAYS AS (data->>'name') STORED,
  private boolean GENERATED ALWAYS AS ((data->>'private')::boolean) STORED,
  archived boolean GENERATED ALWAYS AS ((data->>'archived')::boolean) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX repositories_full_name ON repositories (lower(full_name));

CREATE TABLE branches (
  id            text PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  repository text GENERATED ALWAYS AS (data->>'repository') STORED,
  name text GENERATED ALWAYS AS (data->>'name') STORED,
  sha text GENERATED ALWAYS AS (data#>>'{commit,sha}') STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX branches_repository ON branches (repository, name);

CREATE TABLE commits (
  id            text PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  repository text GENERATED ALWAYS AS (data->>'repository') STORED,
  message text GENERATED ALWAYS AS (coalesce(data#>>'{commit,message}', data->>'message')) STORED,
  committed_at timestamptz GENERATED ALWAYS AS (github.to_timestamptz(coalesce(data#>>'{commit,committer,date}', data->>'timestamp'))) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX commits_repository ON commits (repository, committed_at DESC);

CREATE TABLE issues (
  id            bigint PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  repository text GENERATED ALWAYS AS (substring(data->>'repository_url' from '/repos/([^/]+/[^/]+)$')) STORED,
  number integer GENERATED ALWAYS AS ((data->>'number')::integer) STORED,
  title text GENERATED ALWAYS AS (data->>'title') STORED,
  state text GENERATED ALWAYS AS (data->>'state') STORED,
  author text GENERATED ALWAYS AS (data#>>'{user,login}') STORED,
  assignee text GENERATED ALWAYS AS (data#>>'{assignee,login}') STORED,
  created_at timestamptz GENERATED ALWAYS AS (github.to_timestamptz(data->>'created_at')) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX issues_repository ON issues (repository, updated_at DESC, id DESC);
CREATE INDEX issues_updated ON issues (updated_at DESC, id DESC);
CREATE INDEX issues_labels ON issues USING gin ((data->'labels') jsonb_path_ops);

CREATE TABLE pull_requests (
  id            bigint PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  repository text GENERATED ALWAYS AS (data#>>'{base,repo,full_name}') STORED,
  number integer GENERATED ALWAYS AS ((data->>'number')::integer) STORED,
  title text GENERATED ALWAYS AS (data->>'title') STORED,
  state text GENERATED ALWAYS AS (data->>'state') STORED,
  merged boolean GENERATED ALWAYS AS ((data->>'merged_at') IS NOT NULL) STORED,
  author text GENERATED ALWAYS AS (data#>>'{user,login}') STORED,
  created_at timestamptz GENERATED ALWAYS AS (github.to_timestamptz(data->>'created_at')) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pull_requests_repository ON pull_requests (repository, updated_at DESC, id DESC);

CREATE TABLE issue_comments (
  id            bigint PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  repository text GENERATED ALWAYS AS (substring(data->>'issue_url' from '/repos/([^/]+/[^/]+)/issues/')) STORED,
  issue_number integer GENERATED ALWAYS AS (substring(data->>'issue_url' from '/issues/([0-9]+)$')::integer) STORED,
  author text GENERATED ALWAYS AS (data#>>'{user,login}') STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX issue_comments_issue ON issue_comments (repository, issue_number, id);

CREATE TABLE pull_request_reviews (
  id            bigint PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  repository text GENERATED ALWAYS AS (substring(data->>'pull_request_url' from '/repos/([^/]+/[^/]+)/pulls/')) STORED,
  pull_number integer GENERATED ALWAYS AS (substring(data->>'pull_request_url' from '/pulls/([0-9]+)$')::integer) STORED,
  state text GENERATED ALWAYS AS (data->>'state') STORED,
  author text GENERATED ALWAYS AS (data#>>'{user,login}') STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pull_request_reviews_pull ON pull_request_reviews (repository, pull_number, id);

CREATE TABLE releases (
  id            bigint PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  repository text GENERATED ALWAYS AS (substring(data->>'url' from '/repos/([^/]+/[^/]+)/releases/')) STORED,
  tag_name text GENERATED ALWAYS AS (data->>'tag_name') STORED,
  name text GENERATED ALWAYS AS (data->>'name') STORED,
  draft boolean GENERATED ALWAYS AS ((data->>'draft')::boolean) STORED,
  prerelease boolean GENERATED ALWAYS AS ((data->>'prerelease')::boolean) STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX releases_repository ON releases (repository, id DESC);

CREATE TABLE workflow_runs (
  id            bigint PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  repository text GENERATED ALWAYS AS (data#>>'{repository,full_name}') STORED,
  name text GENERATED ALWAYS AS (data->>'name') STORED,
  status text GENERATED ALWAYS AS (data->>'status') STORED,
  conclusion text GENERATED ALWAYS AS (data->>'conclusion') STORED,
  head_branch text GENERATED ALWAYS AS (data->>'head_branch') STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflow_runs_repository ON workflow_runs (repository, updated_at DESC, id DESC);

CREATE TABLE deployments (
  id            bigint PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  repository text GENERATED ALWAYS AS (substring(data->>'repository_url' from '/repos/([^/]+/[^/]+)$')) STORED,
  environment text GENERATED ALWAYS AS (data->>'environment') STORED,
  ref text GENERATED ALWAYS AS (data->>'ref') STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deployments_repository ON deployments (repository, updated_at DESC, id DESC);

CREATE TABLE discussions (
  id            bigint PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  repository text GENERATED ALWAYS AS (data->>'repository') STORED,
  number integer GENERATED ALWAYS AS ((data->>'number')::integer) STORED,
  title text GENERATED ALWAYS AS (data->>'title') STORED,
  category text GENERATED ALWAYS AS (data#>>'{category,name}') STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX discussions_repository ON discussions (repository, updated_at DESC, id DESC);

CREATE TABLE teams (
  id            bigint PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  organization text GENERATED ALWAYS AS (data->>'organization') STORED,
  slug text GENERATED ALWAYS AS (data->>'slug') STORED,
  name text GENERATED ALWAYS AS (data->>'name') STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE team_members (
  id            text PRIMARY KEY,
  node_id       text GENERATED ALWAYS AS (data->>'node_id') STORED,
  team_id bigint GENERATED ALWAYS AS ((data->>'team_id')::bigint) STORED,
  login text GENERATED ALWAYS AS (data#>>'{user,login}') STORED,
  data          jsonb NOT NULL,
  is_deleted    boolean NOT NULL DEFAULT false,
  updated_at    timestamptz NOT NULL,
  last_event_id text,
  synced_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX team_members_team ON team_members (team_id);

-- The durable webhook log, keyed by X-GitHub-Delivery; `type` is "<X-GitHub-Event>.<action>".
CREATE TABLE events (
  id           text PRIMARY KEY,
  type         text NOT NULL,
  payload      jsonb NOT NULL,
  status       text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed')),
  received_at  timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,
  repository   text GENERATED ALWAYS AS (payload#>>'{repository,full_name}') STORED
);
CREATE INDEX events_received ON events (received_at DESC, id DESC);
CREATE INDEX events_unprocessed ON events (received_at, id) WHERE status = 'received';
CREATE INDEX events_failed ON events (received_at DESC) WHERE status = 'failed';
CREATE INDEX events_type ON events (type, received_at DESC);

-- The sync core's bookkeeping: one row per resource, one per run.
CREATE TABLE sync_state (
  resource          text PRIMARY KEY,
  status            text NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'running', 'completed', 'failed')),
  cursor            text,
  run_id            uuid,
  run_since         timestamptz,
  last_sync_at      timestamptz,
  last_event_at     timestamptz,
  objects_synced    bigint NOT NULL DEFAULT 0,
  last_error        text,
  updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sync_runs (
  id          uuid PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('backfill', 'incremental')),
  resources   text[] NOT NULL,
  since       timestamptz,
  status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
  counts      jsonb NOT NULL DEFAULT '{}',
  error       text,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);

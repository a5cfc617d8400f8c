-- The stored JSON (objects and webhook payloads, 5–20 KB each) compressed with lz4 instead of
-- pglz: pglz took about 40 % of Postgres's time for a delivery. Servers built without lz4
-- keep pglz.
DO $$
DECLARE
  tables text[] := ARRAY['repositories', 'branches', 'commits', 'issues', 'pull_requests', 'issue_comments',
    'pull_request_reviews', 'releases', 'workflow_runs', 'deployments', 'discussions', 'teams', 'team_members'];
  name text;
BEGIN
  FOREACH name IN ARRAY tables LOOP
    EXECUTE format('ALTER TABLE %I ALTER COLUMN data SET COMPRESSION lz4', name);
  END LOOP;
  ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available on this server; compression stays pglz';
END
$$;

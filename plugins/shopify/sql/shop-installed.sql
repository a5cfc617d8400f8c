-- An OAuth install: the offline session stored (a new token replaces the shop's old one) and the
-- shop recorded as installed now with the granted scopes (an earlier uninstall cleared: its syncs
-- resume). $1 session id, $2 shop, $3 access token, $4 scopes.
WITH session AS (
  INSERT INTO shopify.sessions AS s (id, shop, access_token, scope) VALUES ($1, $2, $3, $4)
  ON CONFLICT (id) DO UPDATE SET shop = excluded.shop, access_token = excluded.access_token,
    scope = excluded.scope, updated_at = now()
)
INSERT INTO shopify.shops AS s (domain, installed_at, uninstalled_at, scopes) VALUES ($2, now(), NULL, $4)
ON CONFLICT (domain) DO UPDATE SET installed_at = now(), uninstalled_at = NULL, scopes = excluded.scopes

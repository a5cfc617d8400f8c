-- A new authorization request ($1 state hash, $2 user, $3 PKCE verifier, $4 nonce, $5 scopes,
-- $6 groups, $7 seconds to live); requests a day past their expiry are swept on the way.
WITH swept AS (
  DELETE FROM idme.authorization_requests WHERE expires_at < now() - interval '1 day'
)
INSERT INTO idme.authorization_requests (state_hash, user_id, code_verifier, nonce, scopes, groups, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
RETURNING expires_at

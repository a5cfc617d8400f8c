-- A new authorization request ($1 state hash, $2 user, $3 PKCE verifier, $4 nonce, $5 scopes,
-- $6 groups, $7 seconds to live). Expired ones are pruned by retention (requests-prune).
INSERT INTO idme.authorization_requests (state_hash, user_id, code_verifier, nonce, scopes, groups, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
RETURNING expires_at

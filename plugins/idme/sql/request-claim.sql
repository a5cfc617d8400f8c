-- Takes an authorization request for one use: only if unused, unexpired and (when $2 is not
-- null) made by user $2. Two concurrent claims of one state: one wins.
UPDATE idme.authorization_requests
SET used_at = now()
WHERE state_hash = $1 AND used_at IS NULL AND expires_at > now() AND ($2::text IS NULL OR user_id = $2)
RETURNING user_id, code_verifier, nonce, scopes, groups

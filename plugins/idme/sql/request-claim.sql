-- Takes an authorization request for one use: only if unused and unexpired. Whoever presents
-- the state spends it; the caller refuses it unless it was issued to them, so a code that came
-- back with another user's state is never redeemed. Two concurrent claims of one state: one wins.
UPDATE idme.authorization_requests
SET used_at = now()
WHERE state_hash = $1 AND used_at IS NULL AND expires_at > now()
RETURNING user_id, code_verifier, nonce, scopes, groups

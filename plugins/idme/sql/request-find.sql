-- Why a claim failed: the request as it is, if it exists.
SELECT user_id, used_at IS NOT NULL AS used, expires_at <= now() AS expired
FROM idme.authorization_requests
WHERE state_hash = $1

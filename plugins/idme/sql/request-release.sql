-- Gives a claimed request back after ID.me could not be reached, so the user can try again.
UPDATE idme.authorization_requests SET used_at = NULL WHERE state_hash = $1

-- The local storage signing key: made by the first instance ($1), read by every other. On a
-- conflict the no-op update returns the stored key, also when another instance made it at the
-- same moment: DO NOTHING would return no row then, and a SELECT in this statement would not see
-- the other's row yet (its snapshot is older than that commit).
INSERT INTO files.signing_key (secret) VALUES ($1)
ON CONFLICT (id) DO UPDATE SET secret = files.signing_key.secret
RETURNING secret

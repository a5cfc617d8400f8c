-- Renames room $1 ($2, unless null) and makes it private or public ($3, unless null).
UPDATE realtime.rooms
SET name = coalesce($2, name), is_private = coalesce($3, is_private), updated_at = now()
WHERE id = $1
RETURNING id, name, is_private, created_by, created_at, updated_at

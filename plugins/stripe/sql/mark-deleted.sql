-- Rows of objects the API says are gone.
UPDATE stripe."{table}" SET is_deleted = true, synced_at = now() WHERE id = ANY($1::text[]) AND NOT is_deleted

INSERT INTO notifications.batches (kind, template, category, total, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id

-- What retention reads: notifications and requests by age, and the items a digest gathered (a
-- digest is pruned only once they are gone).
CREATE INDEX notifications_created ON notifications (created_at);
CREATE INDEX notifications_digest ON notifications (digest_id) WHERE digest_id IS NOT NULL;
CREATE INDEX requests_created ON requests (created_at);

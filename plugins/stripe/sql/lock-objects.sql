-- The objects an event batch touches, stored or not yet, locked until the batch commits: two
-- batches about one object apply one after the other, as if there were one at a time. $1 holds
-- "<table>/<id>" keys; the locks are taken in one order in every batch, so batches cannot deadlock.
SELECT count(pg_advisory_xact_lock(hashtext('plugboard.stripe.objects'), s.h))
FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($1::text[]) AS k ORDER BY h) AS s

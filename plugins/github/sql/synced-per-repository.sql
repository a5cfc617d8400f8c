-- Live rows per repository of the tables people look at first ($1: full names).
SELECT r.full_name,
       (SELECT count(*)::int FROM github.issues i WHERE i.repository = r.full_name AND NOT i.is_deleted) AS issues,
       (SELECT count(*)::int FROM github.pull_requests p WHERE p.repository = r.full_name AND NOT p.is_deleted) AS pull_requests,
       (SELECT max(i.updated_at) FROM github.issues i WHERE i.repository = r.full_name) AS newest_issue
FROM unnest($1::text[]) AS r(full_name)

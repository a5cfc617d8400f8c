-- Weeks of a plugin's webhook log taken out by webhook-partition-drop and not dropped yet (the
-- process stopped in between), named "<schema>_events_<week>_detached" in schema plugboard.
SELECT c.relname AS name
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'plugboard' AND c.relkind = 'r'
  AND c.relname LIKE replace('{schema}', '_', '\_') || '\_events\_%\_detached'

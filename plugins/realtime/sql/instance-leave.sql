-- Instance $1 shuts down cleanly (its connections were closed before).
DELETE FROM realtime.instances WHERE id = $1

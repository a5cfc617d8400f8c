-- A batch of analytics events.
INSERT INTO realtime.events (type, room_id, user_id, data, at)
SELECT type, room_id, user_id, data, at
FROM jsonb_to_recordset($1::jsonb) AS e (type text, room_id uuid, user_id text, data jsonb, at timestamptz)

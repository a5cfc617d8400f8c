-- The rooms each of the users ($1) is a member of, to publish their presence there only.
SELECT room_id, user_id FROM realtime.room_members WHERE user_id = ANY($1::text[])

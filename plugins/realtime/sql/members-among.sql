-- Which of the pairs (room $1[i], user $2[i]) are memberships, by their 1-based position.
SELECT k.n
FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS k (room_id, user_id, n)
WHERE EXISTS (SELECT 1 FROM realtime.room_members AS m WHERE m.room_id = k.room_id AND m.user_id = k.user_id)

-- Rooms, memberships and users by presence status.
SELECT
  (SELECT count(*) FROM realtime.rooms)::int AS rooms,
  (SELECT count(*) FROM realtime.room_members)::int AS memberships,
  (SELECT count(*) FROM realtime.presence WHERE status <> 'OFFLINE')::int AS online,
  (SELECT count(*) FROM realtime.connections)::int AS connections

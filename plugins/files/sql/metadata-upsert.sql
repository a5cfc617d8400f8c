-- What file $1 is (from its processing).
INSERT INTO files.metadata (file_id, format, width, height, camera_make, camera_model, taken_at, duration_seconds, video_codec, audio_codec, page_count)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (file_id) DO UPDATE SET
  format = excluded.format, width = excluded.width, height = excluded.height, camera_make = excluded.camera_make,
  camera_model = excluded.camera_model, taken_at = excluded.taken_at, duration_seconds = excluded.duration_seconds,
  video_codec = excluded.video_codec, audio_codec = excluded.audio_codec, page_count = excluded.page_count

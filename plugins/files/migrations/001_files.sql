-- Uploaded files and what processing made of them. The bytes live in the storage (S3 or the local
-- disk) under `key`; derivatives under `derived/<file id>/…`; infected files are moved under
-- `quarantine/<file id>` and never get a URL.

-- One row per createUpload. `declared_type` is what the client announced, `detected_type` what
-- the bytes are (magic numbers); only the latter decides.
CREATE TABLE files (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id       text        NOT NULL,
  storage        text        NOT NULL CHECK (storage IN ('s3', 'local')),
  bucket         text,
  key            text        NOT NULL UNIQUE,
  name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  declared_type  text        NOT NULL,
  detected_type  text,
  size           bigint      NOT NULL CHECK (size > 0),
  sha256         text,
  status         text        NOT NULL DEFAULT 'uploading'
                 CHECK (status IN ('uploading', 'processing', 'pending_scan', 'ready', 'failed', 'infected')),
  error          text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  uploaded_at    timestamptz,
  processed_at   timestamptz
);
CREATE INDEX files_owner ON files (owner_id, created_at DESC, id DESC);
CREATE INDEX files_created ON files (created_at DESC, id DESC);
CREATE INDEX files_status ON files (status, updated_at);

-- Derivatives: thumbnails (fit inside each configured box), the optimized copies (WebP, AVIF), a
-- video's poster frame and a PDF's first-page preview. None keeps EXIF, GPS or XMP.
CREATE TABLE thumbnails (
  file_id   uuid    NOT NULL REFERENCES files ON DELETE CASCADE,
  kind      text    NOT NULL CHECK (kind IN ('thumbnail', 'optimized', 'poster', 'preview')),
  format    text    NOT NULL,
  width     integer NOT NULL,
  height    integer NOT NULL,
  size      bigint  NOT NULL,
  key       text    NOT NULL UNIQUE,
  PRIMARY KEY (file_id, kind, format, width, height)
);

-- Every scan of a file by the virus scanner (the newest decides).
CREATE TABLE scans (
  id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  file_id           uuid        NOT NULL REFERENCES files ON DELETE CASCADE,
  engine            text        NOT NULL,
  signature_version text,
  result            text        NOT NULL CHECK (result IN ('clean', 'infected')),
  signature_name    text,
  scanned_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scans_file ON scans (file_id, scanned_at DESC);

-- What the file is: dimensions, camera and time taken (never GPS), duration and codecs, pages.
CREATE TABLE metadata (
  file_id          uuid PRIMARY KEY REFERENCES files ON DELETE CASCADE,
  format           text,
  width            integer,
  height           integer,
  camera_make      text,
  camera_model     text,
  -- The camera's wall clock (ISO 8601), with its offset only when the EXIF records one.
  taken_at         text,
  duration_seconds double precision,
  video_codec      text,
  audio_codec      text,
  page_count       integer
);

-- A file as callers read it: with its derivatives, metadata and newest scan.
CREATE VIEW file_views AS
SELECT f.*,
  coalesce((SELECT json_agg(t ORDER BY t.kind, t.width, t.format) FROM thumbnails AS t WHERE t.file_id = f.id), '[]') AS derivatives,
  (SELECT to_json(m) FROM metadata AS m WHERE m.file_id = f.id) AS meta,
  (SELECT to_json(s) FROM scans AS s WHERE s.file_id = f.id ORDER BY s.scanned_at DESC, s.id DESC LIMIT 1) AS scan
FROM files AS f;

-- The key that signs local storage URLs when FILES_LOCAL_SECRET is unset: made once, shared by
-- every instance on this database.
CREATE TABLE signing_key (
  id     boolean PRIMARY KEY DEFAULT true CHECK (id),
  secret text    NOT NULL
);

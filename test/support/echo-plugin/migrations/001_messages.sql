CREATE TABLE messages (
  id         bigserial PRIMARY KEY,
  body       text        NOT NULL,
  author     text,
  created_at timestamptz NOT NULL DEFAULT now()
);

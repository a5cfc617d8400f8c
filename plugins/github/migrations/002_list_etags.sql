-- The ETag of the first page of each incremental list, per resource and repository. The next
-- incremental sync asks for that page with If-None-Match: a list with no change since answers
-- 304, which costs no rate limit. Written once the resource's sync has completed.
CREATE TABLE list_etags (
  resource   text NOT NULL,
  repository text NOT NULL,
  etag       text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (resource, repository)
);

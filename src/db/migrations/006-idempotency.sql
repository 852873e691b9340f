-- Idempotency-Key: the first answer to a mutating call, replayed to retries with the same key.
CREATE TABLE idempotency_keys (
  org_id bigint NOT NULL REFERENCES organisations (id),
  key text NOT NULL,
  method text NOT NULL,
  path text NOT NULL,
  -- sha256 of method, path and the canonical JSON body: the same key with another request is refused.
  request_hash text NOT NULL,
  -- NULL while the first call is still running.
  status integer,
  response_body text,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (org_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

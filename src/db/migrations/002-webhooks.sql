-- Webhook outbox. Terminology: a "delivery" is one event (a session or deployment state change)
-- bound for one URL; an "attempt" is one POST of it. A delivery is written in the transaction of
-- the change that causes it, then claimed by any server process with FOR UPDATE SKIP LOCKED.

CREATE TABLE webhook_deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Public id, sent as Rallypoint-Delivery-Id on every attempt so receivers can de-duplicate.
  delivery_id text NOT NULL UNIQUE,
  org_id bigint NOT NULL REFERENCES organisations (id),
  -- Ordering group ('session:<id>' or 'deployment:<request_id>'): a delivery is not attempted
  -- while an older pending delivery of the same subject exists, so transitions arrive in order.
  subject text NOT NULL,
  session_id text,
  request_id text,
  event text NOT NULL,
  url text NOT NULL,
  -- The exact bytes signed and sent; a snapshot of the state at the change, not at the attempt.
  body text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  -- Incremented by every claim; also the fencing token: a worker whose lease expired and was
  -- re-claimed cannot record its outcome over the newer attempt's.
  attempts integer NOT NULL DEFAULT 0,
  -- When the next attempt is due; while an attempt is in flight, when its lease ends.
  next_attempt_at timestamptz NOT NULL,
  -- No retry is scheduled after this; the delivery turns dead instead. Replay moves it.
  retry_until timestamptz NOT NULL,
  last_status integer,
  last_error text,
  last_attempt_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_subject_pending ON webhook_deliveries (subject, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_org_newest ON webhook_deliveries (org_id, id DESC);
CREATE INDEX webhook_deliveries_session ON webhook_deliveries (org_id, session_id, id DESC) WHERE session_id IS NOT NULL;

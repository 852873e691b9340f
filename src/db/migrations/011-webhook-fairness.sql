-- Fair webhook delivery (docs/reliability.md#webhooks-one-receiver-cannot-delay-another). A
-- delivery's "target" is its URL's origin (scheme://host[:port]); concurrency is capped per
-- target and per organisation, and a target that stops answering waits as a whole.

-- The origin, as src/jobs/webhooks/targets.ts computes it (URL.origin). Rows written before
-- this migration get an approximation from the URL text (userinfo dropped, lower-cased).
ALTER TABLE webhook_deliveries ADD COLUMN target text;
UPDATE webhook_deliveries
   SET target = lower(substring(url from '^([A-Za-z][A-Za-z0-9+.-]*://)(?:[^@/?#]*@)?[^/?#]*'))
             || lower(substring(url from '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#]*)'));
UPDATE webhook_deliveries SET target = url WHERE target IS NULL;
ALTER TABLE webhook_deliveries ALTER COLUMN target SET NOT NULL;
-- The claim skips from target to target through this index and takes each one's oldest due.
CREATE INDEX webhook_deliveries_target_due ON webhook_deliveries (target, next_attempt_at, id) WHERE state = 'pending';

-- While an attempt is in flight: when its lease ends and which worker holds it (NULL otherwise).
-- An in-flight attempt is a pending row with leased_until in the future; the claim counts them
-- per target and per organisation. A lease that ran out (its process died) counts no more.
ALTER TABLE webhook_deliveries ADD COLUMN leased_until timestamptz;
ALTER TABLE webhook_deliveries ADD COLUMN leased_by text;
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (target, org_id) WHERE leased_until IS NOT NULL;

-- One row per origin that has failed to answer at least once. Attempts that got no answer at
-- all (timeout, refused or reset connection, DNS) count as target failures; an HTTP answer of
-- any status is the receiver's verdict on that one delivery and leaves the count alone; a 2xx
-- resets it. After enough failures in a row the target is backed off: none of its deliveries is
-- attempted before blocked_until, and once that passes, one attempt at a time probes it.
CREATE TABLE webhook_targets (
  target text PRIMARY KEY,
  consecutive_failures integer NOT NULL DEFAULT 0,
  -- How many back-offs in a row (the exponent of the wait); 0 after a success.
  backoffs integer NOT NULL DEFAULT 0,
  blocked_until timestamptz,
  last_error text,
  last_failure_at timestamptz,
  last_success_at timestamptz
);

-- Event log for the live event stream (GET /v1/events). Terminology: an "event" is one session or
-- deployment change, written in the transaction of the change; its "position" is its public id
-- on the stream. Rows are kept for a bounded window so a reconnecting client (Last-Event-ID)
-- can replay what it missed; older rows are pruned as new ones are written.

CREATE SEQUENCE events_position;

CREATE TABLE events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Assigned at commit, in commit order (see events_publish); NULL only while uncommitted, so
  -- every row another transaction can see has one.
  position bigint UNIQUE,
  org_id bigint NOT NULL REFERENCES organisations (id),
  -- Dotted type as sent on the stream: 'session.ready', 'deployment.usage_changed'...
  type text NOT NULL,
  session_id text,
  request_id text,
  -- A small snapshot of the subject at the change (SessionContext or deployment seats).
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX events_org_replay ON events (org_id, position);
CREATE INDEX events_session_replay ON events (org_id, session_id, position) WHERE session_id IS NOT NULL;
CREATE INDEX events_created ON events (created_at, id);

-- Runs at COMMIT (deferred constraint trigger), after the change's row locks are all taken, so
-- waiting on the advisory lock cannot deadlock. Holding it until the commit ends makes
-- positions follow commit order: a client that saw position N has seen every event below N,
-- which is what makes "replay after Last-Event-ID" lose nothing. NOTIFY already serialises
-- the commits of notifying transactions, so this adds little contention.
-- The payload reaches LISTENers only if the transaction commits, in commit order.
CREATE FUNCTION events_publish() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  pos bigint;
  payload text;
BEGIN
  PERFORM pg_advisory_xact_lock(5005005005);
  pos := nextval('events_position');
  UPDATE events SET position = pos WHERE id = NEW.id;
  payload := json_build_object('org_id', NEW.org_id, 'event', json_strip_nulls(json_build_object(
    'id', pos, 'type', NEW.type, 'time', to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'session_id', NEW.session_id, 'request_id', NEW.request_id, 'data', NEW.data)))::text;
  -- NOTIFY payloads must stay under 8000 bytes; bigger events are announced by position only.
  IF octet_length(payload) > 7500 THEN
    payload := json_build_object('org_id', NEW.org_id, 'id', pos)::text;
  END IF;
  PERFORM pg_notify('rallypoint_events', payload);
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER events_publish AFTER INSERT ON events
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION events_publish();

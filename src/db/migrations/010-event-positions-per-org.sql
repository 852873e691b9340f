-- Event positions (the public ids on GET /v1/events) are now numbered per organisation. One
-- numbering for everyone let any organisation read the whole service's volume from its own ids.
-- The sequencer (src/events/event-sequencer.ts) still numbers committed rows only, one sequencer
-- at a time, so within an organisation a client that has seen position N has seen every event
-- of its organisation below N.

-- The highest position each organisation was given: pruning may empty its log, and ids must
-- never go back (a client holding one would skip new events). Replaces the global sequence.
CREATE TABLE event_positions (
  org_id bigint PRIMARY KEY REFERENCES organisations (id),
  last_position bigint NOT NULL CHECK (last_position >= 0)
);

ALTER TABLE events DROP CONSTRAINT events_position_key;
DROP INDEX events_org_replay;

-- Existing rows keep their order within their organisation and are numbered from 1. Ids clients
-- hold from before are meaningless now; one above the organisation's last position is answered
-- with a resync signal (docs/wire-contract.md, "Event stream").
UPDATE events e SET position = r.n
FROM (SELECT id, row_number() OVER (PARTITION BY org_id ORDER BY position) AS n FROM events WHERE position IS NOT NULL) r
WHERE e.id = r.id;

ALTER TABLE events ADD CONSTRAINT events_org_position UNIQUE (org_id, position);

INSERT INTO event_positions (org_id, last_position)
SELECT org_id, max(position) FROM events WHERE position IS NOT NULL GROUP BY org_id;

DROP SEQUENCE events_position;

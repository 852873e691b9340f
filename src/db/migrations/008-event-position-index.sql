-- The sequencer starts numbering from max(position) on every run (EVENT_SEQUENCE_MS). Only the
-- (org_id, position) index existed, so that max read the whole log: 4 ms a run with a few
-- thousand events, growing with the log (pg_stat_statements under the create bench, issue #6).
CREATE INDEX events_by_position ON events (position);

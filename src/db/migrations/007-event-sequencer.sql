-- Event positions are now assigned after commit by a sequencer (src/events/event-sequencer.ts)
-- instead of by a trigger at each writer's commit. The trigger held a global advisory lock and
-- NOTIFY's queue lock through every writer's commit flush, so writes could not share a WAL flush:
-- 1,275 bare seat transactions/s fell to 521/s with a create's four event rows (npm run bench).
-- The sequencer numbers only committed rows, in batches, one sequencer at a time, so a client
-- that has seen position N has still seen every event below N.
DROP TRIGGER events_publish ON events;
DROP FUNCTION events_publish();
CREATE INDEX events_unsequenced ON events (id) WHERE position IS NULL;

-- Dead jobs are kept for the operator for JOB_DEAD_RETENTION_HOURS after they died, then the
-- job worker deletes them a batch at a time (docs/reliability.md, "Background jobs"). A
-- periodic job that keeps failing leaves one dead row per slot, so this index lets that delete
-- read only the dead rows, oldest first, however many waiting ones there are.
CREATE INDEX jobs_dead ON jobs (updated_at) WHERE state = 'dead';

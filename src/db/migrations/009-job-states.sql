-- Background jobs with their states in columns (docs/reliability.md, "Background jobs").
-- Until now a claimed job was hidden by moving run_at forward and a failed one was retried
-- forever; now:
--   pending  waiting for its first attempt at run_at
--   running  held by the worker named in locked_by (hostname:pid:random) since locked_at; the
--            worker renews locked_at while the handler runs. A lock older than the lease means
--            that process died or stalled: another worker counts it as a failed attempt.
--   failed   its last attempt failed (last_error); tried again at run_at, after the backoff
--   dead     failed max_attempts times; never tried again, kept for the operator to read
--            (`rallypoint jobs list --state dead`) and put back (`rallypoint jobs retry ID`)
-- A job that succeeds is deleted: its effect is in the rows it changed, and the table stays
-- the size of the work still to do.

ALTER TABLE jobs
  ADD COLUMN state text NOT NULL DEFAULT 'pending',
  ADD COLUMN locked_by text,
  ADD COLUMN locked_at timestamptz,
  -- 25 attempts, with the jobs' backoff (1 s doubling up to 5 min between attempts, equal
  -- jitter), keep a job trying for 42 to 84 minutes: long enough to outlast a database
  -- failover, a container engine restart or an image registry outage, short enough that a job
  -- that can never succeed is dead, and visible as such, within the hour and a half.
  ADD COLUMN max_attempts integer NOT NULL DEFAULT 25,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Rows of the old scheme: one whose last attempt failed carries that error; every other one
-- waits (a row leased at the time of the upgrade becomes due when its lease ends, as before).
UPDATE jobs SET state = 'failed' WHERE last_error IS NOT NULL;

ALTER TABLE jobs
  ADD CONSTRAINT jobs_state CHECK (state IN ('pending', 'running', 'failed', 'dead')),
  ADD CONSTRAINT jobs_running_is_locked CHECK ((state = 'running') = (locked_by IS NOT NULL AND locked_at IS NOT NULL)),
  ADD CONSTRAINT jobs_attempts CHECK (attempts >= 0 AND max_attempts >= 1);

-- The dedupe key now holds among waiting jobs only: a dead job must not block new work of its
-- key, and a job added while one of its key runs waits beside it (the claim below leaves it
-- until the running one is done, so two jobs of one key never run at once).
ALTER TABLE jobs DROP CONSTRAINT jobs_dedupe_key_key;
CREATE UNIQUE INDEX jobs_dedupe_waiting ON jobs (dedupe_key) WHERE state IN ('pending', 'failed');
CREATE INDEX jobs_dedupe_running ON jobs (dedupe_key) WHERE state = 'running';

-- The claim reads waiting jobs by run_at; the lease check reads running jobs by locked_at.
-- Dead jobs are in neither.
DROP INDEX jobs_due;
CREATE INDEX jobs_waiting ON jobs (run_at, id) WHERE state IN ('pending', 'failed');
CREATE INDEX jobs_running ON jobs (locked_at) WHERE state = 'running';

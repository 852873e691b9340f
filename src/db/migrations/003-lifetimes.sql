-- Indexes for the lifetime sweep (src/jobs/lifetimes.ts), which runs every few seconds in every
-- server process and must not scan all deployments or sessions.

-- Registered servers that asked for heartbeats, while live.
CREATE INDEX deployments_heartbeat_due ON deployments (heartbeat_at)
  WHERE heartbeat_timeout_seconds IS NOT NULL AND status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING');
-- Live deployments with no seat taken: the only candidates for empty_ttl.
CREATE INDEX deployments_empty_live ON deployments (version_id)
  WHERE sockets_usage = 0 AND status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING');
-- Ended sessions, purged session_max_duration minutes after they ended.
CREATE INDEX sessions_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL;

-- Organisations, API keys, applications, versions, deployments, sessions, durable jobs.
-- Terminology: a "deployment" is one game server; a "session" is a group of players seated on one.

CREATE TABLE organisations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  webhook_secret text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Public handle shown in listings and used to revoke; never enough to authenticate.
  key_id text NOT NULL UNIQUE,
  org_id bigint NOT NULL REFERENCES organisations (id),
  -- sha256 of the whole key, hex. Keys carry 256 random bits, so a fast hash is sufficient.
  key_hash text NOT NULL UNIQUE,
  name text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

CREATE TABLE apps (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id bigint NOT NULL REFERENCES organisations (id),
  name text NOT NULL,
  is_active boolean NOT NULL,
  is_telemetry_agent_active boolean NOT NULL DEFAULT false,
  image text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (org_id, name)
);

CREATE TABLE versions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id bigint NOT NULL REFERENCES organisations (id),
  app_id bigint NOT NULL REFERENCES apps (id),
  name text NOT NULL,
  is_active boolean NOT NULL,
  -- The AppVersionPayload fields that only providers read (docker, ports, envs, command...).
  spec jsonb NOT NULL,
  session_kind text NOT NULL CHECK (session_kind IN ('Default', 'Seat', 'Match')),
  sockets integer CHECK (sockets >= 1),
  autodeploy boolean NOT NULL DEFAULT false,
  empty_ttl_minutes integer CHECK (empty_ttl_minutes >= 1),
  session_max_duration_minutes integer NOT NULL DEFAULT 60 CHECK (session_max_duration_minutes >= 60),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (app_id, name)
);
CREATE INDEX versions_newest_active ON versions (app_id, created_at DESC, id DESC) WHERE is_active;

CREATE TABLE deployments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id text NOT NULL UNIQUE,
  org_id bigint NOT NULL REFERENCES organisations (id),
  app_id bigint NOT NULL REFERENCES apps (id),
  version_id bigint NOT NULL REFERENCES versions (id),
  provider text NOT NULL,
  status text NOT NULL,
  last_status text,
  is_joinable boolean NOT NULL DEFAULT true,
  public_ip text NOT NULL,
  fqdn text NOT NULL,
  ports jsonb NOT NULL DEFAULT '{}',
  city text NOT NULL DEFAULT '',
  country text NOT NULL DEFAULT '',
  continent text NOT NULL DEFAULT '',
  administrative_division text NOT NULL DEFAULT '',
  region text NOT NULL DEFAULT '',
  timezone text NOT NULL DEFAULT '',
  latitude double precision,
  longitude double precision,
  tags text[] NOT NULL DEFAULT '{}',
  sockets integer NOT NULL CHECK (sockets >= 0),
  -- The seats live sessions hold. The CHECK is the last line of defence against overbooking:
  -- every reservation is one conditional UPDATE, and this makes any bug fail loudly instead.
  sockets_usage integer NOT NULL DEFAULT 0,
  CONSTRAINT deployments_seats_within_capacity CHECK (sockets_usage >= 0 AND sockets_usage <= sockets),
  request_user_count integer NOT NULL DEFAULT 0,
  webhook_url text,
  error_detail text,
  command text,
  arguments text,
  env jsonb NOT NULL DEFAULT '[]',
  provider_data jsonb NOT NULL DEFAULT '{}',
  heartbeat_timeout_seconds integer,
  heartbeat_at timestamptz,
  created_at timestamptz NOT NULL,
  ready_at timestamptz,
  ended_at timestamptz,
  -- Last moment a session left or the deployment became ready; empty_ttl counts from here.
  emptied_at timestamptz
);
-- Placement reads only live, joinable deployments of one version.
CREATE INDEX deployments_placement ON deployments (version_id, sockets_usage DESC)
  WHERE is_joinable AND status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING');
CREATE INDEX deployments_org_created ON deployments (org_id, created_at DESC, id DESC);

CREATE TABLE sessions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id text NOT NULL UNIQUE,
  org_id bigint NOT NULL REFERENCES organisations (id),
  app_id bigint NOT NULL REFERENCES apps (id),
  version_id bigint NOT NULL REFERENCES versions (id),
  kind text NOT NULL CHECK (kind IN ('Default', 'Seat', 'Match')),
  status text NOT NULL,
  deployment_id bigint REFERENCES deployments (id),
  -- Seats this session holds on its deployment; deployments.sockets_usage is their sum.
  seats integer NOT NULL DEFAULT 0 CHECK (seats >= 0),
  users jsonb NOT NULL DEFAULT '[]',
  user_count integer NOT NULL DEFAULT 0,
  selectors jsonb NOT NULL DEFAULT '[]',
  -- What placement needs to run again later (location, filters...), as the client sent it.
  placement jsonb NOT NULL DEFAULT '{}',
  custom_id text,
  webhook_url text,
  error text,
  created_at timestamptz NOT NULL,
  ended_at timestamptz,
  deleted_at timestamptz
);
CREATE INDEX sessions_org_newest ON sessions (org_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX sessions_deployment ON sessions (deployment_id) WHERE deployment_id IS NOT NULL;

-- Durable background work: one row per thing that must happen, claimed with SKIP LOCKED.
CREATE TABLE jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  -- At most one pending job per key (e.g. one empty-TTL check per deployment).
  dedupe_key text UNIQUE,
  payload jsonb NOT NULL DEFAULT '{}',
  run_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due ON jobs (run_at);

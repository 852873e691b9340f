-- Container hosts: machines with a container engine that providers with runsOnHosts start game
-- servers on. Terminology: a "host" is one engine endpoint with a place and a capacity; an
-- "allocation" is the cpu/memory one deployment holds on it; a "host port" is one port of the
-- host's range bound to one deployment. Scheduling (src/db/queries/host-scheduling.ts) locks a
-- host row, takes capacity and ports, and inserts the deployment in one transaction.

CREATE TABLE hosts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  -- How to reach the engine: {"kind":"socket","path"}, {"kind":"tcp","host","port","tls"?},
  -- {"kind":"ssh","host","port","username",...}. May hold key material: never sent back whole.
  endpoint jsonb NOT NULL CHECK (endpoint ->> 'kind' IN ('socket', 'tcp', 'ssh')),
  -- The address players reach published ports on.
  public_ip text NOT NULL,
  city text NOT NULL DEFAULT '',
  country text NOT NULL DEFAULT '',
  continent text NOT NULL DEFAULT '',
  administrative_division text NOT NULL DEFAULT '',
  region text NOT NULL DEFAULT '',
  timezone text NOT NULL DEFAULT '',
  latitude double precision,
  longitude double precision,
  -- 1024 units are one vCPU, as a version's req_cpu counts them.
  cpu_units integer NOT NULL CHECK (cpu_units > 0),
  memory_mb integer NOT NULL CHECK (memory_mb > 0),
  port_min integer NOT NULL,
  port_max integer NOT NULL,
  CONSTRAINT hosts_port_range CHECK (port_min >= 1 AND port_min <= port_max AND port_max <= 65535),
  tags text[] NOT NULL DEFAULT '{}',
  -- active: takes new deployments; draining: keeps what runs, takes nothing new; down: unreachable
  -- or taken out, its deployments were ended.
  state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'draining', 'down')),
  state_detail text,
  -- Set while health checks fail; a host unreachable long enough is marked down.
  unreachable_since timestamptz,
  -- Sums of host_allocations and count of host_ports, kept in the statements that change them so
  -- the scheduler reads a host's room from its own row. The CHECK makes a bookkeeping bug fail
  -- loudly instead of over-committing the machine.
  used_cpu_units integer NOT NULL DEFAULT 0,
  used_memory_mb integer NOT NULL DEFAULT 0,
  used_ports integer NOT NULL DEFAULT 0,
  CONSTRAINT hosts_within_capacity CHECK (
    used_cpu_units >= 0 AND used_cpu_units <= cpu_units
    AND used_memory_mb >= 0 AND used_memory_mb <= memory_mb
    AND used_ports >= 0 AND used_ports <= port_max - port_min + 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Null for deployments of providers that do not run on hosts. Kept after the deployment ends, so
-- the stop job knows where its container was; a removed host leaves null behind.
ALTER TABLE deployments ADD COLUMN host_id bigint REFERENCES hosts (id) ON DELETE SET NULL;
CREATE INDEX deployments_host ON deployments (host_id) WHERE host_id IS NOT NULL;

-- What one deployment holds on its host, until its container is gone. Deleting the row is what
-- gives the capacity back, so a release that runs twice releases once.
CREATE TABLE host_allocations (
  deployment_id bigint PRIMARY KEY REFERENCES deployments (id),
  host_id bigint NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  cpu_units integer NOT NULL CHECK (cpu_units >= 0),
  memory_mb integer NOT NULL CHECK (memory_mb >= 0)
);
CREATE INDEX host_allocations_host ON host_allocations (host_id);

-- One row per published port: the primary key is what makes two deployments on one host never
-- get the same port, whatever the scheduler's bookkeeping says.
CREATE TABLE host_ports (
  host_id bigint NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  port integer NOT NULL,
  deployment_id bigint NOT NULL REFERENCES deployments (id),
  PRIMARY KEY (host_id, port)
);
CREATE INDEX host_ports_deployment ON host_ports (deployment_id);

/** (ext) The fleet's container hosts, managed by the operator organisation. */
import { Type, type Static } from '@sinclair/typebox';
import { RegisterServerLocation } from './deployments.js';

/** Names go into container labels and CLI arguments: plain words only. */
const hostName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const port = Type.Integer({ minimum: 1, maximum: 65535 });
const address = Type.String({ minLength: 1, maxLength: 253 });
const pem = Type.String({ minLength: 1, maxLength: 32_768 });

export const SocketEndpoint = Type.Object(
  {
    kind: Type.Literal('socket'),
    /** Absolute path of the engine's unix socket on the machine Rallypoint runs on. */
    path: Type.String({ minLength: 2, maxLength: 1024, pattern: '^/' }),
  },
  { additionalProperties: false },
);

export const TcpEndpoint = Type.Object(
  {
    kind: Type.Literal('tcp'),
    host: address,
    port,
    /** PEM texts; with `cert` and `key` the engine is reached over mutual TLS. */
    tls: Type.Optional(
      Type.Object(
        { ca: Type.Optional(pem), cert: Type.Optional(pem), key: Type.Optional(pem) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const SshEndpoint = Type.Object(
  {
    kind: Type.Literal('ssh'),
    host: address,
    port,
    username: Type.String({ minLength: 1, maxLength: 64 }),
    private_key: Type.Optional(pem),
  },
  { additionalProperties: false },
);

export const HostEndpointInput = Type.Union([SocketEndpoint, TcpEndpoint, SshEndpoint]);

/** The same place fields a registered server gives: one schema, so the two cannot drift apart. */
export const HostLocation = RegisterServerLocation;

export const HostCreate = Type.Object(
  {
    name: hostName,
    endpoint: HostEndpointInput,
    /** The IP address players reach the published ports on. */
    public_ip: address,
    location: HostLocation,
    /** 1024 units are one vCPU, as a version's req_cpu counts them. */
    cpu_units: Type.Integer({ minimum: 1, maximum: 1_048_576 }),
    memory_mb: Type.Integer({ minimum: 1, maximum: 67_108_864 }),
    /** The host ports game servers are published on, both ends included. */
    port_min: port,
    port_max: port,
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type HostCreate = Static<typeof HostCreate>;

/** An endpoint as answered: where it is, never its key material. */
export const HostEndpointView = Type.Object({
  kind: Type.String(),
  path: Type.Optional(Type.String()),
  host: Type.Optional(Type.String()),
  port: Type.Optional(Type.Integer()),
  username: Type.Optional(Type.String()),
  /** Whether TLS material (tcp) or a private key (ssh) is stored. */
  has_credentials: Type.Optional(Type.Boolean()),
});

export const HostDeployment = Type.Object({
  request_id: Type.String(),
  status: Type.String(),
  app_name: Type.String(),
  version_name: Type.String(),
  cpu_units: Type.Integer(),
  memory_mb: Type.Integer(),
  ports: Type.Array(Type.Integer()),
});

export const Host = Type.Object({
  name: Type.String(),
  endpoint: HostEndpointView,
  public_ip: Type.String(),
  location: HostLocation,
  state: Type.Union([Type.Literal('active'), Type.Literal('draining'), Type.Literal('down')]),
  state_detail: Type.Optional(Type.String()),
  unreachable_since: Type.Optional(Type.String()),
  cpu_units: Type.Integer(),
  memory_mb: Type.Integer(),
  port_min: Type.Integer(),
  port_max: Type.Integer(),
  used_cpu_units: Type.Integer(),
  used_memory_mb: Type.Integer(),
  used_ports: Type.Integer(),
  tags: Type.Array(Type.String()),
  create_time: Type.String(),
  update_time: Type.String(),
  /** Deployments holding capacity here, of every organisation (live, or stopping). */
  deployment_count: Type.Integer(),
  /** Those of them that belong to the caller's organisation (the one host show lists). */
  deployments: Type.Optional(Type.Array(HostDeployment)),
});
export type Host = Static<typeof Host>;

export const HostList = Type.Object({ hosts: Type.Array(Host) });
export const HostNameParams = Type.Object({ name: Type.String({ maxLength: 64 }) });
export const HostRemoved = Type.Object({ message: Type.String(), name: Type.String() });

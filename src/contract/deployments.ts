import { Type, type Static } from '@sinclair/typebox';
import {
  DeploymentLocation,
  EnvKey,
  FilterType,
  GeoIpListModel,
  IpList,
  LocationModel,
  Pagination,
  PortMapping,
} from './common.js';

const placeName = Type.String({ maxLength: 256 });

export const DeploymentFilter = Type.Object({
  field: Type.String({ maxLength: 64 }),
  values: Type.Array(Type.String({ maxLength: 256 }), { maxItems: 100 }),
  filter_type: FilterType,
});

export const DeployModel = Type.Object({
  app_name: Type.String({ minLength: 1, maxLength: 64 }),
  version_name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  is_public_app: Type.Optional(Type.Boolean()),
  ip_list: Type.Optional(IpList),
  geo_ip_list: Type.Optional(Type.Array(GeoIpListModel, { maxItems: 1000 })),
  telemetry_profile_uuid_list: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })),
  env_vars: Type.Optional(
    Type.Array(
      Type.Object({ key: EnvKey, value: Type.String({ maxLength: 8192 }), is_hidden: Type.Optional(Type.Boolean()) }),
      { maxItems: 256 },
    ),
  ),
  skip_telemetry: Type.Optional(Type.Boolean()),
  location: Type.Optional(LocationModel),
  city: Type.Optional(placeName),
  country: Type.Optional(placeName),
  continent: Type.Optional(placeName),
  region: Type.Optional(placeName),
  administrative_division: Type.Optional(placeName),
  webhook_url: Type.Optional(Type.String({ maxLength: 2048 })),
  tags: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 })),
  container_log_storage: Type.Optional(
    Type.Object({ enabled: Type.Boolean(), endpoint_storage: Type.Optional(Type.String({ maxLength: 256 })) }),
  ),
  filters: Type.Optional(Type.Array(DeploymentFilter, { maxItems: 50 })),
  ap_sort_strategy: Type.Optional(Type.Union([Type.Literal('basic'), Type.Literal('weighted')])),
});
export type DeployModel = Static<typeof DeployModel>;

export const Request = Type.Object({
  request_id: Type.String(),
  request_dns: Type.String(),
  request_app: Type.String(),
  request_version: Type.String(),
  request_user_count: Type.Integer(),
  city: Type.Optional(Type.String()),
  country: Type.Optional(Type.String()),
  continent: Type.Optional(Type.String()),
  administrative_division: Type.Optional(Type.String()),
  tags: Type.Optional(Type.Array(Type.String())),
  container_log_storage: Type.Object({ enabled: Type.Boolean(), endpoint_storage: Type.Optional(Type.String()) }),
});

export const DeploymentSessionContext = Type.Object({
  session_id: Type.String(),
  status: Type.String(),
  ready: Type.Boolean(),
  linked: Type.Boolean(),
  kind: Type.String(),
  user_count: Type.Integer(),
});

export const Status = Type.Object({
  request_id: Type.String(),
  fqdn: Type.String(),
  app_name: Type.String(),
  app_version: Type.String(),
  current_status: Type.String(),
  running: Type.Boolean(),
  whitelisting_active: Type.Boolean(),
  start_time: Type.String(),
  removal_time: Type.Optional(Type.String()),
  elapsed_time: Type.Integer(),
  last_status: Type.Optional(Type.String()),
  error: Type.Boolean(),
  error_detail: Type.Optional(Type.String()),
  ports: Type.Optional(Type.Record(Type.String(), PortMapping)),
  public_ip: Type.String(),
  sessions: Type.Optional(Type.Array(DeploymentSessionContext)),
  location: Type.Optional(DeploymentLocation),
  tags: Type.Optional(Type.Array(Type.String())),
  sockets: Type.Optional(Type.Integer()),
  sockets_usage: Type.Optional(Type.Integer()),
  command: Type.Optional(Type.String()),
  arguments: Type.Optional(Type.String()),
  /** (ext) which provider runs this deployment. */
  provider: Type.Optional(Type.String()),
  /** (ext) false once the deployment no longer takes new sessions. */
  is_joinable_by_session: Type.Optional(Type.Boolean()),
});
export type Status = Static<typeof Status>;

export const DeleteResponse = Type.Object({ message: Type.String(), deployment_summary: Type.Optional(Status) });
export const DeleteRequestReceived = Type.Object({ message: Type.String() });

export const DeploymentListData = Type.Object({
  request_id: Type.String(),
  fqdn: Type.String(),
  start_time: Type.String(),
  ready: Type.Boolean(),
  public_ip: Type.String(),
  ports: Type.Optional(Type.Record(Type.String(), PortMapping)),
  tags: Type.Optional(Type.Array(Type.String())),
  sockets: Type.Optional(Type.Integer()),
  sockets_usage: Type.Optional(Type.Integer()),
  is_joinable_by_session: Type.Optional(Type.Boolean()),
});

export const Deployments = Type.Object({
  data: Type.Array(DeploymentListData),
  total_count: Type.Integer(),
  pagination: Pagination,
  message: Type.Optional(Type.Array(Type.String())),
});

export const DeploymentBulkStopPayload = Type.Object({
  filters: Type.Array(
    Type.Object({
      field: Type.Union([Type.Literal('request_id'), Type.Literal('deployment_tags')]),
      values: Type.Array(Type.String({ maxLength: 256 }), { maxItems: 10_000 }),
      filter_type: FilterType,
    }),
    { maxItems: 50 },
  ),
});
export type DeploymentBulkStopPayload = Static<typeof DeploymentBulkStopPayload>;

export const DeploymentBulkStopResponse = Type.Object({
  processable: Type.Array(Type.Object({ request_id: Type.String() })),
});

export const DeploymentUpdatePayload = Type.Object(
  { is_joinable_by_session: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export const DeploymentUpdateResponse = Type.Object({ is_joinable_by_session: Type.Boolean() });

export const RequestIdParams = Type.Object({ request_id: Type.String({ maxLength: 128 }) });

/** (ext) Register an already running game server as a deployment of a version. */
export const RegisterServerPort = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  external: Type.Integer({ minimum: 1, maximum: 65535 }),
  internal: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  protocol: Type.String({ minLength: 1, maxLength: 16 }),
  tls_upgrade: Type.Optional(Type.Boolean()),
});

export const RegisterServerLocation = Type.Object({
  city: Type.String({ maxLength: 256 }),
  country: Type.String({ maxLength: 256 }),
  continent: Type.String({ maxLength: 256 }),
  administrative_division: Type.Optional(Type.String({ maxLength: 256 })),
  region: Type.Optional(Type.String({ maxLength: 256 })),
  timezone: Type.Optional(Type.String({ maxLength: 256 })),
  latitude: Type.Number({ minimum: -90, maximum: 90 }),
  longitude: Type.Number({ minimum: -180, maximum: 180 }),
});

export const RegisterServerPayload = Type.Object({
  app_name: Type.String({ minLength: 1, maxLength: 64 }),
  version_name: Type.String({ minLength: 1, maxLength: 64 }),
  public_ip: Type.String({ minLength: 1, maxLength: 253 }),
  fqdn: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
  ports: Type.Array(RegisterServerPort, { maxItems: 64 }),
  location: RegisterServerLocation,
  /** Capacity; defaults to the version's `session_config.sockets`. */
  sockets: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 })),
  /** When set, the server must call the heartbeat route at least this often. */
  heartbeat_timeout_seconds: Type.Optional(Type.Integer({ minimum: 5, maximum: 86_400 })),
});
export type RegisterServerPayload = Static<typeof RegisterServerPayload>;

import { Type, type Static } from '@sinclair/typebox';
import {
  EnvKey,
  FilterType,
  GeoIpListModel,
  IpList,
  LocationModel,
  Pagination,
  PortMapping,
  DeploymentLocation,
} from './common.js';

export const SelectorModel = Type.Object({
  tag: Type.String({ minLength: 1, maxLength: 20 }),
  tag_only: Type.Optional(Type.Boolean({ default: false })),
  env: Type.Optional(
    Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 4096 }), { propertyNames: EnvKey }),
  ),
});
export type SelectorModel = Static<typeof SelectorModel>;

export const SessionFilterModel = Type.Object({
  field: Type.String({ maxLength: 64 }),
  values: Type.Array(Type.String({ maxLength: 256 }), { maxItems: 100 }),
  filter_type: FilterType,
});
export type SessionFilterModel = Static<typeof SessionFilterModel>;

const placeName = Type.String({ maxLength: 256 });

export const SessionModel = Type.Object({
  app_name: Type.String({ minLength: 1, maxLength: 64 }),
  version_name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  ip_list: Type.Optional(IpList),
  geo_ip_list: Type.Optional(Type.Array(GeoIpListModel, { maxItems: 1000 })),
  deployment_request_id: Type.Optional(Type.String({ maxLength: 64 })),
  location: Type.Optional(LocationModel),
  city: Type.Optional(placeName),
  country: Type.Optional(placeName),
  continent: Type.Optional(placeName),
  administrative_division: Type.Optional(placeName),
  region: Type.Optional(placeName),
  selectors: Type.Optional(Type.Array(SelectorModel, { maxItems: 50 })),
  webhook_url: Type.Optional(Type.String({ maxLength: 2048 })),
  filters: Type.Optional(Type.Array(SessionFilterModel, { maxItems: 50 })),
  skip_telemetry: Type.Optional(Type.Boolean()),
  custom_id: Type.Optional(Type.String({ maxLength: 256 })),
});
export type SessionModel = Static<typeof SessionModel>;

export const SessionRequest = Type.Object({
  session_id: Type.String(),
  custom_id: Type.Optional(Type.String()),
  app: Type.String(),
  version: Type.String(),
  deployment_request_id: Type.Optional(Type.String()),
  selectors: Type.Optional(Type.Array(SelectorModel)),
  webhook_url: Type.Optional(Type.String()),
});
export type SessionRequest = Static<typeof SessionRequest>;

export const SessionUser = Type.Object({
  ip: Type.String(),
  latitude: Type.Optional(Type.Number()),
  longitude: Type.Optional(Type.Number()),
});

export const Deployment = Type.Object({
  request_id: Type.String(),
  public_ip: Type.String(),
  status: Type.String(),
  ready: Type.Boolean(),
  whitelisting_active: Type.Boolean(),
  fqdn: Type.String(),
  ports: Type.Optional(Type.Record(Type.String(), PortMapping)),
  location: Type.Optional(DeploymentLocation),
  tags: Type.Optional(Type.Array(Type.String())),
  sockets: Type.Optional(Type.Integer()),
  sockets_usage: Type.Optional(Type.Integer()),
  is_joinable_by_session: Type.Optional(Type.Boolean()),
});
export type Deployment = Static<typeof Deployment>;

export const SessionGet = Type.Object({
  session_id: Type.String(),
  custom_id: Type.Optional(Type.String()),
  status: Type.String(),
  ready: Type.Boolean(),
  linked: Type.Boolean(),
  kind: Type.String(),
  user_count: Type.Integer(),
  app_version: Type.Integer(),
  create_time: Type.String(),
  elapsed: Type.Integer(),
  error: Type.Optional(Type.String()),
  session_users: Type.Optional(Type.Array(SessionUser)),
  session_ips: Type.Optional(Type.Array(SessionUser)),
  deployment: Type.Optional(Deployment),
  webhook_url: Type.Optional(Type.String()),
});
export type SessionGet = Static<typeof SessionGet>;

export const SessionContext = Type.Object({
  session_id: Type.String(),
  custom_id: Type.Optional(Type.String()),
  status: Type.String(),
  ready: Type.Boolean(),
  linked: Type.Boolean(),
  kind: Type.String(),
  user_count: Type.Integer(),
  deployment_request_id: Type.Optional(Type.String()),
  webhook_url: Type.Optional(Type.String()),
});
export type SessionContext = Static<typeof SessionContext>;

export const SessionDelete = Type.Object({
  message: Type.String(),
  session_id: Type.String(),
  custom_id: Type.Optional(Type.String()),
});

export const PatchSessionModel = Type.Object({ ip_list: IpList });
export type PatchSessionModel = Static<typeof PatchSessionModel>;

export const SessionUserContext = Type.Object({ session_users: Type.Array(SessionUser) });

export const Sessions = Type.Object({
  data: Type.Array(SessionContext),
  total_count: Type.Integer(),
  pagination: Pagination,
});

export const SessionBulkStopFilter = Type.Object({
  field: Type.Union([Type.Literal('session_id'), Type.Literal('deployment_tags'), Type.Literal('request_id')]),
  values: Type.Array(Type.String({ maxLength: 256 }), { maxItems: 10_000 }),
  filter_type: FilterType,
});
export type SessionBulkStopFilter = Static<typeof SessionBulkStopFilter>;

export const SessionBulkStopPayload = Type.Object({
  filters: Type.Array(SessionBulkStopFilter, { maxItems: 50 }),
});

export const SessionBulkStopResponse = Type.Object({
  processable: Type.Array(Type.Object({ session_id: Type.String() })),
});

export const SessionIdParams = Type.Object({ session_id: Type.String({ maxLength: 128 }) });

import { Type, type Static } from '@sinclair/typebox';
import { EnvKey } from './common.js';

const appName = Type.String({ minLength: 1, maxLength: 64 });

export const ApplicationPost = Type.Object({
  name: appName,
  is_active: Type.Boolean(),
  is_telemetry_agent_active: Type.Optional(Type.Boolean()),
  image: Type.String({ maxLength: 256 * 1024 }),
});
export type ApplicationPost = Static<typeof ApplicationPost>;

export const ApplicationPatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 3, maxLength: 64 })),
  is_active: Type.Optional(Type.Boolean()),
  is_telemetry_agent_active: Type.Optional(Type.Boolean()),
  image: Type.Optional(Type.String({ maxLength: 256 * 1024 })),
});
export type ApplicationPatch = Static<typeof ApplicationPatch>;

export const Application = Type.Object({
  name: Type.String(),
  is_active: Type.Boolean(),
  is_telemetry_agent_active: Type.Optional(Type.Boolean()),
  image: Type.Optional(Type.String()),
  create_time: Type.String(),
  last_updated: Type.String(),
});
export type Application = Static<typeof Application>;

export const Applications = Type.Object({ applications: Type.Array(Application) });

export const AppNameParams = Type.Object({ app_name: Type.String({ maxLength: 256 }) });
export const AppVersionParams = Type.Object({
  app_name: Type.String({ maxLength: 256 }),
  version_name: Type.String({ maxLength: 256 }),
});

export const SessionKind = Type.Union([Type.Literal('Default'), Type.Literal('Seat'), Type.Literal('Match')]);

export const AppVersionCreateSessionConfig = Type.Object({
  kind: SessionKind,
  sockets: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  autodeploy: Type.Optional(Type.Boolean()),
  empty_ttl: Type.Optional(Type.Integer({ minimum: 1, maximum: 525_600 })),
  session_max_duration: Type.Optional(Type.Integer({ minimum: 60, maximum: 525_600 })),
});
export const AppVersionUpdateSessionConfig = Type.Partial(AppVersionCreateSessionConfig);

export const AppVersionPort = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 59999 }),
  protocol: Type.String({ maxLength: 16 }),
  to_check: Type.Optional(Type.Boolean()),
  tls_upgrade: Type.Optional(Type.Boolean()),
  name: Type.Optional(Type.String({ maxLength: 64 })),
});
export type AppVersionPort = Static<typeof AppVersionPort>;

export const AppVersionEnv = Type.Object({
  key: EnvKey,
  value: Type.String({ maxLength: 8192 }),
  is_secret: Type.Optional(Type.Boolean()),
});

const hour = Type.Integer({ minimum: 0, maximum: 23 });
const short = Type.String({ maxLength: 1024 });

/** Fields shared by create and update; providers read the ones that concern them. */
const versionFields = {
  name: Type.String({ minLength: 1, maxLength: 64 }),
  is_active: Type.Boolean(),
  docker_repository: short,
  docker_image: short,
  docker_tag: short,
  private_username: short,
  private_token: short,
  req_cpu: Type.Integer({ minimum: 100 }),
  req_memory: Type.Integer({ minimum: 100 }),
  req_video: Type.Integer({ minimum: 0 }),
  max_duration: Type.Integer({ minimum: 0 }),
  use_telemetry: Type.Boolean(),
  inject_context_env: Type.Boolean(),
  whitelisting_active: Type.Boolean(),
  force_cache: Type.Boolean(),
  cache_min_hour: hour,
  cache_max_hour: hour,
  time_to_deploy: Type.Integer({ minimum: 15 }),
  enable_all_locations: Type.Boolean(),
  ports: Type.Array(AppVersionPort, { maxItems: 64 }),
  probe: Type.Object({ optimal_ping: Type.Integer({ minimum: 1 }), rejected_ping: Type.Integer({ minimum: 1 }) }),
  envs: Type.Array(AppVersionEnv, { maxItems: 256 }),
  verify_image: Type.Boolean(),
  termination_grace_period_seconds: Type.Integer({ minimum: 5, maximum: 3600 }),
  endpoint_storage: short,
  /** (ext) What the process provider runs: an executable and its arguments. */
  command: Type.String({ maxLength: 4096 }),
  arguments: Type.String({ maxLength: 16384 }),
};

const optionalVersionFields = Type.Partial(Type.Object(versionFields)).properties;

export const AppVersionPayload = Type.Object({
  ...optionalVersionFields,
  name: versionFields.name,
  docker_repository: versionFields.docker_repository,
  docker_image: versionFields.docker_image,
  docker_tag: versionFields.docker_tag,
  req_cpu: versionFields.req_cpu,
  req_memory: versionFields.req_memory,
  session_config: Type.Optional(AppVersionCreateSessionConfig),
});
export type AppVersionPayload = Static<typeof AppVersionPayload>;

export const AppVersionUpdatePayload = Type.Object({
  ...optionalVersionFields,
  session_config: Type.Optional(AppVersionUpdateSessionConfig),
});
export type AppVersionUpdatePayload = Static<typeof AppVersionUpdatePayload>;

/** What we answer for a version: the payload minus secrets. */
export const AppVersion = Type.Object({
  ...optionalVersionFields,
  name: versionFields.name,
  session_config: Type.Optional(AppVersionCreateSessionConfig),
});
export type AppVersion = Static<typeof AppVersion>;

export const AppVersionWriteResponse = Type.Object({ success: Type.Boolean(), version: AppVersion });
export const AppVersionDelete = Type.Object({ success: Type.Boolean(), message: Type.String() });
export const AppVersionList = Type.Object({ versions: Type.Array(AppVersion), total_count: Type.Integer() });
export const AppDeleteResponse = Type.Object({ message: Type.String() });

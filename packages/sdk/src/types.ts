// Generated from the server's TypeBox contract (src/contract/) by `npm run sdk:types`: do not edit.
// test/sdk/contract-types.test.ts fails when this file and the contract differ.
// Request and response bodies of the Rallypoint API, exactly as the server validates them.
export type Pagination = {
  number: number;
  next_page_number: number | null;
  previous_page_number: number | null;
  paginator: {
    num_pages: number;
  };
  has_next: boolean;
  has_previous: boolean;
};

export type PageQuery = {
  page?: number;
  limit?: number;
};

export type ErrorBody = {
  message: string;
  code?: string;
  request_id?: string;
};

export type SessionModel = {
  app_name: string;
  version_name?: string;
  ip_list?: string[];
  geo_ip_list?: {
    ip: string;
    latitude: number;
    longitude: number;
  }[];
  deployment_request_id?: string;
  location?: {
    latitude: number;
    longitude: number;
  };
  city?: string;
  country?: string;
  continent?: string;
  administrative_division?: string;
  region?: string;
  selectors?: {
    tag: string;
    tag_only?: boolean;
    env?: {
      [key: string]: string;
    };
  }[];
  webhook_url?: string;
  filters?: {
    field: string;
    values: string[];
    filter_type: 'any' | 'all' | 'not';
  }[];
  skip_telemetry?: boolean;
  custom_id?: string;
};

export type SessionRequest = {
  session_id: string;
  custom_id?: string;
  app: string;
  version: string;
  deployment_request_id?: string;
  selectors?: {
    tag: string;
    tag_only?: boolean;
    env?: {
      [key: string]: string;
    };
  }[];
  webhook_url?: string;
};

export type SessionGet = {
  session_id: string;
  custom_id?: string;
  status: string;
  ready: boolean;
  linked: boolean;
  kind: string;
  user_count: number;
  app_version: number;
  create_time: string;
  elapsed: number;
  error?: string;
  session_users?: {
    ip: string;
    latitude?: number;
    longitude?: number;
  }[];
  session_ips?: {
    ip: string;
    latitude?: number;
    longitude?: number;
  }[];
  deployment?: {
    request_id: string;
    public_ip: string;
    status: string;
    ready: boolean;
    whitelisting_active: boolean;
    fqdn: string;
    ports?: {
      [key: string]: {
        external?: number;
        internal?: number;
        protocol?: string;
        name?: string;
        tls_upgrade?: boolean;
        link?: string;
        proxy?: number;
      };
    };
    location?: {
      city: string;
      country: string;
      continent: string;
      administrative_division: string;
      timezone: string;
      latitude: number;
      longitude: number;
    };
    tags?: string[];
    sockets?: number;
    sockets_usage?: number;
    is_joinable_by_session?: boolean;
  };
  webhook_url?: string;
};

export type SessionContext = {
  session_id: string;
  custom_id?: string;
  status: string;
  ready: boolean;
  linked: boolean;
  kind: string;
  user_count: number;
  deployment_request_id?: string;
  webhook_url?: string;
};

export type SessionDelete = {
  message: string;
  session_id: string;
  custom_id?: string;
};

export type SessionUserContext = {
  session_users: {
    ip: string;
    latitude?: number;
    longitude?: number;
  }[];
};

export type PatchSessionModel = {
  ip_list: string[];
};

export type SessionList = {
  data: SessionContext[];
  total_count: number;
  pagination: Pagination;
};

export type SessionBulkStopPayload = {
  filters: {
    field: 'session_id' | 'deployment_tags' | 'request_id';
    values: string[];
    filter_type: 'any' | 'all' | 'not';
  }[];
};

export type SessionBulkStopResponse = {
  processable: {
    session_id: string;
  }[];
};

export type SessionDeployment = {
  request_id: string;
  public_ip: string;
  status: string;
  ready: boolean;
  whitelisting_active: boolean;
  fqdn: string;
  ports?: {
    [key: string]: {
      external?: number;
      internal?: number;
      protocol?: string;
      name?: string;
      tls_upgrade?: boolean;
      link?: string;
      proxy?: number;
    };
  };
  location?: {
    city: string;
    country: string;
    continent: string;
    administrative_division: string;
    timezone: string;
    latitude: number;
    longitude: number;
  };
  tags?: string[];
  sockets?: number;
  sockets_usage?: number;
  is_joinable_by_session?: boolean;
};

export type ApplicationPost = {
  name: string;
  is_active: boolean;
  is_telemetry_agent_active?: boolean;
  image: string;
};

export type ApplicationPatch = {
  name?: string;
  is_active?: boolean;
  is_telemetry_agent_active?: boolean;
  image?: string;
};

export type Application = {
  name: string;
  is_active: boolean;
  is_telemetry_agent_active?: boolean;
  image?: string;
  create_time: string;
  last_updated: string;
};

export type ApplicationList = {
  applications: Application[];
};

export type AppDeleteResponse = {
  message: string;
};

export type AppVersionPayload = {
  name: string;
  is_active?: boolean;
  docker_repository: string;
  docker_image: string;
  docker_tag: string;
  private_username?: string;
  private_token?: string;
  req_cpu: number;
  req_memory: number;
  req_video?: number;
  max_duration?: number;
  use_telemetry?: boolean;
  inject_context_env?: boolean;
  whitelisting_active?: boolean;
  force_cache?: boolean;
  cache_min_hour?: number;
  cache_max_hour?: number;
  time_to_deploy?: number;
  enable_all_locations?: boolean;
  ports?: {
    port: number;
    protocol: string;
    to_check?: boolean;
    tls_upgrade?: boolean;
    name?: string;
  }[];
  probe?: {
    optimal_ping: number;
    rejected_ping: number;
  };
  envs?: {
    key: string;
    value: string;
    is_secret?: boolean;
  }[];
  verify_image?: boolean;
  termination_grace_period_seconds?: number;
  endpoint_storage?: string;
  command?: string;
  arguments?: string;
  session_config?: {
    kind: 'Default' | 'Seat' | 'Match';
    sockets: number;
    autodeploy?: boolean;
    empty_ttl?: number;
    session_max_duration?: number;
  };
};

export type AppVersionUpdatePayload = {
  name?: string;
  is_active?: boolean;
  docker_repository?: string;
  docker_image?: string;
  docker_tag?: string;
  private_username?: string;
  private_token?: string;
  req_cpu?: number;
  req_memory?: number;
  req_video?: number;
  max_duration?: number;
  use_telemetry?: boolean;
  inject_context_env?: boolean;
  whitelisting_active?: boolean;
  force_cache?: boolean;
  cache_min_hour?: number;
  cache_max_hour?: number;
  time_to_deploy?: number;
  enable_all_locations?: boolean;
  ports?: {
    port: number;
    protocol: string;
    to_check?: boolean;
    tls_upgrade?: boolean;
    name?: string;
  }[];
  probe?: {
    optimal_ping: number;
    rejected_ping: number;
  };
  envs?: {
    key: string;
    value: string;
    is_secret?: boolean;
  }[];
  verify_image?: boolean;
  termination_grace_period_seconds?: number;
  endpoint_storage?: string;
  command?: string;
  arguments?: string;
  session_config?: {
    kind?: 'Default' | 'Seat' | 'Match';
    sockets?: number;
    autodeploy?: boolean;
    empty_ttl?: number;
    session_max_duration?: number;
  };
};

export type AppVersion = {
  name: string;
  is_active?: boolean;
  docker_repository?: string;
  docker_image?: string;
  docker_tag?: string;
  private_username?: string;
  private_token?: string;
  req_cpu?: number;
  req_memory?: number;
  req_video?: number;
  max_duration?: number;
  use_telemetry?: boolean;
  inject_context_env?: boolean;
  whitelisting_active?: boolean;
  force_cache?: boolean;
  cache_min_hour?: number;
  cache_max_hour?: number;
  time_to_deploy?: number;
  enable_all_locations?: boolean;
  ports?: {
    port: number;
    protocol: string;
    to_check?: boolean;
    tls_upgrade?: boolean;
    name?: string;
  }[];
  probe?: {
    optimal_ping: number;
    rejected_ping: number;
  };
  envs?: {
    key: string;
    value: string;
    is_secret?: boolean;
  }[];
  verify_image?: boolean;
  termination_grace_period_seconds?: number;
  endpoint_storage?: string;
  command?: string;
  arguments?: string;
  session_config?: {
    kind: 'Default' | 'Seat' | 'Match';
    sockets: number;
    autodeploy?: boolean;
    empty_ttl?: number;
    session_max_duration?: number;
  };
};

export type AppVersionWriteResponse = {
  success: boolean;
  version: AppVersion;
};

export type AppVersionDelete = {
  success: boolean;
  message: string;
};

export type AppVersionList = {
  versions: AppVersion[];
  total_count: number;
};

export type DeployModel = {
  app_name: string;
  version_name?: string;
  is_public_app?: boolean;
  ip_list?: string[];
  geo_ip_list?: {
    ip: string;
    latitude: number;
    longitude: number;
  }[];
  telemetry_profile_uuid_list?: string[];
  env_vars?: {
    key: string;
    value: string;
    is_hidden?: boolean;
  }[];
  skip_telemetry?: boolean;
  location?: {
    latitude: number;
    longitude: number;
  };
  city?: string;
  country?: string;
  continent?: string;
  region?: string;
  administrative_division?: string;
  webhook_url?: string;
  tags?: string[];
  container_log_storage?: {
    enabled: boolean;
    endpoint_storage?: string;
  };
  filters?: {
    field: string;
    values: string[];
    filter_type: 'any' | 'all' | 'not';
  }[];
  ap_sort_strategy?: 'basic' | 'weighted';
};

export type DeploymentRequest = {
  request_id: string;
  request_dns: string;
  request_app: string;
  request_version: string;
  request_user_count: number;
  city?: string;
  country?: string;
  continent?: string;
  administrative_division?: string;
  tags?: string[];
  container_log_storage: {
    enabled: boolean;
    endpoint_storage?: string;
  };
};

export type DeploymentStatus = {
  request_id: string;
  fqdn: string;
  app_name: string;
  app_version: string;
  current_status: string;
  running: boolean;
  whitelisting_active: boolean;
  start_time: string;
  removal_time?: string;
  elapsed_time: number;
  last_status?: string;
  error: boolean;
  error_detail?: string;
  ports?: {
    [key: string]: {
      external?: number;
      internal?: number;
      protocol?: string;
      name?: string;
      tls_upgrade?: boolean;
      link?: string;
      proxy?: number;
    };
  };
  public_ip: string;
  sessions?: {
    session_id: string;
    status: string;
    ready: boolean;
    linked: boolean;
    kind: string;
    user_count: number;
  }[];
  location?: {
    city: string;
    country: string;
    continent: string;
    administrative_division: string;
    timezone: string;
    latitude: number;
    longitude: number;
  };
  tags?: string[];
  sockets?: number;
  sockets_usage?: number;
  command?: string;
  arguments?: string;
  provider?: string;
  is_joinable_by_session?: boolean;
};

export type DeploymentDeleteResponse = {
  message: string;
  deployment_summary?: {
    request_id: string;
    fqdn: string;
    app_name: string;
    app_version: string;
    current_status: string;
    running: boolean;
    whitelisting_active: boolean;
    start_time: string;
    removal_time?: string;
    elapsed_time: number;
    last_status?: string;
    error: boolean;
    error_detail?: string;
    ports?: {
      [key: string]: {
        external?: number;
        internal?: number;
        protocol?: string;
        name?: string;
        tls_upgrade?: boolean;
        link?: string;
        proxy?: number;
      };
    };
    public_ip: string;
    sessions?: {
      session_id: string;
      status: string;
      ready: boolean;
      linked: boolean;
      kind: string;
      user_count: number;
    }[];
    location?: {
      city: string;
      country: string;
      continent: string;
      administrative_division: string;
      timezone: string;
      latitude: number;
      longitude: number;
    };
    tags?: string[];
    sockets?: number;
    sockets_usage?: number;
    command?: string;
    arguments?: string;
    provider?: string;
    is_joinable_by_session?: boolean;
  };
};

export type DeploymentDeleteRequestReceived = {
  message: string;
};

export type DeploymentList = {
  data: DeploymentListItem[];
  total_count: number;
  pagination: Pagination;
  message?: string[];
};

export type DeploymentListItem = {
  request_id: string;
  fqdn: string;
  start_time: string;
  ready: boolean;
  public_ip: string;
  ports?: {
    [key: string]: {
      external?: number;
      internal?: number;
      protocol?: string;
      name?: string;
      tls_upgrade?: boolean;
      link?: string;
      proxy?: number;
    };
  };
  tags?: string[];
  sockets?: number;
  sockets_usage?: number;
  is_joinable_by_session?: boolean;
};

export type DeploymentBulkStopPayload = {
  filters: {
    field: 'request_id' | 'deployment_tags';
    values: string[];
    filter_type: 'any' | 'all' | 'not';
  }[];
};

export type DeploymentBulkStopResponse = {
  processable: {
    request_id: string;
  }[];
};

export type DeploymentUpdatePayload = {
  is_joinable_by_session?: boolean;
};

export type DeploymentUpdateResponse = {
  is_joinable_by_session: boolean;
};

export type RegisterServerPayload = {
  app_name: string;
  version_name: string;
  public_ip: string;
  fqdn?: string;
  ports: {
    name: string;
    external: number;
    internal?: number;
    protocol: string;
    tls_upgrade?: boolean;
  }[];
  location: {
    city: string;
    country: string;
    continent: string;
    administrative_division?: string;
    region?: string;
    timezone?: string;
    latitude: number;
    longitude: number;
  };
  sockets?: number;
  tags?: string[];
  heartbeat_timeout_seconds?: number;
};

export type ApiKey = {
  key_id: string;
  name: string;
  create_time: string;
  revoked: boolean;
  revoke_time?: string;
};

export type CreatedApiKey = {
  key_id: string;
  name: string;
  create_time: string;
  revoked: boolean;
  revoke_time?: string;
  key: string;
};

export type ApiKeyList = {
  keys: ApiKey[];
};

export type WebhookSecret = {
  webhook_secret: string;
};

export type WebhookDelivery = {
  delivery_id: string;
  event: string;
  url: string;
  state: 'pending' | 'delivered' | 'dead';
  attempts: number;
  session_id?: string;
  request_id?: string;
  last_status?: number;
  last_error?: string;
  next_attempt?: string;
  last_attempt_time?: string;
  delivered_time?: string;
  create_time: string;
  body: unknown;
};

export type WebhookDeliveryList = {
  deliveries: WebhookDelivery[];
};

export type HostCreate = {
  name: string;
  endpoint:
    | {
        kind: 'socket';
        path: string;
      }
    | {
        kind: 'tcp';
        host: string;
        port: number;
        tls?: {
          ca?: string;
          cert?: string;
          key?: string;
        };
      }
    | {
        kind: 'ssh';
        host: string;
        port: number;
        username: string;
        private_key?: string;
      };
  public_ip: string;
  location: {
    city: string;
    country: string;
    continent: string;
    administrative_division?: string;
    region?: string;
    timezone?: string;
    latitude: number;
    longitude: number;
  };
  cpu_units: number;
  memory_mb: number;
  port_min: number;
  port_max: number;
  tags?: string[];
};

export type Host = {
  name: string;
  endpoint: {
    kind: string;
    path?: string;
    host?: string;
    port?: number;
    username?: string;
    has_credentials?: boolean;
  };
  public_ip: string;
  location: {
    city: string;
    country: string;
    continent: string;
    administrative_division?: string;
    region?: string;
    timezone?: string;
    latitude: number;
    longitude: number;
  };
  state: 'active' | 'draining' | 'down';
  state_detail?: string;
  unreachable_since?: string;
  cpu_units: number;
  memory_mb: number;
  port_min: number;
  port_max: number;
  used_cpu_units: number;
  used_memory_mb: number;
  used_ports: number;
  tags: string[];
  create_time: string;
  update_time: string;
  deployment_count: number;
  deployments?: {
    request_id: string;
    status: string;
    app_name: string;
    version_name: string;
    cpu_units: number;
    memory_mb: number;
    ports: number[];
  }[];
};

export type HostList = {
  hosts: Host[];
};

export type HostRemoved = {
  message: string;
  name: string;
};

/**
 * Rallypoint's TypeScript client. No runtime dependencies: it needs only a global `fetch`
 * (Node 18+, browsers, Deno, Bun). It imports nothing from the server: its request and response
 * types are generated from the server's contract into types.ts.
 */
import { AppsApi } from './apps-api.js';
import { DeploymentsApi } from './deployments-api.js';
import { HostsApi } from './hosts-api.js';
import { KeysApi } from './keys-api.js';
import { SessionsApi } from './sessions-api.js';
import { Transport, type RallypointConfig } from './transport.js';
import { WebhooksApi } from './webhooks-api.js';

/**
 * One client for every API group, sharing configuration and connection settings.
 * @example const rp = new Rallypoint({ baseUrl: 'http://localhost:8080', apiKey: process.env.RALLYPOINT_API_KEY });
 */
export class Rallypoint {
  readonly sessions: SessionsApi;
  readonly apps: AppsApi;
  readonly deployments: DeploymentsApi;
  readonly keys: KeysApi;
  readonly hosts: HostsApi;
  readonly webhooks: WebhooksApi;

  constructor(config: RallypointConfig) {
    const transport = new Transport(config);
    this.sessions = new SessionsApi(transport);
    this.apps = new AppsApi(transport);
    this.deployments = new DeploymentsApi(transport);
    this.keys = new KeysApi(transport);
    this.hosts = new HostsApi(transport);
    this.webhooks = new WebhooksApi(transport);
  }
}

export { AppsApi } from './apps-api.js';
export { DeploymentsApi } from './deployments-api.js';
export { HostsApi } from './hosts-api.js';
export { KeysApi } from './keys-api.js';
export { WebhooksApi } from './webhooks-api.js';
export { SessionsApi, type WaitForReadyOptions } from './sessions-api.js';
export { RallypointError, RallypointNetworkError, RallypointTimeoutError } from './errors.js';
export { backoffDelayMs, type Backoff } from './backoff.js';
export { readSseBlocks } from './session-events.js';
export {
  Transport,
  type HttpMethod,
  type HttpRequest,
  type RallypointConfig,
  type RequestOptions,
} from './transport.js';
export type * from './types.js';

import { Transport, type RallypointConfig, type RequestOptions } from './transport.js';
import type {
  DeploymentBulkStopPayload,
  DeploymentBulkStopResponse,
  DeploymentDeleteRequestReceived,
  DeploymentDeleteResponse,
  DeploymentList,
  DeploymentListItem,
  DeploymentRequest,
  DeploymentStatus,
  DeploymentUpdatePayload,
  DeploymentUpdateResponse,
  DeployModel,
  PageQuery,
  RegisterServerPayload,
} from './types.js';

const enc = encodeURIComponent;

/**
 * Deployments: started through a provider (`deploy`) or registered running servers (ext).
 * @example const deployments = new DeploymentsApi({ baseUrl: 'http://localhost:8080', apiKey });
 */
export class DeploymentsApi {
  private readonly transport: Transport;

  constructor(config: RallypointConfig | Transport) {
    this.transport = config instanceof Transport ? config : new Transport(config);
  }

  /**
   * Starts a deployment of a version through a provider.
   * @example const { request_id } = await deployments.deploy({ app_name: 'my-game', ip_list: ['203.0.113.7'] });
   */
  deploy(body: DeployModel, options?: RequestOptions): Promise<DeploymentRequest> {
    return this.transport.request({ method: 'POST', path: '/v1/deploy', body, options });
  }

  /**
   * Reads a deployment's status, ports, location and sessions.
   * @example const status = await deployments.deploymentStatusGet('a1b2c3d4e5f6');
   */
  deploymentStatusGet(requestId: string, options?: RequestOptions): Promise<DeploymentStatus> {
    return this.transport.request({ method: 'GET', path: `/v1/status/${enc(requestId)}`, options });
  }

  /**
   * Stops a deployment; its sessions end. A deployment not yet ready answers only a message.
   * @example await deployments.deploymentDelete('a1b2c3d4e5f6');
   */
  deploymentDelete(
    requestId: string,
    options?: RequestOptions,
  ): Promise<DeploymentDeleteResponse | DeploymentDeleteRequestReceived> {
    return this.transport.request({ method: 'DELETE', path: `/v1/stop/${enc(requestId)}`, options });
  }

  /**
   * One page of the organisation's deployments.
   * @example const { data, total_count } = await deployments.deploymentsGet({ page: 1 });
   */
  deploymentsGet(query: PageQuery = {}, options?: RequestOptions): Promise<DeploymentList> {
    return this.transport.request({
      method: 'GET',
      path: '/v1/deployments',
      query: { page: query.page, limit: query.limit },
      options,
    });
  }

  /**
   * Stops every deployment matching all the filters.
   * @example await deployments.deploymentsBulkStop({ filters: [{ field: 'deployment_tags', values: ['canary'], filter_type: 'any' }] });
   */
  deploymentsBulkStop(body: DeploymentBulkStopPayload, options?: RequestOptions): Promise<DeploymentBulkStopResponse> {
    return this.transport.request({ method: 'POST', path: '/v1/deployments/bulk-stop', body, options });
  }

  /**
   * Changes whether new sessions may join a deployment.
   * @example await deployments.deploymentUpdate('a1b2c3d4e5f6', { is_joinable_by_session: false });
   */
  deploymentUpdate(
    requestId: string,
    body: DeploymentUpdatePayload,
    options?: RequestOptions,
  ): Promise<DeploymentUpdateResponse> {
    return this.transport.request({ method: 'PATCH', path: `/v1/deployments/${enc(requestId)}`, body, options });
  }

  /**
   * (ext) Registers an already running game server as a READY deployment of a version.
   * @example await deployments.registerServer({ app_name: 'my-game', version_name: 'v1', public_ip: '203.0.113.10', ports: [{ name: 'game', external: 7777, protocol: 'UDP' }], location });
   */
  registerServer(body: RegisterServerPayload, options?: RequestOptions): Promise<DeploymentStatus> {
    return this.transport.request({ method: 'POST', path: '/v1/deployments/register', body, options });
  }

  /**
   * (ext) A registered server reports it is alive.
   * @example await deployments.heartbeat('a1b2c3d4e5f6');
   */
  heartbeat(requestId: string, options?: RequestOptions): Promise<DeploymentStatus> {
    return this.transport.request({ method: 'POST', path: `/v1/deployments/${enc(requestId)}/heartbeat`, options });
  }

  /**
   * Every deployment of the organisation, page after page.
   * @example for await (const d of deployments.iterateDeployments()) console.log(d.request_id, d.ready);
   */
  async *iterateDeployments(
    query: { limit?: number } = {},
    options?: RequestOptions,
  ): AsyncGenerator<DeploymentListItem, void, undefined> {
    let page: number | null = 1;
    while (page !== null) {
      const result: DeploymentList = await this.deploymentsGet(
        { page, ...(query.limit !== undefined ? { limit: query.limit } : {}) },
        options,
      );
      yield* result.data;
      page = result.pagination.next_page_number;
    }
  }
}

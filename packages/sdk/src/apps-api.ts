import { Transport, type RallypointConfig, type RequestOptions } from './transport.js';
import type {
  AppDeleteResponse,
  Application,
  ApplicationList,
  ApplicationPatch,
  ApplicationPost,
  AppVersion,
  AppVersionDelete,
  AppVersionList,
  AppVersionPayload,
  AppVersionUpdatePayload,
  AppVersionWriteResponse,
} from './types.js';

const enc = encodeURIComponent;

/**
 * Applications and their versions; a version's `session_config` makes it session based.
 * @example const apps = new AppsApi({ baseUrl: 'http://localhost:8080', apiKey });
 */
export class AppsApi {
  private readonly transport: Transport;

  constructor(config: RallypointConfig | Transport) {
    this.transport = config instanceof Transport ? config : new Transport(config);
  }

  /**
   * Creates an application.
   * @example await apps.applicationPost({ name: 'my-game', is_active: true, image: '' });
   */
  applicationPost(body: ApplicationPost, options?: RequestOptions): Promise<Application> {
    return this.transport.request({ method: 'POST', path: '/v1/app', body, options });
  }

  /**
   * Reads an application.
   * @example const app = await apps.applicationGet('my-game');
   */
  applicationGet(appName: string, options?: RequestOptions): Promise<Application> {
    return this.transport.request({ method: 'GET', path: `/v1/app/${enc(appName)}`, options });
  }

  /**
   * Lists the organisation's applications.
   * @example const { applications } = await apps.applicationsGet();
   */
  applicationsGet(options?: RequestOptions): Promise<ApplicationList> {
    return this.transport.request({ method: 'GET', path: '/v1/apps', options });
  }

  /**
   * Changes an application (rename, activate, deactivate).
   * @example await apps.applicationPatch('my-game', { is_active: false });
   */
  applicationPatch(appName: string, body: ApplicationPatch, options?: RequestOptions): Promise<Application> {
    return this.transport.request({ method: 'PATCH', path: `/v1/app/${enc(appName)}`, body, options });
  }

  /**
   * Deletes an application.
   * @example await apps.applicationDelete('my-game');
   */
  applicationDelete(appName: string, options?: RequestOptions): Promise<AppDeleteResponse> {
    return this.transport.request({ method: 'DELETE', path: `/v1/app/${enc(appName)}`, options });
  }

  /**
   * Creates a version of an application.
   * @example await apps.appVersionPost('my-game', { name: 'v1', docker_repository: 'r', docker_image: 'i', docker_tag: '1', req_cpu: 256, req_memory: 256, session_config: { kind: 'Seat', sockets: 10 } });
   */
  appVersionPost(appName: string, body: AppVersionPayload, options?: RequestOptions): Promise<AppVersionWriteResponse> {
    return this.transport.request({ method: 'POST', path: `/v1/app/${enc(appName)}/version`, body, options });
  }

  /**
   * Reads a version (secrets masked).
   * @example const version = await apps.appVersionGet('my-game', 'v1');
   */
  appVersionGet(appName: string, versionName: string, options?: RequestOptions): Promise<AppVersion> {
    return this.transport.request({
      method: 'GET',
      path: `/v1/app/${enc(appName)}/version/${enc(versionName)}`,
      options,
    });
  }

  /**
   * Lists the versions of an application.
   * @example const { versions } = await apps.appVersionsGet('my-game');
   */
  appVersionsGet(appName: string, options?: RequestOptions): Promise<AppVersionList> {
    return this.transport.request({ method: 'GET', path: `/v1/app/${enc(appName)}/versions`, options });
  }

  /**
   * Changes a version.
   * @example await apps.appVersionPatch('my-game', 'v1', { session_config: { sockets: 20 } });
   */
  appVersionPatch(
    appName: string,
    versionName: string,
    body: AppVersionUpdatePayload,
    options?: RequestOptions,
  ): Promise<AppVersionWriteResponse> {
    return this.transport.request({
      method: 'PATCH',
      path: `/v1/app/${enc(appName)}/version/${enc(versionName)}`,
      body,
      options,
    });
  }

  /**
   * Deletes a version.
   * @example await apps.appVersionDelete('my-game', 'v1');
   */
  appVersionDelete(appName: string, versionName: string, options?: RequestOptions): Promise<AppVersionDelete> {
    return this.transport.request({
      method: 'DELETE',
      path: `/v1/app/${enc(appName)}/version/${enc(versionName)}`,
      options,
    });
  }
}

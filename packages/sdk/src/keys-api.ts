import { Transport, type RallypointConfig, type RequestOptions } from './transport.js';
import type { ApiKey, ApiKeyList, CreatedApiKey } from './types.js';

/**
 * (ext) The organisation's API keys. A new key's secret is shown once, in the create answer.
 * @example const keys = new KeysApi({ baseUrl: 'http://localhost:8080', apiKey });
 */
export class KeysApi {
  private readonly transport: Transport;

  constructor(config: RallypointConfig | Transport) {
    this.transport = config instanceof Transport ? config : new Transport(config);
  }

  /**
   * Creates a key; store `key` now, it is never shown again.
   * @example const { key, key_id } = await keys.createKey({ name: 'matchmaker' });
   */
  createKey(body: { name?: string } = {}, options?: RequestOptions): Promise<CreatedApiKey> {
    return this.transport.request({ method: 'POST', path: '/v1/keys', body, options });
  }

  /**
   * Lists the organisation's keys (without secrets).
   * @example const { keys: all } = await keys.listKeys();
   */
  listKeys(options?: RequestOptions): Promise<ApiKeyList> {
    return this.transport.request({ method: 'GET', path: '/v1/keys', options });
  }

  /**
   * Revokes a key; requests made with it answer 401 from then on.
   * @example await keys.revokeKey('k_1234');
   */
  revokeKey(keyId: string, options?: RequestOptions): Promise<ApiKey> {
    return this.transport.request({ method: 'DELETE', path: `/v1/keys/${encodeURIComponent(keyId)}`, options });
  }
}

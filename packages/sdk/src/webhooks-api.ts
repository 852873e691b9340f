import { Transport, type RallypointConfig, type RequestOptions } from './transport.js';
import type { WebhookDelivery, WebhookDeliveryList, WebhookSecret } from './types.js';

/**
 * (ext) The webhook signing secret and the delivery log.
 * @example const webhooks = new WebhooksApi({ baseUrl: 'http://localhost:8080', apiKey });
 */
export class WebhooksApi {
  private readonly transport: Transport;

  constructor(config: RallypointConfig | Transport) {
    this.transport = config instanceof Transport ? config : new Transport(config);
  }

  /**
   * The secret webhook signatures are made with (HMAC-SHA256).
   * @example const { webhook_secret } = await webhooks.getWebhookSecret();
   */
  getWebhookSecret(options?: RequestOptions): Promise<WebhookSecret> {
    return this.transport.request({ method: 'GET', path: '/v1/webhooks/secret', options });
  }

  /**
   * Replaces the secret; later attempts are signed with the new one.
   * @example const { webhook_secret } = await webhooks.rotateWebhookSecret();
   */
  rotateWebhookSecret(options?: RequestOptions): Promise<WebhookSecret> {
    return this.transport.request({ method: 'POST', path: '/v1/webhooks/secret/rotate', options });
  }

  /**
   * Recent deliveries, newest first, optionally of one session or deployment.
   * @example const { deliveries } = await webhooks.listWebhookDeliveries({ session_id: '950dd2eaff09-S' });
   */
  listWebhookDeliveries(
    query: { session_id?: string; request_id?: string; limit?: number } = {},
    options?: RequestOptions,
  ): Promise<WebhookDeliveryList> {
    return this.transport.request({ method: 'GET', path: '/v1/webhooks/deliveries', query: { ...query }, options });
  }

  /**
   * Attempts a dead delivery again.
   * @example await webhooks.replayWebhookDelivery('d_123');
   */
  replayWebhookDelivery(deliveryId: string, options?: RequestOptions): Promise<WebhookDelivery> {
    return this.transport.request({
      method: 'POST',
      path: `/v1/webhooks/deliveries/${encodeURIComponent(deliveryId)}/replay`,
      options,
    });
  }
}

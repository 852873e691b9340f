/**
 * The Rallypoint-Signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
 * keyed with the organisation's webhook secret. The timestamp is inside the signed text so a
 * receiver can refuse old (replayed) requests; `v1` names the scheme so it can change later
 * without breaking receivers that check only the schemes they know.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Rallypoint-Signature';
export const DELIVERY_ID_HEADER = 'Rallypoint-Delivery-Id';
export const EVENT_HEADER = 'Rallypoint-Event';
export const ATTEMPT_HEADER = 'Rallypoint-Attempt';

export function signatureOf(secret: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
}

/** The header value for one attempt. */
export function signatureHeader(secret: string, timestampSeconds: number, body: string): string {
  return `t=${timestampSeconds},v1=${signatureOf(secret, timestampSeconds, body)}`;
}

/**
 * Receiver side, as the README shows it: true when some v1 signature matches and the timestamp
 * is within `toleranceSeconds` of `nowSeconds`.
 */
export function verifySignature(options: {
  secret: string;
  header: string;
  body: string;
  nowSeconds: number;
  toleranceSeconds?: number;
}): boolean {
  const parts = options.header.split(',').map((part) => part.trim().split('='));
  const t = Number(parts.find(([key]) => key === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(options.nowSeconds - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signatureOf(options.secret, t, options.body), 'hex');
  return parts
    .filter(([key, value]) => key === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value))
    .some(([, value]) => timingSafeEqual(Buffer.from(value!, 'hex'), expected));
}

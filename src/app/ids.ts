import { createHash, randomBytes } from 'node:crypto';

/** `950dd2eaff09-S`: 12 lowercase hex digits from a CSPRNG, then `-S`. */
export function newSessionId(): string {
  return `${randomBytes(6).toString('hex')}-S`;
}

/** 12 lowercase hex digits from a CSPRNG. */
export function newRequestId(): string {
  return randomBytes(6).toString('hex');
}

export function newApiKey(): string {
  return `rp_${randomBytes(32).toString('base64url')}`;
}

export function newKeyId(): string {
  return `key_${randomBytes(6).toString('hex')}`;
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

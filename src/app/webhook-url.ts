import { isIP } from 'node:net';
import { fail, ok, type Result } from '../domain/errors.js';

/** Cloud metadata endpoints and link-local ranges are refused by default: a webhook must never reach them. */
const DENIED_HOSTS = new Set(['metadata.google.internal', 'metadata', 'metadata.azure.internal', 'instance-data', 'instance-data.ec2.internal']);

function isDeniedAddress(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(bare) === 4) {
    const [a, b] = bare.split('.').map(Number);
    return (a === 169 && b === 254) || bare === '100.100.100.200' || bare === '0.0.0.0';
  }
  if (isIP(bare) === 6) {
    return /^fe[89ab]/.test(bare) || bare === 'fd00:ec2::254' || bare.startsWith('::ffff:169.254.') || bare === '::';
  }
  return DENIED_HOSTS.has(bare);
}

/** A webhook URL must be absolute http(s) and must not point at link-local or metadata addresses. */
export function checkWebhookUrl(raw: string): Result<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('VALIDATION_FAILED', `webhook_url is not a valid URL: ${JSON.stringify(raw.slice(0, 200))}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail('VALIDATION_FAILED', 'webhook_url must use http or https.');
  if (url.username || url.password) return fail('VALIDATION_FAILED', 'webhook_url must not carry credentials.');
  if (isDeniedAddress(url.hostname)) return fail('VALIDATION_FAILED', `webhook_url host ${url.hostname} is not allowed (link-local or cloud metadata address).`);
  return ok(url);
}

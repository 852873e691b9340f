/**
 * One webhook POST, with the target checked against the deny-list after DNS resolution and the
 * connection pinned to the address that was checked (so a second, different DNS answer cannot
 * slip a denied address past the check). Redirects are never followed.
 */
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isDeniedHostName, type WebhookDenyList } from '../../app/webhook-url.js';

export type PostOutcome =
  | { kind: 'delivered'; status: number }
  /** Worth retrying: non-2xx, timeout, connection or DNS error. */
  | { kind: 'failed'; status: number | null; error: string }
  /** Never worth retrying: the target is refused. */
  | { kind: 'refused'; error: string };

export interface PostRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  denyList: WebhookDenyList;
}

class DeadlineError extends Error {}

function withDeadline<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DeadlineError('deadline'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

type Target = { ok: true; address: string; family: 4 | 6 } | { ok: false; refused: boolean; error: string };

async function resolveTarget(url: URL, denyList: WebhookDenyList, signal: AbortSignal): Promise<Target> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isDeniedHostName(host))
    return { ok: false, refused: true, error: `refused: ${host} is a cloud metadata host name` };
  const literal = isIP(host);
  const addresses =
    literal !== 0
      ? [{ address: host, family: literal }]
      : await withDeadline(lookup(host, { all: true, verbatim: true }), signal);
  if (addresses.length === 0) return { ok: false, refused: false, error: `DNS: ${host} has no address` };
  // One denied address refuses the host: a name that mixes public and metadata addresses is an attack, not a mistake.
  const denied = addresses.find((a) => denyList.isDeniedAddress(a.address));
  if (denied)
    return {
      ok: false,
      refused: true,
      error: `refused: ${host} resolves to ${denied.address}, which the webhook deny-list (WEBHOOK_DENY_CIDRS) refuses`,
    };
  const first = addresses[0]!;
  return { ok: true, address: first.address, family: first.family === 6 ? 6 : 4 };
}

function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  // Node asks with `all: true` when it races address families; answer in the shape it asked for.
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}

function send(
  url: URL,
  request: PostRequest,
  target: { address: string; family: 4 | 6 },
  signal: AbortSignal,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(url, {
      method: 'POST',
      agent: false,
      signal,
      lookup: pinnedLookup(target.address, target.family),
      headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
    });
    req.on('response', (res) => {
      // The answer's body is not needed; drain it so the socket closes cleanly, within the deadline.
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

function describeFailure(error: unknown, timeoutMs: number, signal: AbortSignal): string {
  if (signal.aborted || error instanceof DeadlineError) return `timed out after ${timeoutMs} ms`;
  const code =
    typeof error === 'object' && error !== null && 'code' in error
      ? String((error as { code: unknown }).code)
      : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return `connection error: ${code && !message.includes(code) ? `${code} ` : ''}${message}`;
}

/** POSTs `body` to `url`; never throws for anything the receiver or the network does. */
export async function guardedPost(request: PostRequest): Promise<PostOutcome> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return { kind: 'refused', error: 'refused: the webhook URL is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { kind: 'refused', error: 'refused: the webhook URL is not http(s)' };
  const signal = AbortSignal.timeout(request.timeoutMs);
  try {
    const target = await resolveTarget(url, request.denyList, signal);
    if (!target.ok)
      return target.refused
        ? { kind: 'refused', error: target.error }
        : { kind: 'failed', status: null, error: target.error };
    const status = await send(url, request, target, signal);
    if (status >= 200 && status < 300) return { kind: 'delivered', status };
    if (status >= 300 && status < 400)
      return { kind: 'failed', status, error: `HTTP ${status}: redirects are not followed` };
    return { kind: 'failed', status, error: `HTTP ${status}` };
  } catch (error) {
    return { kind: 'failed', status: null, error: describeFailure(error, request.timeoutMs, signal) };
  }
}

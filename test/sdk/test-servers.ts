/** Small node:http servers for SDK failure tests: a flaky proxy, a silent server, a closed port. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export interface FlakyProxy {
  url: string;
  /** What it saw since the last failNext(), in order. */
  log: Array<{ method: string; status: number; idempotencyKey: string | undefined }>;
  /** The next `count` requests answer 503; the rest are forwarded to the real server. */
  failNext(count: number, options?: { retryAfterSeconds?: number }): void;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  let failuresLeft = 0;
  let retryAfter: number | undefined;
  const log: FlakyProxy['log'] = [];
  // A failed upstream fetch drops the client's connection: the SDK then sees a network error.
  const server = createServer((request, response) => {
    forward(request, response).catch(() => response.destroy());
  });
  async function forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const idempotencyKey = request.headers['idempotency-key'] as string | undefined;
    if (failuresLeft > 0) {
      failuresLeft--;
      log.push({ method: request.method ?? '', status: 503, idempotencyKey });
      response.writeHead(503, {
        'content-type': 'application/json',
        ...(retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}),
      });
      response.end(JSON.stringify({ message: 'Briefly unavailable.', code: 'SERVICE_UNAVAILABLE' }));
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type', 'idempotency-key']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const upstream = await fetch(`${target}${request.url}`, {
      method: request.method ?? 'GET',
      headers,
      ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
    });
    log.push({ method: request.method ?? '', status: upstream.status, idempotencyKey });
    response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    response.end(Buffer.from(await upstream.arrayBuffer()));
  }
  const url = await listen(server);
  return {
    url,
    log,
    failNext(count, options = {}) {
      failuresLeft = count;
      retryAfter = options.retryAfterSeconds;
      log.length = 0;
    },
    close: () => closeServer(server),
  };
}

/** Accepts requests and never answers them. */
export async function startSilentServer(): Promise<{ url: string; requests(): number; close(): Promise<void> }> {
  let count = 0;
  const server = createServer(() => {
    count++;
  });
  const url = await listen(server);
  return { url, requests: () => count, close: () => closeServer(server) };
}

/** A port that was just free on 127.0.0.1; connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const url = await listen(server);
  await closeServer(server);
  return Number(new URL(url).port);
}

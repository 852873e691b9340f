/** A real webhook receiver on 127.0.0.1 whose answers a test scripts request by request. */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  /** What this receiver answered; 'hang' when it never did. */
  answered: number | 'hang';
}

export type Answer = number | 'hang';

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** TCP connections open now, and the most that were ever open at once. */
  connections: ConnectionCount;
  /** Decides the answer to the n-th request (0-based) overall. */
  answer: (request: { headers: http.IncomingHttpHeaders; body: string; index: number }) => Answer;
  close(): Promise<void>;
}

export async function startReceiver(answer: Receiver['answer'] = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const receiver = { received, answer, connections: { open: 0, max: 0, total: 0 } } as Receiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answered = receiver.answer({ headers: req.headers, body, index: received.length });
      received.push({ headers: req.headers, body, answered });
      if (answered === 'hang') return;
      res
        .writeHead(answered, answered >= 300 && answered < 400 ? { location: 'http://169.254.169.254/' } : {})
        .end('ok');
    });
  });
  countConnections(server, receiver.connections);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.port = port;
  receiver.url = `http://127.0.0.1:${port}/hook`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

/** Received requests that carried this delivery id. */
export function ofDelivery(receiver: Receiver, deliveryId: string): Received[] {
  return receiver.received.filter((r) => r.headers['rallypoint-delivery-id'] === deliveryId);
}

export interface ConnectionCount {
  open: number;
  max: number;
  total: number;
}

function countConnections(server: net.Server, count: ConnectionCount): void {
  server.on('connection', (socket: net.Socket) => {
    count.open += 1;
    count.total += 1;
    count.max = Math.max(count.max, count.open);
    socket.on('close', () => {
      count.open -= 1;
    });
  });
}

export interface BlackHole {
  url: string;
  connections: ConnectionCount;
  close(): Promise<void>;
}

/**
 * A receiver that accepts every TCP connection, reads what is sent, and never answers a byte.
 * Several black holes may share one `connections` count.
 */
export async function startBlackHole(connections: ConnectionCount = { open: 0, max: 0, total: 0 }): Promise<BlackHole> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.resume();
  });
  countConnections(server, connections);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    connections,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

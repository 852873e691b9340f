/** A real webhook receiver on 127.0.0.1 whose answers a test scripts request by request. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

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
  /** Decides the answer to the n-th request (0-based) overall. */
  answer: (request: { headers: http.IncomingHttpHeaders; body: string; index: number }) => Answer;
  close(): Promise<void>;
}

export async function startReceiver(answer: Receiver['answer'] = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const receiver = { received, answer } as Receiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answered = receiver.answer({ headers: req.headers, body, index: received.length });
      received.push({ headers: req.headers, body, answered });
      if (answered === 'hang') return;
      res.writeHead(answered, answered >= 300 && answered < 400 ? { location: 'http://169.254.169.254/' } : {}).end('ok');
    });
  });
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

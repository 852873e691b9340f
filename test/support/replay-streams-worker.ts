/**
 * Worker thread of replay-load.ts: opens the replaying streams and reads each until its
 * organisation's last event, then posts the counts.
 */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

export interface ReplayStreamsInput {
  url: string;
  orgs: Array<{ keys: string[]; latest: number }>;
  perKey: number;
  timeoutMs: number;
}

export interface ReplayStreamsOutput {
  streams: number;
  /** Streams that received their organisation's last event. */
  completed: number;
  /** Streams refused or failed, by status or error. */
  refused: Record<string, number>;
  bytes: number;
  seconds: number;
}

async function run(input: ReplayStreamsInput): Promise<ReplayStreamsOutput> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const refused: Record<string, number> = {};
  let bytes = 0;
  let completed = 0;
  const requests: http.ClientRequest[] = [];
  const started = performance.now();
  const streams: Array<Promise<void>> = [];
  for (const org of input.orgs) {
    const lastBlock = `id: ${org.latest}\n`;
    for (const key of org.keys) {
      for (let i = 0; i < input.perKey; i++) {
        streams.push(
          new Promise<void>((resolve) => {
            let done = false;
            const finish = (failure?: string) => {
              if (done) return;
              done = true;
              if (failure !== undefined) refused[failure] = (refused[failure] ?? 0) + 1;
              resolve();
            };
            const headers = { authorization: `token ${key}`, accept: 'text/event-stream', 'last-event-id': '0' };
            const request = http.get(`${input.url}/v1/events`, { agent, headers }, (response) => {
              if (response.statusCode !== 200) {
                response.resume();
                return finish(String(response.statusCode));
              }
              const lastBlockBytes = Buffer.from(lastBlock);
              let tail = Buffer.alloc(0);
              response.on('data', (chunk: Buffer) => {
                bytes += chunk.length;
                // The last event ends the replay: look at the end of what arrived only.
                tail = Buffer.concat([tail.subarray(-64), chunk.subarray(-4096)]);
                if (!done && tail.includes(lastBlockBytes)) {
                  completed += 1;
                  finish();
                  request.destroy();
                }
              });
              response.on('error', (error) => finish(error.message));
              response.on('end', () => finish('ended early'));
            });
            request.on('error', (error) => finish(error.message));
            requests.push(request);
          }),
        );
      }
    }
  }
  const timeout = setTimeout(() => {
    for (const request of requests) request.destroy(new Error('timed out'));
  }, input.timeoutMs);
  await Promise.all(streams);
  clearTimeout(timeout);
  agent.destroy();
  return { streams: streams.length, completed, refused, bytes, seconds: (performance.now() - started) / 1000 };
}

if (parentPort) {
  const port = parentPort;
  void run(workerData as ReplayStreamsInput).then((output) => port.postMessage(output));
}

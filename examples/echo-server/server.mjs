// A tiny game server for trying Rallypoint's process and docker providers: it echoes every UDP
// datagram and every TCP byte back to the sender, on the ports Rallypoint gave it.
//
// It reads the environment an Edgegap game server gets:
//   ARBITRIUM_PORTS_MAPPING  {"ports": {"<name>": {"name", "internal", "external", "protocol", "link"}}}
//   ARBITRIUM_REQUEST_ID     its deployment's request_id
//   ARBITRIUM_CONTEXT_URL / ARBITRIUM_CONTEXT_TOKEN  to read its own deployment
//   ARBITRIUM_DELETE_URL / ARBITRIUM_DELETE_TOKEN    to stop its own deployment
// It listens on each port's `internal` number (inside a container, the engine maps it to
// `external` on the host; a local process gets internal == external).
//
// A few commands, sent as one UDP datagram or one TCP write, answer instead of echoing:
//   env      the ARBITRIUM_* variables it was started with, as JSON
//   context  what ARBITRIUM_CONTEXT_URL answered (HTTP status and body), as JSON
//   stop     stops its own deployment through ARBITRIUM_DELETE_URL (also: quit); answers the status
import dgram from 'node:dgram';
import net from 'node:net';

const host = process.env.ECHO_HOST ?? '0.0.0.0';
const requestId = process.env.ARBITRIUM_REQUEST_ID ?? 'local';
const mapping = JSON.parse(process.env.ARBITRIUM_PORTS_MAPPING ?? '{"ports":{}}');
const closers = [];

function log(message) {
  process.stdout.write(`${new Date().toISOString()} [${requestId}] ${message}\n`);
}

async function stopSelf() {
  const url = process.env.ARBITRIUM_DELETE_URL;
  if (!url) return 'no ARBITRIUM_DELETE_URL';
  const response = await fetch(url, {
    method: 'DELETE',
    headers: { authorization: process.env.ARBITRIUM_DELETE_TOKEN ?? '' },
  });
  log(`self-stop answered ${response.status}`);
  return `stop ${response.status}`;
}

async function readContext() {
  const url = process.env.ARBITRIUM_CONTEXT_URL;
  if (!url) return JSON.stringify({ error: 'no ARBITRIUM_CONTEXT_URL' });
  const response = await fetch(url, { headers: { authorization: process.env.ARBITRIUM_CONTEXT_TOKEN ?? '' } });
  return JSON.stringify({ status: response.status, body: await response.json().catch(() => null) });
}

const arbitriumEnv = () =>
  JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('ARBITRIUM_'))));

/** The answer to one message: a command's result, or the message itself. */
async function answer(message) {
  const text = message.toString().trim();
  try {
    if (text === 'env') return arbitriumEnv();
    if (text === 'context') return await readContext();
    if (text === 'stop' || text === 'quit') return await stopSelf();
  } catch (error) {
    return JSON.stringify({ error: String(error) });
  }
  return message;
}

for (const port of Object.values(mapping.ports)) {
  const protocol = String(port.protocol).toUpperCase();
  if (protocol.includes('UDP')) {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (message, from) => {
      void answer(message).then((reply) => socket.send(reply, from.port, from.address));
    });
    socket.bind(port.internal, host, () => log(`UDP echo on ${host}:${port.internal} (${port.name})`));
    closers.push(() => socket.close());
  }
  if (/TCP|HTTP|WS/.test(protocol)) {
    const server = net.createServer((connection) => {
      connection.on('data', (data) => {
        void answer(data).then((reply) => connection.write(reply));
      });
      connection.on('error', () => connection.destroy());
    });
    server.listen(port.internal, host, () => log(`TCP echo on ${host}:${port.internal} (${port.name})`));
    closers.push(() => server.close());
  }
}

// Rallypoint stops a deployment with SIGTERM, then SIGKILL after the grace period.
process.on('SIGTERM', () => {
  log('SIGTERM: closing');
  for (const close of closers) close();
  process.exit(0);
});
log(`started with ${Object.keys(mapping.ports).length} port(s)`);

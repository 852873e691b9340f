// A tiny game server for trying Rallypoint's process provider: it echoes every UDP datagram and
// every TCP byte back to the sender, on the ports Rallypoint gave it.
//
// It reads the environment an Edgegap game server gets:
//   ARBITRIUM_PORTS_MAPPING  {"ports": {"<name>": {"name", "internal", "external", "protocol", "link"}}}
//   ARBITRIUM_REQUEST_ID     its deployment's request_id
//   ARBITRIUM_DELETE_URL / ARBITRIUM_DELETE_TOKEN   to stop its own deployment
// It listens on each port's `internal` number (the process provider makes internal == external).
// Send it the UDP datagram or TCP line "quit" and it stops its own deployment through the delete URL.
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
  if (!url) return log('no ARBITRIUM_DELETE_URL; not stopping');
  const response = await fetch(url, { method: 'DELETE', headers: { authorization: process.env.ARBITRIUM_DELETE_TOKEN ?? '' } });
  log(`self-stop answered ${response.status}`);
}

for (const port of Object.values(mapping.ports)) {
  const protocol = String(port.protocol).toUpperCase();
  if (protocol.includes('UDP')) {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (message, from) => {
      if (message.toString().trim() === 'quit') void stopSelf();
      socket.send(message, from.port, from.address);
    });
    socket.bind(port.internal, host, () => log(`UDP echo on ${host}:${port.internal} (${port.name})`));
    closers.push(() => socket.close());
  }
  if (/TCP|HTTP|WS/.test(protocol)) {
    const server = net.createServer((connection) => {
      connection.on('data', (data) => {
        if (data.toString().trim() === 'quit') void stopSelf();
        connection.write(data);
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

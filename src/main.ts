/**
 * The composition root of `rallypoint serve` / `node dist/src/main.js`: settings, database,
 * service, listening socket, graceful shutdown. Every step that can fail at start ends the
 * process with one sentence on stderr and a non-zero exit (2: bad settings, 1: anything else).
 */
import { createServer } from 'node:net';
import { ConfigError, loadConfig, type Config } from './config.js';
import { isEntryModule } from './entry.js';
import { startService, type Service } from './service.js';
import { describeCause, describeDatabaseUrl, listenFailure, openCheckedDb, StartFailure } from './start-failure.js';

/** Fails before the database is touched (and before a first key is made) when the port is taken. */
async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error) => reject(listenFailure({ host, port }, error)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function printFirstKey(config: Config, key: string, address: string): void {
  process.stdout.write(
    `\nRallypoint created your organisation. Your API key (shown once, keep it safe):\n\n  ${key}\n\n` +
      `Use it as:  curl -H "Authorization: token ${key}" ${address}/v1/apps\n\n`,
  );
}

function logStartSummary(service: Service, config: Config, address: string): void {
  service.app.log.info(
    {
      database: config.databaseUrl
        ? describeDatabaseUrl(config.databaseUrl)
        : `embedded PostgreSQL in ${config.dataDir}`,
      providers: service.deps.providers.all().map((p) => p.name),
      listen: address,
      migrations_applied: service.migrationsApplied,
      schema_version: service.schemaVersion,
    },
    `rallypoint listening on ${address}`,
  );
}

async function start(env: NodeJS.ProcessEnv): Promise<void> {
  const config = loadConfig(env);
  await checkPortFree(config.host, config.port);
  const db = await openCheckedDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    embeddedPort: config.embeddedPort,
    poolSize: config.databasePoolSize,
    log: (message) => process.stderr.write(`rallypoint: ${message}\n`),
  });
  let service: Service;
  try {
    service = await startService({ config, db });
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error instanceof StartFailure ? error : new StartFailure(`could not start: ${describeCause(error)}`);
  }
  let address: string;
  try {
    address = await service.app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await service
      .close()
      .then(() => db.close())
      .catch(() => undefined);
    throw listenFailure(config, error);
  }
  // Printed only once the service listens: a key shown by a start that then failed would be a
  // key to a service that is not there (the operator recovers with `rallypoint admin keys create`).
  if (service.printedKey) printFirstKey(config, service.printedKey, address);
  logStartSummary(service, config, address);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    service.app.log.info({ signal }, 'draining');
    const force = setTimeout(() => process.exit(1), config.shutdownGraceMs).unref();
    service
      .close()
      .then(() => db.close())
      .then(
        () => {
          clearTimeout(force);
          process.exit(0);
        },
        (error) => {
          service.app.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Starts the service from the environment; on a start failure prints why and exits non-zero. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    await start(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(error.problems.map((problem) => `rallypoint: ${problem}\n`).join(''));
      process.exit(2);
    }
    const failure =
      error instanceof StartFailure ? error : new StartFailure(`could not start: ${describeCause(error)}`);
    process.stderr.write(`rallypoint: ${failure.message}\n`);
    process.exit(failure.exitCode);
  }
}

if (isEntryModule(import.meta.url)) void main();

import { ConfigError, loadConfig } from './config.js';
import { startService } from './service.js';

/** Starts the service from the environment and drains it on SIGTERM/SIGINT. */
export async function main(): Promise<void> {
  const config = loadConfig();
  const service = await startService({ config });
  if (service.printedKey) {
    process.stdout.write(
      `\nRallypoint created your organisation. Your API key (shown once, keep it safe):\n\n  ${service.printedKey}\n\n` +
        `Use it as:  curl -H "Authorization: token ${service.printedKey}" http://${config.host}:${config.port}/v1/apps\n\n`,
    );
  }
  await service.app.listen({ host: config.host, port: config.port });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    service.app.log.info({ signal }, 'draining');
    const force = setTimeout(() => process.exit(1), config.shutdownGraceMs).unref();
    service.close().then(
      () => { clearTimeout(force); process.exit(0); },
      (error) => { service.app.log.error({ err: error }, 'shutdown failed'); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(process.argv[1], 'file://').href;
if (isEntry) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}

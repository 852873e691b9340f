import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Whether the module at `moduleUrl` is the script node was started with. Real paths are
 * compared because an installed command (`npx rallypoint`, node_modules/.bin, a global install)
 * is a symlink: argv[1] names the link, import.meta.url the file it points to.
 */
export function isEntryModule(moduleUrl: string, argv1: string | undefined = process.argv[1]): boolean {
  if (argv1 === undefined) return false;
  try {
    return realpathSync(fileURLToPath(moduleUrl)) === realpathSync(argv1);
  } catch {
    return false;
  }
}

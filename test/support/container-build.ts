/**
 * What the Containerfile's build stage produces (/src with package.json, the compiled service,
 * its production dependencies, the built SDK workspace package they link to, and an empty data
 * directory), laid out on the host from this
 * checkout's build. No registry is reachable where the suite runs, so the build stage's
 * `npm ci` cannot run in a container there; the image is built with
 * `--build-context build=<this directory>` instead and the runtime stage copies from it.
 */
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';

interface LockEntry {
  dev?: boolean;
  link?: boolean;
  resolved?: string;
}

/** Lockfile paths (`node_modules/...`) of what `npm prune --omit=dev` would keep and this machine has. */
export function productionPackagePaths(repoRoot: string): string[] {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && entry.dev !== true)
    .map(([path]) => path)
    .filter((path) => existsSync(join(repoRoot, path)));
}

/** Directories of the workspace packages the production dependencies link to (`packages/sdk`). */
export function workspacePaths(repoRoot: string): string[] {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  return Object.entries(lock.packages)
    .filter(
      ([path, entry]) =>
        path.startsWith('node_modules/') && entry.dev !== true && entry.link === true && entry.resolved !== undefined,
    )
    .map(([, entry]) => entry.resolved!);
}

/** Fills `outDir` as the build stage fills its root; `repoRoot` must be built (`npm run build`). */
export function layOutBuildStage(repoRoot: string, outDir: string): void {
  const src = join(outDir, 'src');
  mkdirSync(join(src, 'data'), { recursive: true });
  cpSync(join(repoRoot, 'package.json'), join(src, 'package.json'));
  cpSync(join(repoRoot, 'dist/src'), join(src, 'dist/src'), { recursive: true });
  // Workspace packages (the SDK): node_modules holds a link to them; the runtime stage copies their package.json and dist/.
  for (const workspace of workspacePaths(repoRoot)) {
    cpSync(join(repoRoot, workspace, 'package.json'), join(src, workspace, 'package.json'));
    cpSync(join(repoRoot, workspace, 'dist'), join(src, workspace, 'dist'), { recursive: true });
  }
  for (const path of productionPackagePaths(repoRoot)) {
    const from = join(repoRoot, path);
    // Nested node_modules are entries of their own, dev-only ones included: copy each once.
    const nested = `${from}${sep}node_modules`;
    cpSync(from, join(src, path), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (source) => source !== nested && !source.startsWith(`${nested}${sep}`),
    });
  }
}

#!/usr/bin/env node
// Builds a Node.js base image from this machine's own `node` binary and the shared libraries it
// links (as `ldd` lists them), then `podman import`s it. For machines that cannot pull any base
// image (no registry reachable): the test suite, the benchmark and Rallypoint's own image start
// FROM it. Linux only; needs `ldd`, `tar` and `podman`.
//
// As a command:
//   node scripts/node-base-image.mjs [--tag NAME] [--force] [-- <podman global options>]
//   e.g. node scripts/node-base-image.mjs -- --root /tmp/store --runroot /tmp/run
// prints the image name (default localhost/rallypoint-node-base:<node version>).
// As a module:
//   import { buildNodeBaseImage } from './node-base-image.mjs';
//   const image = buildNodeBaseImage({ podman: ['podman', '--root', dir] });
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The name the image gets unless told otherwise: one per Node.js version. */
export function defaultNodeBaseTag(version = process.version) {
  return `localhost/rallypoint-node-base:${version}`;
}

/** Absolute paths of the shared libraries (and the loader) `ldd` says the binary needs. */
export function sharedLibrariesOf(binary) {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...out.matchAll(/(\/\S+)\s+\(0x[0-9a-f]+\)/g)].map((m) => m[1]);
}

function run(command, args, options) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (result.error) throw result.error;
  return result;
}

/** Lays out the image's root: node in /usr/local/bin (where the official images put it), its libraries, /tmp, users. */
function layRootfs(root, nodePath) {
  const binary = realpathSync(nodePath);
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  copyFileSync(binary, join(root, 'usr/local/bin/node'));
  chmodSync(join(root, 'usr/local/bin/node'), 0o755);
  for (const library of sharedLibrariesOf(binary)) {
    mkdirSync(join(root, dirname(library)), { recursive: true });
    copyFileSync(realpathSync(library), join(root, library));
  }
  mkdirSync(join(root, 'tmp'), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/false\nnode:x:1000:1000:node:/home/node:/bin/false\n',
  );
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
}

/**
 * Builds the image unless it already exists (or `force`). Returns its name.
 * `podman` is the command and its global options; `env` reaches podman (CONTAINERS_CONF...).
 */
export function buildNodeBaseImage({
  podman = ['podman'],
  env = process.env,
  tag = defaultNodeBaseTag(),
  nodePath = process.execPath,
  force = false,
} = {}) {
  const [command, ...globals] = podman;
  if (!force && run(command, [...globals, 'image', 'exists', tag], { env }).status === 0) return tag;
  const work = mkdtempSync(join(tmpdir(), 'rp-node-base-'));
  try {
    const root = join(work, 'rootfs');
    layRootfs(root, nodePath);
    const archive = join(work, 'rootfs.tar');
    const tar = run('tar', ['-C', root, '-cf', archive, '.']);
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
    const imported = run(
      command,
      [
        ...globals,
        'import',
        '--change',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--change',
        'CMD ["node"]',
        archive,
        tag,
      ],
      { env },
    );
    if (imported.status !== 0) throw new Error(`podman import failed (${imported.status}): ${imported.stderr}`);
    return tag;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const split = args.indexOf('--');
  const own = split === -1 ? args : args.slice(0, split);
  const globals = split === -1 ? [] : args.slice(split + 1);
  const tagAt = own.indexOf('--tag');
  const tag = tagAt === -1 ? defaultNodeBaseTag() : own[tagAt + 1];
  if (!tag || own.some((a, i) => a.startsWith('--') && a !== '--tag' && a !== '--force' && own[i - 1] !== '--tag')) {
    process.stderr.write(
      'usage: node scripts/node-base-image.mjs [--tag NAME] [--force] [-- <podman global options>]\n',
    );
    process.exit(2);
  }
  try {
    process.stdout.write(
      `${buildNodeBaseImage({ podman: ['podman', ...globals], tag, force: own.includes('--force') })}\n`,
    );
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

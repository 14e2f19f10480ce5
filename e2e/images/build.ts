// Builds skyport's images in order, each only when its content key has no archive in the cache yet, and records
// what it built in index.json beside the archives.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, parseEnvFile, repoRoot } from '../cluster/paths.js';
import { Buildah, KEY_LABEL } from './buildah.js';
import { collectInputs, contentKey } from './hash.js';
import { debianSourcesFor, readAptSources, sourceLine } from './sources.js';
import { imageRef, selectImages, type ImageSpec } from './spec.js';
import {
  mmdebstrapArgs,
  removeOthers,
  stageApp,
  stageGccStatic,
  stageNode,
  stageRootfs,
  stageWheels,
  type StageEnv,
} from './stage.js';

/** One image's entry in index.json. */
export interface BuiltImage {
  name: string;
  ref: string;
  /** docker-archive tarball: `ctr -n k8s.io images import`, `docker load -i`, `kind load image-archive`. */
  archive: string;
  key: string;
  bytes: number;
  /** Seconds the last build of this key took (staging + buildah + archive). */
  buildSeconds: number;
  /** Commit the archive was built from (a cache hit keeps the commit of the build it reuses). */
  revision: string;
  purpose: ImageSpec['purpose'];
}

/** What happened to one image in a run. */
export interface BuildOutcome extends BuiltImage {
  cached: boolean;
  /** Seconds this run spent on it (hashing only, on a hit). */
  seconds: number;
}

/** Options of {@link buildImages}. */
export interface BuildOptions {
  /** Image names (with their bases); all when empty. */
  names?: readonly string[];
  /** Rebuild even when the archive exists. */
  force?: boolean;
  /** Defaults to $SKYPORT_CACHE/images (~/.cache/skyport/images). */
  cacheDir?: string;
  log?: (msg: string) => void;
}

/** The images cache directory. */
export function imagesCacheDir(): string {
  return join(cacheRoot(), 'images');
}

/** Pins from images/versions.env. */
export function readImageVersions(root = repoRoot): Record<string, string> {
  const file = join(root, 'images', 'versions.env');
  return parseEnvFile(readFileSync(file, 'utf8'), file);
}

/** The commit checked out, with `-dirty` when the work tree has uncommitted changes; `unknown` outside git. */
export function sourceRevision(root = repoRoot): string {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      encoding: 'utf8',
    });
    return dirty.trim() === '' ? sha : `${sha}-dirty`;
  } catch {
    return 'unknown';
  }
}

/** Reads index.json (empty when missing). */
export function readIndex(cacheDir = imagesCacheDir()): Record<string, BuiltImage> {
  const file = join(cacheDir, 'index.json');
  if (!existsSync(file)) return {};
  return (JSON.parse(readFileSync(file, 'utf8')) as { images: Record<string, BuiltImage> }).images;
}

function writeIndex(cacheDir: string, images: Record<string, BuiltImage>): void {
  const file = join(cacheDir, 'index.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ images }, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** Settings that enter an image's key besides its files: pins, and for a rootfs the whole mmdebstrap command. */
function settingsOf(
  spec: ImageSpec,
  versions: Record<string, string>,
  sources: readonly string[],
): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pin of spec.pins) {
    const v = versions[pin];
    if (v === undefined)
      throw new Error(`images/versions.env: ${pin} (needed by image ${spec.name}) is missing`);
    settings[pin] = v;
  }
  if (spec.stage.kind === 'rootfs') {
    const suite = versions['DEBIAN_SUITE'] ?? 'bookworm';
    settings['mmdebstrap'] = JSON.stringify(mmdebstrapArgs(spec.stage.recipe, suite, 'OUT', sources));
  }
  return settings;
}

/** Inputs of every image: the code that stages contexts (changing how an image is made rebuilds it). */
export const STAGING_CODE: readonly string[] = ['e2e/images/stage.ts'];

/** The content key of every selected image, parents first; `common` files are inputs of each. */
export function imageKeys(
  specs: readonly ImageSpec[],
  root: string,
  versions: Record<string, string>,
  sources: readonly string[],
  common: readonly string[] = [],
): Map<string, string> {
  const keys = new Map<string, string>();
  for (const spec of specs) {
    const dir = `images/${spec.name}`;
    const parents: Record<string, string> = {};
    if (spec.base !== undefined) {
      const k = keys.get(spec.base);
      if (k === undefined) throw new Error(`image ${spec.name}: base ${spec.base} must come before it`);
      parents['BASE'] = k;
    }
    const files = collectInputs(root, {
      paths: [dir, ...common, ...spec.inputs.paths],
      exclude: spec.inputs.exclude ?? [],
    });
    const dockerfile = readFileSync(join(root, dir, 'Dockerfile'), 'utf8');
    keys.set(
      spec.name,
      contentKey({ dockerfile, files, settings: settingsOf(spec, versions, sources), parents }),
    );
  }
  return keys;
}

async function stage(env: StageEnv, spec: ImageSpec, ctx: string): Promise<void> {
  rmSync(ctx, { recursive: true, force: true });
  cpSync(join(env.repoRoot, 'images', spec.name), ctx, { recursive: true });
  const s = spec.stage;
  if (s.kind === 'rootfs') await stageRootfs(env, spec.name, s.recipe, ctx);
  else if (s.kind === 'node') await stageNode(env, ctx);
  else if (s.kind === 'app') await stageApp(env, s.workspace, ctx);
  else if (s.kind === 'wheels') await stageWheels(env, ctx);
  else if (s.kind === 'gcc-static') await stageGccStatic(ctx, s.source, s.output);
}

/** Builds (or finds in the cache) the selected images; returns one outcome per image, bases first. */
export async function buildImages(opts: BuildOptions = {}): Promise<BuildOutcome[]> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`[images] ${m}\n`));
  const cacheDir = opts.cacheDir ?? imagesCacheDir();
  mkdirSync(cacheDir, { recursive: true });
  const versions = readImageVersions();
  const specs = selectImages(opts.names ?? []);
  const needsRootfs = specs.some((s) => s.stage.kind === 'rootfs');
  const sources = needsRootfs
    ? debianSourcesFor(readAptSources(), versions['DEBIAN_SUITE'] ?? 'bookworm').map(sourceLine)
    : [];
  const keys = imageKeys(specs, repoRoot, versions, sources, STAGING_CODE);
  const index = readIndex(cacheDir);
  const buildah = new Buildah(join(cacheDir, 'buildah'));
  const env: StageEnv = { repoRoot, cacheDir, versions, aptSources: sources, log };
  const revision = sourceRevision();
  const outcomes: BuildOutcome[] = [];
  for (const spec of specs) {
    const t0 = performance.now();
    const key = keys.get(spec.name) ?? '';
    const ref = imageRef(spec.name);
    const archive = join(cacheDir, `${spec.name}-${key.slice(0, 16)}.tar`);
    const prev = index[spec.name];
    if (!opts.force && existsSync(archive) && prev?.key === key) {
      outcomes.push({ ...prev, archive, cached: true, seconds: (performance.now() - t0) / 1000 });
      continue;
    }
    log(`${spec.name}: building ${ref} (key ${key.slice(0, 16)})`);
    const buildArgs: Record<string, string> = {};
    if (spec.base !== undefined) {
      buildArgs['BASE'] = imageRef(spec.base);
      await ensureInStorage(buildah, spec.base, keys.get(spec.base) ?? '', cacheDir);
    }
    const ctx = join(cacheDir, 'context', spec.name);
    await stage(env, spec, ctx);
    const labels = {
      'org.opencontainers.image.title': `skyport-${spec.name}`,
      'org.opencontainers.image.revision': revision,
      'org.opencontainers.image.source': 'skyport',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      [KEY_LABEL]: key,
    };
    await buildah.bud(ctx, ref, buildArgs, labels);
    await buildah.save(ref, `${archive}.tmp`);
    renameSync(`${archive}.tmp`, archive);
    removeOthers(cacheDir, `${spec.name}-`, archive);
    rmSync(ctx, { recursive: true, force: true });
    const seconds = (performance.now() - t0) / 1000;
    const built: BuiltImage = {
      name: spec.name,
      ref,
      archive,
      key,
      bytes: statSync(archive).size,
      buildSeconds: Math.round(seconds * 10) / 10,
      revision,
      purpose: spec.purpose,
    };
    index[spec.name] = built;
    writeIndex(cacheDir, index);
    outcomes.push({ ...built, cached: false, seconds });
  }
  if (outcomes.some((o) => !o.cached)) await buildah.prune();
  return outcomes;
}

/** Makes sure buildah's storage holds the base image with the wanted key (loading its archive when not). */
async function ensureInStorage(buildah: Buildah, name: string, key: string, cacheDir: string): Promise<void> {
  if ((await buildah.keyOf(imageRef(name))) === key) return;
  const archive = join(cacheDir, `${name}-${key.slice(0, 16)}.tar`);
  if (!existsSync(archive))
    throw new Error(`base image ${name} (key ${key.slice(0, 16)}) has no archive in ${cacheDir}`);
  await buildah.load(archive);
}

// `npm run generate`: writes crds/ and the chart's generated files; `--check` lists stale ones and exits 1.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_DIRS, renderAll } from './render.js';

/** The repository root (this file lives in operator/scripts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A generated file that differs from what the source renders, or should not exist. */
export interface StaleFile {
  path: string;
  problem: 'missing' | 'outdated' | 'unexpected';
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** Compares the rendered files with the tree under `root`. */
export function findStale(root: string, files: Map<string, string>): StaleFile[] {
  const stale: StaleFile[] = [];
  for (const [path, content] of files) {
    const onDisk = readOrNull(join(root, path));
    if (onDisk === null) stale.push({ path, problem: 'missing' });
    else if (onDisk !== content) stale.push({ path, problem: 'outdated' });
  }
  for (const dir of GENERATED_DIRS) {
    const entries = listDir(join(root, dir));
    for (const entry of entries) {
      const path = `${dir}/${entry}`;
      if (!files.has(path) && entry !== '.gitkeep') stale.push({ path, problem: 'unexpected' });
    }
  }
  return stale.sort((a, b) => a.path.localeCompare(b.path));
}

/** Writes the rendered files under `root` and removes unexpected ones from generated directories. */
export function writeAll(root: string, files: Map<string, string>): StaleFile[] {
  const stale = findStale(root, files);
  for (const { path, problem } of stale) {
    const abs = join(root, path);
    if (problem === 'unexpected') {
      rmSync(abs);
      continue;
    }
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, files.get(path) ?? '');
  }
  return stale;
}

async function main(argv: readonly string[]): Promise<number> {
  const files = await renderAll();
  const check = argv.includes('--check');
  if (check) {
    const stale = findStale(REPO_ROOT, files);
    if (stale.length === 0) {
      console.log('Generated files are up to date');
      return 0;
    }
    console.error('Generated files are stale; run `npm run generate`:');
    for (const s of stale) console.error(`  ${s.problem.padEnd(10)} ${s.path}`);
    return 1;
  }
  const changed = writeAll(REPO_ROOT, files);
  for (const s of changed)
    console.log(
      `${s.problem === 'unexpected' ? 'removed' : 'wrote'} ${relative('.', join(REPO_ROOT, s.path))}`,
    );
  if (changed.length === 0) console.log('Generated files were already up to date');
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

// Content keys for image caching: an image is rebuilt only when its Dockerfile, its inputs, its pins or its
// parent image's key change. Pure except for listing and reading the input files.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';

/** One input file as it enters a key: repo-relative path (forward slashes), executable bit, content hash. */
export interface InputFile {
  path: string;
  executable: boolean;
  /** sha256 of the content, or of the link target for a symbolic link (prefixed `link:`). */
  sha256: string;
}

/** Everything an image's content depends on. */
export interface KeyParts {
  /** The Dockerfile's text. */
  dockerfile: string;
  /** The files staged into or compiled into the build context. */
  files: readonly InputFile[];
  /** Pins and build settings (for example NODE_VERSION, the rootfs recipe) by name. */
  settings: Readonly<Record<string, string>>;
  /** Parent images' keys by role (for example `{ BASE: '…' }`); empty for `FROM scratch`. */
  parents: Readonly<Record<string, string>>;
}

/** Bumped when the way images are staged changes, so every cached image is rebuilt once. */
export const KEY_SCHEMA = 'skyport-images/1';

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Entries sorted by key, so a record's insertion order never changes a key. */
function sortedEntries(rec: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The content key of an image: sha256 (hex) over a canonical encoding of its parts. File order, record key
 * order and anything not in `parts` (timestamps, owners, the source commit) do not change it.
 */
export function contentKey(parts: KeyParts): string {
  const seen = new Set<string>();
  for (const f of parts.files) {
    if (seen.has(f.path)) throw new Error(`contentKey: input ${f.path} is listed twice`);
    seen.add(f.path);
  }
  const files = [...parts.files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => [f.path, f.executable ? 'x' : '-', f.sha256]);
  const canonical = JSON.stringify({
    schema: KEY_SCHEMA,
    dockerfile: sha256(parts.dockerfile),
    files,
    settings: sortedEntries(parts.settings),
    parents: sortedEntries(parts.parents),
  });
  return sha256(canonical);
}

/** Which files of a tree count as inputs. */
export interface InputSelection {
  /** Repo-relative files or directories (directories are walked recursively). */
  paths: readonly string[];
  /** Repo-relative paths (forward slashes) matching any of these are skipped, with everything under them. */
  exclude?: readonly RegExp[];
}

/** Always skipped: installed or built output, never a source of an image. */
export const ALWAYS_EXCLUDED: readonly RegExp[] = [
  /(^|\/)node_modules(\/|$)/,
  /(^|\/)dist(\/|$)/,
  /(^|\/)\.git(\/|$)/,
];

/**
 * Lists and hashes the input files under `root`. Throws with the path when a listed input is missing, so a
 * renamed source file cannot silently drop out of the key.
 */
export function collectInputs(root: string, sel: InputSelection): InputFile[] {
  const exclude = [...ALWAYS_EXCLUDED, ...(sel.exclude ?? [])];
  const out: InputFile[] = [];
  const visit = (rel: string): void => {
    if (exclude.some((re) => re.test(rel))) return;
    const abs = join(root, rel);
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (st === undefined) throw new Error(`image input ${rel} does not exist under ${root}`);
    if (st.isSymbolicLink()) {
      out.push({ path: rel, executable: false, sha256: `link:${sha256(readlinkSync(abs))}` });
    } else if (st.isDirectory()) {
      for (const name of readdirSync(abs).sort()) visit(posix.join(rel, name));
    } else if (st.isFile()) {
      out.push({ path: rel, executable: (st.mode & 0o111) !== 0, sha256: sha256(readFileSync(abs)) });
    }
  };
  for (const p of sel.paths) visit(posix.normalize(p).replace(/\/$/, ''));
  // Overlapping selections (a directory and a file inside it) list a file once.
  const byPath = new Map(out.map((f) => [f.path, f]));
  return [...byPath.values()];
}

// Where the local control plane's binaries, caches and run state live, derived from versions.env.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The e2e/cluster folder (holds versions.env, build.sh and the kwok stages). */
export const clusterToolkitDir = dirname(fileURLToPath(import.meta.url));

/** The repository root. */
export const repoRoot = resolve(clusterToolkitDir, '..', '..');

/** Pinned versions from versions.env. */
export interface Versions {
  K8S_VERSION: string;
  KWOK_VERSION: string;
  ETCD_VERSION: string;
  [key: string]: string;
}

/** Parses a shell `KEY=value` file, ignoring comments and blank lines; throws on a malformed line. */
export function parseEnvFile(text: string, source = 'env file'): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined)
      throw new Error(`${source}:${i + 1}: expected KEY=value, got "${line}"`);
    out[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  });
  return out;
}

/** Reads e2e/cluster/versions.env. */
export function readVersions(): Versions {
  const file = join(clusterToolkitDir, 'versions.env');
  const env = parseEnvFile(readFileSync(file, 'utf8'), file);
  for (const k of ['K8S_VERSION', 'KWOK_VERSION', 'ETCD_VERSION'] as const) {
    if (!env[k]) throw new Error(`${file}: ${k} is missing`);
  }
  return env as Versions;
}

/** Root of skyport's caches: $SKYPORT_CACHE or ~/.cache/skyport (same rule as build.sh). */
export function cacheRoot(): string {
  return process.env.SKYPORT_CACHE ?? join(homedir(), '.cache', 'skyport');
}

/** The versioned control-plane cache directory build.sh fills. */
export function controlPlaneCacheDir(v: Versions = readVersions()): string {
  return join(cacheRoot(), `cp-${v.K8S_VERSION}-kwok-${v.KWOK_VERSION}-etcd-${v.ETCD_VERSION}`);
}

/** Directory with kube-apiserver, kube-controller-manager, kube-scheduler, kwok, etcd, kubectl and helm. */
export function binDir(): string {
  return process.env.SKYPORT_BIN_DIR ?? join(controlPlaneCacheDir(), 'bin');
}

/** The versioned cache directory of the real node's binaries (`build.sh --real-node` fills its bin/). */
export function nodeCacheDir(v: Versions = readVersions()): string {
  const need = ['CONTAINERD_VERSION', 'COREDNS_VERSION'].filter((k) => !v[k]);
  if (need.length > 0) throw new Error(`versions.env: ${need.join(', ')} missing`);
  return join(
    cacheRoot(),
    `node-${v.K8S_VERSION}-containerd-${v.CONTAINERD_VERSION}-coredns-${v.COREDNS_VERSION}`,
  );
}

/** Default state directory of the cluster `npm run cluster:up` starts. */
export function defaultRunDir(): string {
  return join(cacheRoot(), 'run');
}

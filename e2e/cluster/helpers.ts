// Test helpers on top of the local cluster: polling, namespaces, ServiceAccount tokens, failure dumps.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKubeconfig } from './kubeconfig.js';
import { tailFile } from './process.js';
import { readClusterState } from './cluster.js';
import { kubectl, type RunOptions } from './tools.js';

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Named in the timeout error. */
  description?: string;
}

/**
 * Calls `fn` until it returns without throwing (and, if it returns a boolean, returns `true`); resolves
 * with its result. After `timeoutMs` (default 30 s) throws with the last error, so failures say why.
 */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  opts: EventuallyOptions = {},
): Promise<Exclude<T, false>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let attempt = 1; ; attempt++) {
    try {
      const v = await fn();
      if (v !== false) return v as Exclude<T, false>;
      last = new Error('condition returned false');
    } catch (err) {
      last = err;
    }
    if (Date.now() + intervalMs > deadline) {
      const why = last instanceof Error ? last.message : String(last);
      throw new Error(
        `eventually${opts.description ? ` (${opts.description})` : ''} gave up after ${timeoutMs} ms and ${attempt} attempts: ${why}`,
        { cause: last },
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A DNS-1123 name `<prefix>-<random>` that is unique per call. */
export function uniqueName(prefix = 'e2e'): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'e2e';
  return `${clean}-${randomBytes(4).toString('hex')}`;
}

/** Creates a namespace with a unique name (labelled for cleanup); resolves with its name. */
export async function createNamespace(prefix = 'e2e', opts: RunOptions = {}): Promise<string> {
  const name = uniqueName(prefix);
  const manifest = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'skyport.io/e2e': 'true' } },
  });
  await kubectl(['create', '-f', '-'], { ...opts, input: manifest });
  return name;
}

/** Deletes a namespace without waiting for its finalisation. */
export async function deleteNamespace(name: string, opts: RunOptions = {}): Promise<void> {
  await kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found'], opts);
}

/** Issues a token for `ns/sa` via the TokenRequest API (like `kubectl create token`). */
export async function serviceAccountToken(
  ns: string,
  sa: string,
  opts: RunOptions & { durationSeconds?: number } = {},
): Promise<string> {
  const out = await kubectl(
    ['create', 'token', sa, '-n', ns, `--duration=${opts.durationSeconds ?? 3600}s`],
    opts,
  );
  const token = out.trim();
  if (token.split('.').length !== 3) throw new Error(`kubectl create token ${ns}/${sa} returned no JWT`);
  return token;
}

/**
 * Writes a kubeconfig that authenticates with `token` against the same server and CA as `baseKubeconfig`
 * (default $SKYPORT_KUBECONFIG); resolves with its path. Use it to run a process as a ServiceAccount.
 */
export function kubeconfigForToken(
  token: string,
  opts: { baseKubeconfig?: string; userName?: string; namespace?: string; path?: string } = {},
): string {
  const base = opts.baseKubeconfig ?? process.env.SKYPORT_KUBECONFIG;
  if (!base) throw new Error('kubeconfigForToken: no base kubeconfig (set SKYPORT_KUBECONFIG)');
  const text = readFileSync(base, 'utf8');
  const server = /server:\s*(\S+)/.exec(text)?.[1];
  const caData = /certificate-authority-data:\s*(\S+)/.exec(text)?.[1];
  if (!server || !caData) throw new Error(`${base}: no server or certificate-authority-data`);
  const file = opts.path ?? join(tmpdir(), `${uniqueName('kubeconfig-token')}.yaml`);
  writeFileSync(
    file,
    buildKubeconfig({
      clusterName: 'skyport-local',
      server,
      caPem: Buffer.from(caData, 'base64').toString('utf8'),
      user: { name: opts.userName ?? 'token-user', token },
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
    }),
    { mode: 0o600 },
  );
  return file;
}

const KINDS = 'all,persistentvolumeclaims,configmaps,serviceaccounts,roles,rolebindings,events';

/**
 * Collects what a failed e2e test needs: events, resource YAML in `namespace`, nodes and PVs, the tail of
 * each control-plane component's log and of `extraLogFiles` (e.g. the operator's). Never throws.
 */
export async function dumpDiagnostics(
  namespace: string,
  extraLogFiles: string[] = [],
  opts: RunOptions & { lines?: number } = {},
): Promise<string> {
  const lines = opts.lines ?? 40;
  const parts: string[] = [`===== diagnostics for namespace ${namespace} =====`];
  const section = async (title: string, args: string[]): Promise<void> => {
    try {
      parts.push(`----- ${title} -----`, await kubectl(args, opts));
    } catch (err) {
      parts.push(`----- ${title} (failed) -----`, (err as Error).message);
    }
  };
  await section('events', ['get', 'events', '-n', namespace, '--sort-by=.lastTimestamp']);
  await section('resources', ['get', KINDS, '-n', namespace, '-o', 'wide']);
  await section('resource YAML', ['get', `${KINDS.replace(',events', '')}`, '-n', namespace, '-o', 'yaml']);
  await section('nodes', ['get', 'nodes', '-o', 'wide']);
  await section('persistentvolumes', ['get', 'pv']);
  const kubeconfig = opts.kubeconfig ?? process.env.SKYPORT_KUBECONFIG;
  const clusterDir = kubeconfig ? join(kubeconfig, '..') : undefined;
  const state = clusterDir ? readClusterState(clusterDir) : undefined;
  for (const file of [...(state?.components.map((c) => c.logFile) ?? []), ...extraLogFiles]) {
    parts.push(`----- tail of ${file} -----`, existsSync(file) ? tailFile(file, lines) : '(missing)');
  }
  return parts.join('\n');
}

// How a process in a pod reaches the apiserver: KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount's mounted token
// and CA. The query runner patches its progress with it; the TAP service reads and watches QueryJobs; the cutout
// results server reads CutoutJobs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** How to reach the apiserver: its URL, a token (read at each call: projected tokens rotate) and its CA. */
export interface KubeAccess {
  readonly server: string;
  readonly token: () => string;
  /** The apiserver's CA (PEM); the system's CAs when unset. */
  readonly ca?: string | Buffer;
}

/** The standard mount of a pod's ServiceAccount token and CA. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** In-cluster access (KUBERNETES_SERVICE_HOST/PORT and the mounted token), or undefined outside a pod. */
export function inClusterAccess(
  env: Readonly<Record<string, string | undefined>> = process.env,
  dir = SERVICE_ACCOUNT_DIR,
): KubeAccess | undefined {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (host === undefined || host === '') return undefined;
  let ca: Buffer;
  try {
    ca = readFileSync(join(dir, 'ca.crt'));
  } catch {
    return undefined;
  }
  const h = host.includes(':') ? `[${host}]` : host;
  return { server: `https://${h}:${port}`, token: () => readFileSync(join(dir, 'token'), 'utf8').trim(), ca };
}

/**
 * In-cluster access with the pod's namespace, for a process that cannot work outside a pod: throws naming what is
 * missing (KUBERNETES_SERVICE_HOST, or the CA file).
 */
export function podAccess(
  env: Readonly<Record<string, string | undefined>>,
  dir = SERVICE_ACCOUNT_DIR,
): KubeAccess & { namespace: string } {
  const access = inClusterAccess(env, dir);
  if (access === undefined)
    throw new Error(
      env['KUBERNETES_SERVICE_HOST'] === undefined || env['KUBERNETES_SERVICE_HOST'] === ''
        ? 'KUBERNETES_SERVICE_HOST is not set: not running in a Kubernetes pod'
        : `the ServiceAccount CA ${join(dir, 'ca.crt')} cannot be read`,
    );
  return { ...access, namespace: readFileSync(join(dir, 'namespace'), 'utf8').trim() };
}

// The operator as a real Deployment on the local cluster's real node: the image built by `npm run images` imported
// into the node's containerd, the chart installed by `helm install` into a namespace that enforces Pod Security
// "restricted", and both replicas waited for through the probes the real kubelet calls.
import { chmodSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, helm, kubectl, kubectlJson, repoRoot } from '../cluster/index.js';
import { builtImage, importBuiltImages } from '../cluster/node/node.js';

/** Options of {@link deployOperator}. */
export interface DeployOptions {
  kubeconfig: string;
  /** The cluster's state dir (its real node's containerd receives the image). */
  clusterDir: string;
  release?: string;
  namespace?: string;
  /** Namespaces the operator watches (all when empty). */
  watchNamespaces?: readonly string[];
  /** More `helm install` arguments (`--set …`). */
  helmArgs?: readonly string[];
  timeoutMs?: number;
  log?: (msg: string) => void;
}

/** An installed release. */
export interface DeployedOperator {
  release: string;
  namespace: string;
  /** The Deployment's and the leader election Lease's name (the release's full name). */
  name: string;
  image: string;
}

/** The chart's full name for a release (`<release>` when it contains the chart name, else `<release>-skyport`). */
export const fullName = (release: string): string =>
  release.includes('skyport') ? release : `${release}-skyport`;

/** Pod Security labels of the operator's namespace: "restricted" enforced, warned and audited. */
export const RESTRICTED_LABELS = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
} as const;

/**
 * Imports the operator image, creates the namespace with Pod Security "restricted", runs `helm install` of
 * charts/skyport with the image (`imagePullPolicy: IfNotPresent`) and waits until every replica is Ready.
 */
export async function deployOperator(o: DeployOptions): Promise<DeployedOperator> {
  const release = o.release ?? 'skyport';
  const namespace = o.namespace ?? 'skyport-system';
  const run = { kubeconfig: o.kubeconfig };
  const log = o.log ?? (() => undefined);
  const t0 = Date.now();
  const [image = ''] = await importBuiltImages(o.clusterDir, ['operator']);
  log(`Imported ${image} into the real node (${Date.now() - t0} ms)`);
  const colon = image.lastIndexOf(':');
  await kubectl(['apply', '-f', '-'], {
    ...run,
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: RESTRICTED_LABELS },
    }),
  });
  await helm(
    [
      'install',
      release,
      join(repoRoot, 'charts', 'skyport'),
      '-n',
      namespace,
      '--set',
      `image.repository=${image.slice(0, colon)}`,
      '--set',
      `image.tag=${image.slice(colon + 1)}`,
      '--set',
      'image.pullPolicy=IfNotPresent',
      '--set-json',
      `operator.watchNamespaces=${JSON.stringify(o.watchNamespaces ?? [])}`,
      ...(o.helmArgs ?? []),
    ],
    { ...run, timeoutMs: 120_000 },
  );
  const name = fullName(release);
  await eventually(
    async () => {
      const d = await kubectlJson<{ spec: { replicas: number }; status: { readyReplicas?: number } }>(
        ['get', 'deployment', name, '-n', namespace],
        run,
      );
      if ((d.status.readyReplicas ?? 0) < d.spec.replicas)
        throw new Error(`${d.status.readyReplicas ?? 0}/${d.spec.replicas} operator replicas Ready`);
    },
    { timeoutMs: o.timeoutMs ?? 180_000, intervalMs: 500, description: `Deployment ${name} Ready` },
  );
  log(`Operator Deployment ${namespace}/${name} Ready (${Date.now() - t0} ms)`);
  return { release, namespace, name, image };
}

/** `helm uninstall` and the namespace deleted (CRDs stay, as with any uninstall). */
export async function undeployOperator(kubeconfig: string, d: DeployedOperator): Promise<void> {
  await helm(['uninstall', d.release, '-n', d.namespace, '--wait', '--timeout', '60s'], {
    kubeconfig,
    timeoutMs: 90_000,
  }).catch(() => undefined);
  await kubectl(['delete', 'namespace', d.namespace, '--ignore-not-found', '--wait=false'], { kubeconfig });
}

/** The holder of the operator's leader election Lease ('' when none). */
export async function leaseHolder(kubeconfig: string, d: DeployedOperator): Promise<string> {
  return kubectl(['get', 'lease', d.name, '-n', d.namespace, '-o', 'jsonpath={.spec.holderIdentity}'], {
    kubeconfig,
  }).catch(() => '');
}

/**
 * The local provisioner's home volumes are hostPath directories it creates as root with mode 0755, which a lab
 * running as uid 1000 cannot write. Makes every bound hostPath volume of a claim in `namespace` writable.
 * Until the provisioner creates them writable itself; a no-op for directories that already are.
 */
export async function openHostPathVolumes(kubeconfig: string, namespace: string): Promise<number> {
  const pvs = await kubectlJson<{
    items: { spec: { hostPath?: { path: string }; claimRef?: { namespace?: string } } }[];
  }>(['get', 'pv'], { kubeconfig });
  let opened = 0;
  for (const pv of pvs.items) {
    const path = pv.spec.hostPath?.path;
    if (path === undefined || pv.spec.claimRef?.namespace !== namespace || !existsSync(path)) continue;
    if ((statSync(path).mode & 0o777) !== 0o777) {
      chmodSync(path, 0o777);
      opened++;
    }
  }
  return opened;
}

/** True when the images the real operator needs were built by `npm run images`. */
export function operatorImageBuilt(): boolean {
  return builtImage('operator') !== undefined;
}

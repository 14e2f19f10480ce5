// Vitest global setup of the e2e project: one local cluster for the whole run, torn down afterwards.
// Set SKYPORT_KUBECONFIG to reuse a running cluster (e.g. from `npm run cluster:up`) instead.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startCluster, type ClusterHandle } from './cluster.js';
import { spawnWatchdog } from './owner.js';
import { kubectl } from './tools.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig of the local cluster (also in env SKYPORT_KUBECONFIG). */
    skyportKubeconfig: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const reuse = process.env.SKYPORT_KUBECONFIG;
  if (reuse) {
    // Fail early and clearly if the cluster named by the env var is not answering.
    await kubectl(['get', '--raw', '/readyz'], { kubeconfig: reuse, timeoutMs: 10_000 }).catch(
      (err: unknown) => {
        throw new Error(
          `SKYPORT_KUBECONFIG=${reuse} is set but its apiserver is not ready: ${(err as Error).message}`,
        );
      },
    );
    project.provide('skyportKubeconfig', reuse);
    return undefined;
  }
  const t0 = Date.now();
  // SKYPORT_REAL_NODE=1 adds the real node (containerd, kubelet, kube-proxy, CoreDNS) and taints kwok's.
  const cluster: ClusterHandle = await startCluster({ log: (m) => console.log(`[cluster] ${m}`) });
  console.log(`[cluster] Started local cluster for e2e in ${Date.now() - t0} ms (${cluster.dir})`);
  const keepDir = process.env.SKYPORT_KEEP_CLUSTER === '1';
  // If this process dies without running the teardown (SIGKILL, a signal vitest does not handle), the
  // watchdog stops every component and undoes the real node's host changes.
  spawnWatchdog(cluster.dir, { removeDir: !keepDir });
  // Workers are forked after global setup, so they inherit this; provide() covers inject() users.
  process.env.SKYPORT_KUBECONFIG = cluster.kubeconfigPath;
  project.provide('skyportKubeconfig', cluster.kubeconfigPath);
  return async () => {
    await cluster.stop({ removeDir: !keepDir });
    console.log(`[cluster] Stopped local cluster${keepDir ? ` (state kept in ${cluster.dir})` : ''}`);
  };
}

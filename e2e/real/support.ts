// Helpers of the "real" e2e tier.
import { kubectl } from '../cluster/index.js';
import { REAL_NODE_NAME } from '../cluster/node/config.js';

/** Why the real tier cannot run against this cluster, or undefined when its real node is Ready. */
export async function realNodeSkipReason(kubeconfig: string): Promise<string | undefined> {
  try {
    const ready = await kubectl(
      ['get', 'node', REAL_NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'],
      { kubeconfig },
    );
    return ready === 'True' ? undefined : `node ${REAL_NODE_NAME} is not Ready`;
  } catch {
    return `the cluster has no real node ${REAL_NODE_NAME}; start it with SKYPORT_REAL_NODE=1`;
  }
}

// Makes client-node 1.4 reuse one keep-alive HTTPS agent per apiserver instead of one per request.
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

type CreateAgent = (
  cluster: { server?: string; proxyUrl?: string } | null,
  opts: https.AgentOptions,
) => unknown;

/**
 * Makes client-node reuse one keep-alive HTTPS agent per apiserver. client-node 1.4
 * builds a new https.Agent for every request (`KubeConfig.createAgent`): a TLS handshake and a fresh secure
 * context per call, which under load costs more CPU and memory than the reconciles themselves. The agent options
 * (CA, client certificate) are fixed per kubeconfig; bearer tokens travel in headers, so sharing is safe.
 */
export function shareKeepAliveAgents(kc: KubeConfig, maxSockets: number): KubeConfig {
  // createAgent is private in the typings but a plain method at run time (client-node 1.4.0, pinned).
  const target = kc as unknown as { createAgent: CreateAgent };
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, https.Agent>();
  target.createAgent = (cluster, opts) => {
    const server = cluster?.server ?? '';
    if (cluster?.proxyUrl !== undefined || !server.startsWith('https:')) return original(cluster, opts);
    let agent = agents.get(server);
    if (agent === undefined) {
      agent = new https.Agent({ ...opts, keepAlive: true, maxSockets });
      agents.set(server, agent);
    }
    return agent;
  };
  return kc;
}

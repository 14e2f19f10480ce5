// The real node's NetworkPolicy agent: kube-router's network policy controller alone (iptables + ipset), run as
// a host process beside the CNI bridge. Why not SIG Network's kube-network-policies: ADR 0005 ("NetworkPolicy").
import { execFileSync } from 'node:child_process';

/** Name of the policy agent's client identity (certificate CN) and of its RBAC objects. */
export const POLICY_AGENT_USER = 'system:skyport:kube-router';
const RBAC_NAME = 'skyport:kube-router';

/** The filter-table chain kube-router jumps to from FORWARD once its policy rules are in place. */
export const POLICY_FORWARD_CHAIN = 'KUBE-ROUTER-FORWARD';

/** Prefixes of the ipsets kube-router's policy controller creates (IPv6 sets carry `inet6:`). */
export const OUR_IPSET_PREFIXES = ['KUBE-SRC-', 'KUBE-DST-', 'inet6:KUBE-SRC-', 'inet6:KUBE-DST-'];

/** What {@link policyAgentArgs} needs. */
export interface PolicyAgentInputs {
  kubeconfig: string;
  nodeName: string;
  serviceCidr: string;
  /** How often kube-router re-syncs every rule even without an event (its own default is 5 min). */
  syncPeriod: string;
}

/**
 * kube-router's flags: the firewall (NetworkPolicy) controller only — no BGP routing, no service proxy
 * (kube-proxy does that), no CNI config, no load balancer — and no listening sockets (health and metrics off).
 */
export function policyAgentArgs(i: PolicyAgentInputs): string[] {
  return [
    `--kubeconfig=${i.kubeconfig}`,
    `--hostname-override=${i.nodeName}`,
    '--run-firewall=true',
    '--run-router=false',
    '--run-service-proxy=false',
    '--run-loadbalancer=false',
    '--enable-cni=false',
    '--enable-ipv4=true',
    '--enable-ipv6=false',
    `--service-cluster-ip-range=${i.serviceCidr}`,
    `--iptables-sync-period=${i.syncPeriod}`,
    '--health-port=0',
    '--metrics-port=0',
    '--v=1',
  ];
}

/** The ClusterRole and binding the policy agent's client certificate needs (what its informers watch). */
export function policyAgentRbac(): object[] {
  const read = ['get', 'list', 'watch'];
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: RBAC_NAME },
      rules: [
        { apiGroups: [''], resources: ['nodes', 'pods', 'namespaces', 'services', 'endpoints'], verbs: read },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: read },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: RBAC_NAME },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: RBAC_NAME },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: POLICY_AGENT_USER }],
    },
  ];
}

/** True once FORWARD jumps to kube-router's chain, i.e. its policy rules are installed. */
export function policyAgentReady(iptablesForward: string): boolean {
  return iptablesForward
    .split('\n')
    .some((l) => l.startsWith('-A FORWARD') && l.includes(`-j ${POLICY_FORWARD_CHAIN}`));
}

/** The names in `ipset list -n` output that belong to the policy agent. Pure. */
export function ourIpsets(list: string): string[] {
  return list
    .split('\n')
    .map((l) => l.trim())
    .filter((n) => OUR_IPSET_PREFIXES.some((p) => n.startsWith(p)));
}

/**
 * Destroys the policy agent's ipsets. Runs after the iptables chains are gone (a set still referenced by a rule
 * cannot be destroyed); reports instead of throwing.
 */
export function cleanUpIpsets(report: string[]): void {
  let list: string;
  try {
    list = execFileSync('ipset', ['list', '-n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return; // no ipset binary: the agent never ran
  }
  const sets = ourIpsets(list);
  for (const s of sets) {
    try {
      execFileSync('ipset', ['destroy', s], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
      report.push(`warning: ipset destroy ${s}: ${stderr || (err as Error).message}`);
    }
  }
  if (sets.length > 0) report.push(`ipset: destroyed ${sets.length} sets`);
}

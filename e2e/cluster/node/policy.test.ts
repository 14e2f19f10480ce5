import { describe, expect, it } from 'vitest';
import {
  POLICY_AGENT_USER,
  ourIpsets,
  policyAgentArgs,
  policyAgentRbac,
  policyAgentReady,
} from './policy.js';

describe('NetworkPolicy agent (kube-router) configuration', () => {
  const args = policyAgentArgs({
    kubeconfig: '/tmp/c/kube-router.kubeconfig',
    nodeName: 'skyport-node',
    serviceCidr: '10.96.0.0/16',
    syncPeriod: '1m',
  });

  it('runs the firewall controller only and opens no listening socket', () => {
    expect(args).toContain('--run-firewall=true');
    for (const off of ['--run-router=false', '--run-service-proxy=false', '--run-loadbalancer=false'])
      expect(args).toContain(off);
    // kube-router's health server binds every interface; 0 disables it, and metrics are off too.
    expect(args).toContain('--health-port=0');
    expect(args).toContain('--metrics-port=0');
    // It must not write a CNI config beside ours.
    expect(args).toContain('--enable-cni=false');
    expect(args).toContain('--hostname-override=skyport-node');
    expect(args).toContain('--service-cluster-ip-range=10.96.0.0/16');
    expect(args).toContain('--kubeconfig=/tmp/c/kube-router.kubeconfig');
  });

  it('grants read access to what its informers watch and binds it to the certificate user', () => {
    const [role, binding] = policyAgentRbac() as [
      { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] },
      { subjects: { kind: string; name: string }[]; roleRef: { name: string } },
    ];
    const grants = role.rules.flatMap((r) => r.resources.map((res) => `${r.apiGroups[0] ?? ''}/${res}`));
    for (const g of ['/pods', '/namespaces', '/nodes', 'networking.k8s.io/networkpolicies'])
      expect(grants).toContain(g);
    expect(role.rules.every((r) => r.verbs.every((v) => ['get', 'list', 'watch'].includes(v)))).toBe(true);
    expect(binding.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: POLICY_AGENT_USER },
    ]);
  });

  it('is ready only once FORWARD jumps to its chain', () => {
    const before = '-P FORWARD ACCEPT\n-A FORWARD -j SKYPORT-NODE-FORWARD\n-A FORWARD -j KUBE-FORWARD\n';
    expect(policyAgentReady(before)).toBe(false);
    // A chain merely named in a comment or another rule does not count.
    expect(policyAgentReady('-N KUBE-ROUTER-FORWARD\n' + before)).toBe(false);
    expect(
      policyAgentReady(
        '-A FORWARD -m comment --comment "kube-router netpol - TEMCG2JMHZYE7H7T" -j KUBE-ROUTER-FORWARD\n' +
          before,
      ),
    ).toBe(true);
  });

  it('picks out only its own ipsets for tear-down', () => {
    const list = 'KUBE-SRC-ABCDEF\nKUBE-DST-123456\ninet6:KUBE-DST-XYZ\nsomeone-else\nKUBE-SVC-ALL\n';
    expect(ourIpsets(list)).toEqual(['KUBE-SRC-ABCDEF', 'KUBE-DST-123456', 'inet6:KUBE-DST-XYZ']);
    expect(ourIpsets('')).toEqual([]);
  });
});

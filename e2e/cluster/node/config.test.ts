import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CLUSTER_DNS_IP,
  COREFILE,
  REAL_NODE_CGROUP_ROOT,
  REAL_NODE_NETWORK,
  cniConfList,
  containerdConfig,
  corednsManifests,
  kubeProxyConfig,
  kubeletConfig,
  kubernetesEndpoints,
  nodeDirs,
} from './config.js';

const d = nodeDirs('/tmp/c');

describe('real node configuration', () => {
  it('keeps every containerd path under the cluster dir and restricts oom_score_adj', () => {
    const toml = containerdConfig(d, {
      sandboxImage: 'registry.local/p:1',
      runc: '/usr/sbin/runc',
      cniBin: '/usr/lib/cni',
    });
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain('netns_mounts_under_state_dir = true');
    expect(toml).toContain(`root = "/tmp/c/node/containerd/root"`);
    expect(toml).toContain(`state = "/tmp/c/node/containerd/state"`);
    expect(toml).toContain(`address = "/tmp/c/node/containerd/containerd.sock"`);
    expect(toml).toContain(`sandbox = "registry.local/p:1"`);
    expect(toml).toContain(`path = "/tmp/c/node/containerd/opt"`);
    expect(toml).toContain("'io.containerd.nri.v1.nri'");
    // Socket paths must fit sockaddr_un (108 bytes) even for long cluster dirs.
    expect(d.containerdSocket.length).toBeLessThan(108);
  });

  it('gives pods a route to the service network only (no default route off the machine)', () => {
    const conf = JSON.parse(cniConfList(REAL_NODE_NETWORK, '/tmp/c/ipam', '10.96.0.0/16')) as {
      plugins: {
        type: string;
        bridge?: string;
        ipMasq?: boolean;
        ipam?: { routes: { dst: string }[]; dataDir: string };
      }[];
    };
    const bridge = conf.plugins[0];
    expect(bridge?.type).toBe('bridge');
    expect(bridge?.bridge).toBe('skyport0');
    expect(bridge?.ipMasq).toBe(false);
    expect(bridge?.ipam?.routes).toEqual([{ dst: '10.96.0.0/16' }]);
    expect(bridge?.ipam?.dataDir).toBe('/tmp/c/ipam');
    expect(conf.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
  });

  it('configures the kubelet for cgroup v1, its own cgroup root, webhook auth and our CA', () => {
    const k = parse(
      kubeletConfig({
        dirs: d,
        net: REAL_NODE_NETWORK,
        caFile: '/ca.crt',
        tlsCertFile: '/k.crt',
        tlsKeyFile: '/k.key',
        port: 1,
        healthzPort: 2,
      }),
    ) as Record<string, unknown>;
    expect(k).toMatchObject({
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: REAL_NODE_CGROUP_ROOT,
      failSwapOn: false,
      address: REAL_NODE_NETWORK.hostIP,
      readOnlyPort: 0,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: '/ca.crt' },
      },
      authorization: { mode: 'Webhook' },
      clusterDNS: [CLUSTER_DNS_IP],
      containerRuntimeEndpoint: 'unix:///tmp/c/node/containerd/containerd.sock',
      podLogsDir: '/tmp/c/node/pod-logs',
      volumePluginDir: '/tmp/c/node/kubelet/volume-plugins',
    });
  });

  it('runs kube-proxy in iptables mode without touching conntrack sysctls or route_localnet', () => {
    const p = parse(
      kubeProxyConfig({ kubeconfig: '/kp', net: REAL_NODE_NETWORK, healthzPort: 3, metricsPort: 4 }),
    ) as Record<string, unknown>;
    expect(p).toMatchObject({
      mode: 'iptables',
      clusterCIDR: '10.250.0.0/24',
      conntrack: { maxPerCore: 0, min: 0 },
      iptables: { localhostNodePorts: false },
      healthzBindAddress: '127.0.0.1:3',
    });
  });

  it('runs CoreDNS unprivileged on the real node behind the cluster DNS IP, with no upstream forwarding', () => {
    const objs = corednsManifests('img:1') as {
      kind: string;
      spec?: Record<string, unknown>;
      data?: { Corefile: string };
    }[];
    const cm = objs.find((o) => o.kind === 'ConfigMap');
    expect(cm?.data?.Corefile).toContain('kubernetes cluster.local');
    expect(cm?.data?.Corefile).not.toContain('forward');
    const svc = objs.find((o) => o.kind === 'Service');
    expect(svc?.spec?.clusterIP).toBe(CLUSTER_DNS_IP);
    const dep = JSON.stringify(objs.find((o) => o.kind === 'Deployment'));
    expect(dep).toContain('"nodeSelector":{"type":"real"}');
    expect(dep).toContain('"runAsNonRoot":true');
    expect(dep).toContain('net.ipv4.ip_unprivileged_port_start');
  });

  it('publishes the apiserver on the bridge address as the kubernetes Service endpoint', () => {
    const objs = kubernetesEndpoints('10.250.0.1', 6443) as Record<string, unknown>[];
    expect(objs).toHaveLength(1);
    const slice = objs[0];
    expect(slice).toMatchObject({
      kind: 'EndpointSlice',
      metadata: { labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      endpoints: [{ addresses: ['10.250.0.1'] }],
      ports: [{ port: 6443 }],
    });
  });
  it('builds CoreDNS with exactly the plugins its Corefile uses (e2e/cluster/go/coredns)', () => {
    const main = readFileSync(new URL('../go/coredns/main.go', import.meta.url), 'utf8');
    const list = /var directives = \[\]string\{([^}]*)\}/.exec(main)?.[1] ?? '';
    const directives = JSON.parse(`[${list}]`) as string[];
    const imported = [...main.matchAll(/"github\.com\/coredns\/coredns\/plugin\/(\w+)"/g)].map((m) => m[1]);
    // The server block's own lines (four spaces in), not the lines inside a plugin's block.
    const used = [...COREFILE.matchAll(/^ {4}(\w+)/gm)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(0);
    expect([...directives].sort()).toEqual([...new Set(used)].sort());
    expect([...imported].sort()).toEqual([...directives].sort());
  });
});

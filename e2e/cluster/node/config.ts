// Pure builders of the real node's configuration files: containerd, CNI, kubelet, kube-proxy and CoreDNS.
import { join } from 'node:path';
import { stringify } from 'yaml';

/** The node's network: a bridge on a private range that never routes off the machine. */
export interface NodeNetwork {
  /** Linux bridge the pods' veths attach to (at most 15 characters). */
  bridge: string;
  /** Pod subnet (CIDR) handed out by host-local IPAM. */
  podSubnet: string;
  /** The host's address on the bridge: pods' gateway, the node IP, the apiserver as pods see it. */
  hostIP: string;
  /** Prefix length of `podSubnet`. */
  prefix: number;
}

/** The single real node per machine: kube-proxy's iptables chains are host-global, so two would fight. */
export const REAL_NODE_NETWORK: NodeNetwork = {
  bridge: 'skyport0',
  podSubnet: '10.250.0.0/24',
  hostIP: '10.250.0.1',
  prefix: 24,
};

/** Name of the real node's Node object. */
export const REAL_NODE_NAME = 'skyport-node';
/** cgroup parent of everything the kubelet runs (per controller under /sys/fs/cgroup on cgroup v1). */
export const REAL_NODE_CGROUP_ROOT = '/skyport-node';
/** ClusterIP of the kube-dns Service (inside the service CIDR 10.96.0.0/16). */
export const CLUSTER_DNS_IP = '10.96.0.10';
/** Taint the kwok nodes get while the real node is on, so only workloads that tolerate it land there. */
export const KWOK_TAINT = { key: 'skyport.io/kwok', value: 'true', effect: 'NoSchedule' } as const;

/** Where the node keeps its state, all under the cluster's directory. */
export interface NodeDirs {
  root: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  cniConfDir: string;
  cniIpamDir: string;
  kubeletRoot: string;
  kubeletCerts: string;
  podLogs: string;
  volumePlugins: string;
  opt: string;
  /** containerd's registry host configs (`_default/hosts.toml` sends every pull to a closed local port). */
  registryHosts: string;
}

/** The node's directories below `clusterDir/node`. Socket paths stay well under the 108-byte limit. */
export function nodeDirs(clusterDir: string): NodeDirs {
  const root = join(clusterDir, 'node');
  return {
    root,
    containerdRoot: join(root, 'containerd', 'root'),
    containerdState: join(root, 'containerd', 'state'),
    containerdSocket: join(root, 'containerd', 'containerd.sock'),
    cniConfDir: join(root, 'cni', 'net.d'),
    cniIpamDir: join(root, 'cni', 'ipam'),
    kubeletRoot: join(root, 'kubelet'),
    kubeletCerts: join(root, 'kubelet', 'pki'),
    podLogs: join(root, 'pod-logs'),
    volumePlugins: join(root, 'kubelet', 'volume-plugins'),
    opt: join(root, 'containerd', 'opt'),
    registryHosts: join(root, 'containerd', 'hosts.d'),
  };
}

const tomlString = (s: string): string => JSON.stringify(s);

/**
 * containerd 2.x configuration (version 3). `restrict_oom_score_adj` because root lacks CAP_SYS_RESOURCE
 * here (runc could not lower oom_score_adj); netns mounts under the state dir instead of /run/netns.
 */
export function containerdConfig(
  d: NodeDirs,
  opts: { sandboxImage: string; runc: string; cniBin: string },
): string {
  const rt = "plugins.'io.containerd.cri.v1.runtime'";
  return `version = 3
root = ${tomlString(d.containerdRoot)}
state = ${tomlString(d.containerdState)}
disabled_plugins = [
  'io.containerd.nri.v1.nri',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.blockfile',
  'io.containerd.snapshotter.v1.erofs',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.internal.v1.tracing',
]

[grpc]
  address = ${tomlString(d.containerdSocket)}

[ttrpc]
  address = ${tomlString(`${d.containerdSocket}.ttrpc`)}

[debug]
  address = ''

[metrics]
  address = ''

[plugins.'io.containerd.internal.v1.opt']
  path = ${tomlString(d.opt)}

[plugins.'io.containerd.image-verifier.v1.bindir']
  bin_dir = ${tomlString(join(d.opt, 'image-verifier', 'bin'))}

[plugins.'io.containerd.transfer.v1.local']
  config_path = ${tomlString(d.registryHosts)}

[${rt}]
  enable_selinux = false
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true

[${rt}.containerd]
  default_runtime_name = 'runc'

[${rt}.containerd.runtimes.runc]
  runtime_type = 'io.containerd.runc.v2'

[${rt}.containerd.runtimes.runc.options]
  BinaryName = ${tomlString(opts.runc)}
  SystemdCgroup = false

[${rt}.cni]
  bin_dirs = [${tomlString(opts.cniBin)}]
  conf_dir = ${tomlString(d.cniConfDir)}
  max_conf_num = 1

[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'

[plugins.'io.containerd.cri.v1.images'.registry]
  config_path = ${tomlString(d.registryHosts)}

[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = ${tomlString(opts.sandboxImage)}

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = '127.0.0.1'
  stream_server_port = '0'
`;
}

/**
 * Every registry resolves to a closed port on loopback: the node has no registry and must never look one
 * up on the network (a missing image fails at once with ErrImagePull instead of a DNS query off the machine).
 */
export const REGISTRY_HOSTS_TOML = `server = "http://127.0.0.1:9"

[host."http://127.0.0.1:9"]
  capabilities = ["pull", "resolve"]
`;

/**
 * CNI: the bridge plugin with host-local IPAM (state under the cluster dir) and portmap. Pods get a route
 * to the service network only, not a default route: anything off the machine is unreachable from a pod.
 */
export function cniConfList(net: NodeNetwork, ipamDataDir: string, serviceCidr: string): string {
  return (
    JSON.stringify(
      {
        cniVersion: '1.0.0',
        name: 'skyport',
        plugins: [
          {
            type: 'bridge',
            bridge: net.bridge,
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            ipam: {
              type: 'host-local',
              dataDir: ipamDataDir,
              ranges: [[{ subnet: net.podSubnet, gateway: net.hostIP }]],
              routes: [{ dst: serviceCidr }],
            },
          },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ) + '\n'
  );
}

/** Inputs of {@link kubeletConfig}. */
export interface KubeletInputs {
  dirs: NodeDirs;
  net: NodeNetwork;
  caFile: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  port: number;
  healthzPort: number;
}

/** KubeletConfiguration: cgroup v1 allowed, cgroupfs under its own root, webhook authn/authz, our CA. */
export function kubeletConfig(i: KubeletInputs): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: REAL_NODE_CGROUP_ROOT,
    cgroupsPerQOS: true,
    failSwapOn: false,
    address: i.net.hostIP,
    port: i.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: i.healthzPort,
    tlsCertFile: i.tlsCertFile,
    tlsPrivateKeyFile: i.tlsKeyFile,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: i.caFile },
    },
    authorization: { mode: 'Webhook' },
    clusterDNS: [CLUSTER_DNS_IP],
    clusterDomain: 'cluster.local',
    // No host resolver inside pods: names resolve through cluster DNS only, nothing leaves the machine.
    resolvConf: '',
    containerRuntimeEndpoint: `unix://${i.dirs.containerdSocket}`,
    podLogsDir: i.dirs.podLogs,
    volumePluginDir: i.dirs.volumePlugins,
    serializeImagePulls: false,
    // A shared build machine: evict only when really out of room, never garbage-collect our images.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    maxPods: 110,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    protectKernelDefaults: false,
    shutdownGracePeriod: '0s',
  });
}

/** Inputs of {@link kubeProxyConfig}. */
export interface KubeProxyInputs {
  kubeconfig: string;
  net: NodeNetwork;
  healthzPort: number;
  metricsPort: number;
}

/** KubeProxyConfiguration: iptables mode, conntrack sysctls left alone, no localhost NodePorts. */
export function kubeProxyConfig(i: KubeProxyInputs): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig: i.kubeconfig },
    hostnameOverride: REAL_NODE_NAME,
    clusterCIDR: i.net.podSubnet,
    bindAddress: i.net.hostIP,
    healthzBindAddress: `127.0.0.1:${i.healthzPort}`,
    metricsBindAddress: `127.0.0.1:${i.metricsPort}`,
    nodePortAddresses: [`${i.net.hostIP}/32`],
    // 0 = leave the host's conntrack sysctls as they are.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    // true would set net.ipv4.conf.all.route_localnet=1 on the host.
    iptables: { localhostNodePorts: false },
  });
}

/** Corefile: cluster.local only; no forward plugin, so no query ever leaves the machine. */
export const COREFILE = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
}
`;

/** CoreDNS as a real pod on the real node: ServiceAccount + RBAC, Corefile, Deployment, kube-dns Service. */
export function corednsManifests(image: string): object[] {
  const ns = 'kube-system';
  const labels = { 'k8s-app': 'kube-dns' };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        {
          apiGroups: [''],
          resources: ['endpoints', 'services', 'pods', 'namespaces'],
          verbs: ['list', 'watch'],
        },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: ns }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: ns },
      data: { Corefile: COREFILE },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: ns, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            nodeSelector: { type: 'real' },
            dnsPolicy: 'Default',
            priorityClassName: 'system-cluster-critical',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65534,
              runAsGroup: 65534,
              // Lets the unprivileged server bind port 53 without any capability.
              sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'coredns',
                image,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10 },
                resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: ns, labels },
      spec: {
        selector: labels,
        clusterIP: CLUSTER_DNS_IP,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    },
  ];
}

/**
 * The `kubernetes` Service's EndpointSlice: the apiserver as pods reach it (the bridge's host address). The
 * apiserver runs with `--endpoint-reconciler-type=none` (it binds loopback), so the toolkit publishes them.
 */
export function kubernetesEndpoints(hostIP: string, port: number): object[] {
  return [
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: {
          'kubernetes.io/service-name': 'kubernetes',
          'endpointslice.kubernetes.io/managed-by': 'skyport-local-cluster',
        },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [hostIP], conditions: { ready: true } }],
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    },
  ];
}

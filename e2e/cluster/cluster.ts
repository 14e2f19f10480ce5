// Starts and stops the local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kwok (fake nodes and pod lifecycle) and a PV provisioner, as plain processes on loopback.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createCA, createServiceAccountKeys, issueLeaf, readPem } from './certs.js';
import { buildKubeconfig } from './kubeconfig.js';
import { binDir as defaultBinDir, clusterToolkitDir, controlPlaneCacheDir, repoRoot } from './paths.js';
import { freePorts } from './ports.js';
import {
  ComponentError,
  isOurProcess,
  startComponent,
  stopProcess,
  waitHealthy,
  type Component,
  type ComponentRecord,
  type ProbeTls,
} from './process.js';
import { KWOK_TAINT, REAL_NODE_NETWORK } from './node/config.js';
import {
  prepareRealNode,
  realNodePreflight,
  realNodeRequested,
  startRealNode,
  tearDownRealNode,
} from './node/node.js';
import { kubectl } from './tools.js';

/** Name of the default StorageClass; its PVCs are bound by the toolkit's provisioner. */
export const DEFAULT_STORAGE_CLASS = 'standard';
/** Service network of the cluster (virtual: never dial these addresses). */
export const SERVICE_CIDR = '10.96.0.0/16';
/** Pod network kwok hands out IPs from (virtual: never dial these addresses). */
export const POD_CIDR = '10.244.0.0/16';

/** Where the provisioner makes the volumes of the cluster in `dir` (hostPath directories, one per claim UID). */
export const volumeRootOf = (dir: string): string => join(dir, 'volumes');

const BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
  'kubectl',
] as const;

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** State directory (certs, kubeconfigs, logs, etcd data, state.json). Default: a fresh temp dir. */
  dir?: string;
  /** Number of fake kwok nodes (default 3). */
  nodes?: number;
  /** Allocatable resources of each node. */
  nodeCapacity?: { cpu?: string; memory?: string; pods?: string };
  /** Per-component readiness timeout (default 60 s). */
  timeoutMs?: number;
  /** Progress messages (default: none). */
  log?: (msg: string) => void;
  /** Extra flags per component, appended last (e.g. feature gates or audit flags). */
  extraArgs?: Partial<Record<ComponentName, string[]>>;
  /**
   * Also run one real node (containerd, kubelet, kube-proxy, CoreDNS) on this machine, and taint the kwok
   * nodes. Default: `SKYPORT_REAL_NODE=1` in the environment. Needs root and `build.sh --real-node`.
   */
  realNode?: boolean;
}

/** The processes a cluster is made of. */
export type ComponentName =
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kwok'
  | 'provisioner'
  | 'apiserver-forward'
  | 'containerd'
  | 'kubelet'
  | 'kube-proxy';

/** The on-disk record of a running cluster (`<dir>/state.json`). */
export interface ClusterState {
  dir: string;
  kubeconfigPath: string;
  server: string;
  caFile: string;
  binDir: string;
  ports: Record<string, number>;
  components: ComponentRecord[];
  startedAt: string;
}

/** A running cluster. */
export interface ClusterHandle extends ClusterState {
  /** Stops every component by PID (SIGTERM, then SIGKILL) in reverse start order. */
  stop(opts?: { removeDir?: boolean }): Promise<void>;
}

const stateFile = (dir: string): string => join(dir, 'state.json');

/** Reads `<dir>/state.json`, or undefined when there is none. */
export function readClusterState(dir: string): ClusterState | undefined {
  const f = stateFile(dir);
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, 'utf8')) as ClusterState;
}

/** Which recorded components are still running. */
export function componentLiveness(state: ClusterState): { name: string; pid: number; alive: boolean }[] {
  return state.components.map((c) => ({ name: c.name, pid: c.pid, alive: isOurProcess(c.pid, c.exe) }));
}

/** Stops the cluster recorded in `dir` by PID; a no-op for components that are already gone. */
export async function stopClusterAt(dir: string, opts: { removeDir?: boolean } = {}): Promise<string[]> {
  const state = readClusterState(dir);
  const report: string[] = [];
  if (state) {
    // Reverse order: clients (kwok, provisioner, kcm, scheduler) before the apiserver, etcd last.
    for (const c of [...state.components].reverse()) {
      report.push(`${c.name} (pid ${c.pid}): ${await stopProcess(c)}`);
    }
    rmSync(stateFile(dir), { force: true });
  }
  // The real node's host changes (bridge, iptables, mounts, cgroups, sysctls), once its processes are gone.
  report.push(...tearDownRealNode(dir));
  if (opts.removeDir) rmSync(dir, { recursive: true, force: true });
  return report;
}

/** A handle on the cluster recorded in `dir` (e.g. started by `npm run cluster:up`). */
export function attachCluster(dir: string): ClusterHandle {
  const state = readClusterState(dir);
  if (!state) throw new Error(`no cluster state in ${dir} (run \`npm run cluster:up\`)`);
  const dead = componentLiveness(state).filter((c) => !c.alive);
  if (dead.length > 0) {
    throw new Error(
      `cluster in ${dir} is not healthy: ${dead.map((d) => `${d.name} (pid ${d.pid})`).join(', ')} not running`,
    );
  }
  return { ...state, stop: async (o) => void (await stopClusterAt(dir, o)) };
}

/** The Node objects kwok will manage: Ready fake nodes with the given allocatable resources. */
export function fakeNodes(
  n: number,
  cap: ClusterOptions['nodeCapacity'] = {},
  taints: object[] = [],
): object[] {
  const resources = { cpu: cap.cpu ?? '32', memory: cap.memory ?? '256Gi', pods: cap.pods ?? '1100' };
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: `kwok-node-${i}`,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': `kwok-node-${i}`,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/role': 'agent',
        'node-role.kubernetes.io/agent': '',
        'topology.kubernetes.io/zone': `zone-${i % 3}`,
        type: 'kwok',
      },
    },
    spec: taints.length > 0 ? { taints } : {},
    status: { allocatable: resources, capacity: resources },
  }));
}

/** The default StorageClass: no provisioner (our provisioner creates PVs), immediate binding. */
export function defaultStorageClass(): object {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: DEFAULT_STORAGE_CLASS,
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: 'kubernetes.io/no-provisioner',
    reclaimPolicy: 'Retain',
    volumeBindingMode: 'Immediate',
    allowVolumeExpansion: true,
  };
}

/** Concatenates kwok's upstream node + pod-delete stages with ours (pod ready/complete and faults). */
export function kwokStagesConfig(cacheDir = controlPlaneCacheDir()): string {
  const upstream = join(cacheDir, 'kwok-stages');
  const files = [
    join(upstream, 'node', 'fast', 'node-initialize.yaml'),
    join(upstream, 'node', 'heartbeat-with-lease', 'node-heartbeat-with-lease.yaml'),
    join(upstream, 'pod', 'fast', 'pod-delete.yaml'),
    join(clusterToolkitDir, 'stages', 'pod.yaml'),
  ];
  for (const f of files) {
    if (!existsSync(f)) throw new Error(`kwok stage file ${f} is missing (run \`npm run cluster:build\`)`);
  }
  return files.map((f) => readFileSync(f, 'utf8').trim()).join('\n---\n') + '\n';
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true; throws `what` with the last error after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      // A dead component will not come back: fail now instead of at the deadline.
      if (err instanceof ComponentError) throw err;
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await sleep(250);
  }
}

/**
 * Starts a fresh local cluster; on any failure stops what was started and rethrows with log tails.
 * Ports are picked free but released before the components bind them, so another process on the machine
 * can take one in between; that case (and only that) is retried with new ports.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<ClusterHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof ComponentError) || !/address already in use/.test(err.message))
        throw err;
      opts.log?.(`Retrying with new ports: ${err.component} found its port taken`);
    }
  }
}

async function startClusterOnce(opts: ClusterOptions): Promise<ClusterHandle> {
  const t0 = Date.now();
  const log = opts.log ?? ((): void => undefined);
  const bin = defaultBinDir();
  const missing = BINARIES.filter((b) => !existsSync(join(bin, b)));
  if (missing.length > 0)
    throw new Error(`missing ${missing.join(', ')} in ${bin}: run \`npm run cluster:build\` first`);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const realNode = wantRealNode(opts);

  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'skyport-cluster-'));
  mkdirSync(dir, { recursive: true });
  const existing = readClusterState(dir);
  if (existing && componentLiveness(existing).some((c) => c.alive)) {
    throw new Error(`a cluster is already running in ${dir} (stop it with \`npm run cluster:down\`)`);
  }
  for (const sub of ['etcd', 'logs', 'pki']) rmSync(join(dir, sub), { recursive: true, force: true });
  const pki = join(dir, 'pki');
  const logs = join(dir, 'logs');
  mkdirSync(pki, { recursive: true });
  mkdirSync(logs, { recursive: true });

  const [etcdPort, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = await freePorts(6);
  if (!etcdPort || !etcdPeer || !apiPort || !kcmPort || !schedPort || !kwokPort)
    throw new Error('could not pick ports');
  const ports = {
    etcd: etcdPort,
    etcdPeer,
    apiserver: apiPort,
    kcm: kcmPort,
    scheduler: schedPort,
    kwok: kwokPort,
  };
  const server = `https://127.0.0.1:${apiPort}`;

  // PKI: one CA for serving and client certs; components get their bootstrap-RBAC identities.
  createCA(pki);
  issueLeaf(pki, {
    name: 'apiserver',
    cn: 'kube-apiserver',
    usage: 'server',
    // The bridge address: pods reach the apiserver there (real node) through the `kubernetes` Service.
    ips: ['127.0.0.1', '10.96.0.1', REAL_NODE_NETWORK.hostIP],
    dnsNames: [
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
    ],
  });
  const identities = {
    admin: { cn: 'skyport-admin', orgs: ['system:masters'] },
    'kube-controller-manager': { cn: 'system:kube-controller-manager' },
    'kube-scheduler': { cn: 'system:kube-scheduler' },
    kwok: { cn: 'kwok-controller', orgs: ['system:masters'] },
  };
  // The aggregation layer's proxy identity; also gives kcm/scheduler a request-header CA to load
  // (without one they log an error every few seconds).
  issueLeaf(pki, { name: 'front-proxy-client', cn: 'front-proxy-client', usage: 'client' });
  const kubeconfigs: Record<string, string> = {};
  const caPem = readPem(pki, 'ca.crt');
  for (const [name, subject] of Object.entries(identities)) {
    issueLeaf(pki, { name, ...subject, usage: 'client' });
    const file = join(dir, `${name}.kubeconfig`);
    writeFileSync(
      file,
      buildKubeconfig({
        clusterName: 'skyport-local',
        server,
        caPem,
        user: {
          name,
          clientCertificatePem: readPem(pki, `${name}.crt`),
          clientKeyPem: readPem(pki, `${name}.key`),
        },
      }),
      { mode: 0o600 },
    );
    kubeconfigs[name] = file;
  }
  createServiceAccountKeys(pki);
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, readFileSync(kubeconfigs.admin ?? '', 'utf8'), { mode: 0o600 });
  log(`Generated certificates and kubeconfigs in ${dir} (${Date.now() - t0} ms)`);

  const components: Component[] = [];
  const state: ClusterState = {
    dir,
    kubeconfigPath,
    server,
    caFile: join(pki, 'ca.crt'),
    binDir: bin,
    ports,
    components: [],
    startedAt: new Date().toISOString(),
  };
  const persist = (): void => {
    state.components = components.map(({ name, pid, exe, logFile }) => ({ name, pid, exe, logFile }));
    writeFileSync(stateFile(dir), JSON.stringify(state, null, 2));
  };
  const start = (
    name: ComponentName,
    exe: string,
    args: string[],
    o: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ): Component => {
    const c = startComponent(
      name,
      exe,
      [...args, ...(opts.extraArgs?.[name] ?? [])],
      join(logs, `${name}.log`),
      { cwd: o.cwd ?? dir, ...(o.env ? { env: o.env } : {}) },
    );
    components.push(c);
    persist();
    return c;
  };
  const adminTls: ProbeTls = {
    ca: caPem,
    cert: readPem(pki, 'admin.crt'),
    key: readPem(pki, 'admin.key'),
  };

  try {
    const nodeApiserverArgs = realNode ? prepareRealNode(dir, pki, POD_CIDR, SERVICE_CIDR) : [];
    const etcd = start('etcd', join(bin, 'etcd'), [
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      // Throw-away data: fsync only costs time here.
      '--unsafe-no-fsync=true',
      '--quota-backend-bytes=4294967296',
      '--log-level=warn',
    ]);
    await waitHealthy(etcd, `http://127.0.0.1:${etcdPort}/health`, {}, timeoutMs);
    log(`Started etcd on 127.0.0.1:${etcdPort} (${Date.now() - t0} ms)`);

    const apiserver = start('kube-apiserver', join(bin, 'kube-apiserver'), [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      // Endpoints reject loopback addresses, so the endpoint reconciler is off (see the ADR).
      '--advertise-address=127.0.0.1',
      '--endpoint-reconciler-type=none',
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
      `--client-ca-file=${join(pki, 'ca.crt')}`,
      `--authorization-mode=${realNode ? 'Node,RBAC' : 'RBAC'}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--allow-privileged=true',
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      // SKYPORT_APISERVER_PROFILING=1 serves /debug/pprof (admin only) for `bench:operator --pprof=FILE`.
      `--profiling=${process.env['SKYPORT_APISERVER_PROFILING'] === '1' ? 'true' : 'false'}`,
      `--requestheader-client-ca-file=${join(pki, 'ca.crt')}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${join(pki, 'front-proxy-client.crt')}`,
      `--proxy-client-key-file=${join(pki, 'front-proxy-client.key')}`,
      // Room for the operator bench (1,000 labs) without client-side throttling on the server.
      '--max-requests-inflight=800',
      '--max-mutating-requests-inflight=400',
      ...nodeApiserverArgs,
    ]);
    await waitHealthy(apiserver, `${server}/readyz`, adminTls, timeoutMs);
    log(`Started kube-apiserver at ${server} (${Date.now() - t0} ms)`);

    const kcm = start('kube-controller-manager', join(bin, 'kube-controller-manager'), [
      `--kubeconfig=${kubeconfigs['kube-controller-manager']}`,
      `--authentication-kubeconfig=${kubeconfigs['kube-controller-manager']}`,
      `--authorization-kubeconfig=${kubeconfigs['kube-controller-manager']}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      '--leader-elect=false',
      '--controllers=*',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${join(pki, 'sa.key')}`,
      `--root-ca-file=${join(pki, 'ca.crt')}`,
      `--cluster-signing-cert-file=${join(pki, 'ca.crt')}`,
      `--cluster-signing-key-file=${join(pki, 'ca.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--kube-api-qps=200',
      '--kube-api-burst=400',
    ]);
    const scheduler = start('kube-scheduler', join(bin, 'kube-scheduler'), [
      `--kubeconfig=${kubeconfigs['kube-scheduler']}`,
      `--authentication-kubeconfig=${kubeconfigs['kube-scheduler']}`,
      `--authorization-kubeconfig=${kubeconfigs['kube-scheduler']}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedPort}`,
      '--leader-elect=false',
      '--kube-api-qps=200',
      '--kube-api-burst=400',
    ]);
    const stagesFile = join(dir, 'kwok-stages.yaml');
    writeFileSync(stagesFile, kwokStagesConfig(join(bin, '..')));
    const kwok = start('kwok', join(bin, 'kwok'), [
      `--kubeconfig=${kubeconfigs.kwok}`,
      `--config=${stagesFile}`,
      // With a real node, kwok must leave it alone: it manages only the nodes annotated as its own.
      ...kwokManageArgs(realNode),
      `--server-address=127.0.0.1:${kwokPort}`,
      `--cidr=${POD_CIDR}`,
      '--node-lease-duration-seconds=40',
      '--node-ip=127.0.0.1',
    ]);
    // Their serving certs are self-signed by each component, hence `insecure` (loopback only).
    await Promise.all([
      waitHealthy(kcm, `https://127.0.0.1:${kcmPort}/healthz`, { insecure: true }, timeoutMs),
      waitHealthy(scheduler, `https://127.0.0.1:${schedPort}/healthz`, { insecure: true }, timeoutMs),
      waitHealthy(kwok, `http://127.0.0.1:${kwokPort}/healthz`, {}, timeoutMs),
    ]);
    log(`Started kube-controller-manager, kube-scheduler and kwok (${Date.now() - t0} ms)`);

    const manifest = [
      ...fakeNodes(opts.nodes ?? 3, opts.nodeCapacity, realNode ? [KWOK_TAINT] : []),
      defaultStorageClass(),
    ]
      .map((o) => stringify(o))
      .join('---\n');
    await kubectl(['apply', '--server-side', '--field-manager=skyport-e2e', '-f', '-'], {
      kubeconfig: kubeconfigPath,
      input: manifest,
    });

    const readyFile = join(dir, 'provisioner.ready');
    rmSync(readyFile, { force: true });
    // `--import tsx` resolves from the working directory, hence the repo root as cwd.
    const provisioner = start(
      'provisioner',
      process.execPath,
      [
        '--import',
        'tsx',
        join(clusterToolkitDir, 'provisioner-main.ts'),
        kubeconfigPath,
        DEFAULT_STORAGE_CLASS,
        readyFile,
        // Volumes live with the cluster: removed with its directory, one cluster's never seen by another.
        volumeRootOf(dir),
      ],
      { cwd: repoRoot },
    );

    const nodeCount = opts.nodes ?? 3;
    await Promise.all([
      until('kwok nodes to be Ready', timeoutMs, async () => {
        assertAlive([kcm, scheduler, kwok, apiserver, etcd]);
        const out = await kubectl(
          [
            'get',
            'nodes',
            '-o',
            'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
          ],
          { kubeconfig: kubeconfigPath },
        );
        return out.split('\n').filter((s) => s === 'True').length >= nodeCount;
      }),
      until('the default ServiceAccount', timeoutMs, async () => {
        assertAlive([kcm]);
        await kubectl(['get', 'serviceaccount', 'default', '-n', 'default'], { kubeconfig: kubeconfigPath });
        return true;
      }),
      until('the PV provisioner', timeoutMs, () => {
        assertAlive([provisioner]);
        return Promise.resolve(existsSync(readyFile));
      }),
    ]);
    log(`Cluster ready with ${nodeCount} kwok nodes in ${Date.now() - t0} ms`);
    if (realNode) {
      await startRealNode({
        dir,
        pki,
        server,
        apiPort,
        serviceCidr: SERVICE_CIDR,
        timeoutMs,
        start: (name, exe, args, o) => start(name as ComponentName, exe, args, o),
        kubectl: (args, input) =>
          kubectl(args, { kubeconfig: kubeconfigPath, ...(input !== undefined ? { input } : {}) }),
        until: (what, check) => until(what, timeoutMs, check),
        log,
      });
    }
  } catch (err) {
    await stopClusterAt(dir);
    throw err;
  }
  persist();
  return { ...state, stop: async (o) => void (await stopClusterAt(dir, o)) };
}

/** Whether to run the real node; throws with the reason when it is wanted but cannot run here. */
function wantRealNode(opts: ClusterOptions): boolean {
  const realNode = opts.realNode ?? realNodeRequested();
  const notReal = realNode ? realNodePreflight() : undefined;
  if (notReal) throw new Error(`cannot start the real node: ${notReal}`);
  return realNode;
}

function kwokManageArgs(realNode: boolean): string[] {
  return realNode
    ? ['--manage-all-nodes=false', '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake']
    : ['--manage-all-nodes=true'];
}

function assertAlive(comps: Component[]): void {
  for (const c of comps) {
    if (c.exited)
      throw new ComponentError(
        c.name,
        `exited (code ${c.exited.code ?? '-'}, signal ${c.exited.signal ?? '-'})`,
        c.logFile,
      );
  }
}

// The real node of the local cluster: containerd + runc, CNI bridge, kubelet, kube-proxy and CoreDNS on this
// machine, beside the kwok nodes. Opt-in (SKYPORT_REAL_NODE=1 or `startCluster({ realNode: true })`).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { issueLeaf, readPem } from '../certs.js';
import { buildKubeconfig } from '../kubeconfig.js';
import { clusterToolkitDir, nodeCacheDir, readVersions, repoRoot } from '../paths.js';
import { freePorts } from '../ports.js';
import { ComponentError, waitHealthy, type Component } from '../process.js';
import {
  REAL_NODE_CGROUP_ROOT,
  REAL_NODE_NAME,
  REAL_NODE_NETWORK,
  REGISTRY_HOSTS_TOML,
  cniConfList,
  containerdConfig,
  corednsManifests,
  kubeProxyConfig,
  kubeletConfig,
  kubernetesEndpoints,
  nodeDirs,
  type NodeDirs,
} from './config.js';
import {
  bridgeOwner,
  cleanUpIptables,
  linkExists,
  setUpNetwork,
  snapshotHost,
  createCgroups,
  tearDownHost,
  type HostSnapshot,
} from './host.js';
import { buildOciArchive, nodeImageSpecs, type ImageSpec } from './oci.js';
import { readIndex, type BuiltImage } from '../../images/build.js';
import { importImage as ctrImport } from '../images.js';
import { POLICY_AGENT_USER, policyAgentArgs, policyAgentRbac, policyAgentReady } from './policy.js';

const execFileP = promisify(execFile);

/** Fails fast (a ComponentError stops `until` at once) when one of `comps` has exited. */
function assertRunning(...comps: Component[]): void {
  for (const c of comps)
    if (c.exited)
      throw new ComponentError(
        c.name,
        `exited (code ${c.exited.code ?? '-'}, signal ${c.exited.signal ?? '-'})`,
        c.logFile,
      );
}

/** True when the real node is requested by the environment (`SKYPORT_REAL_NODE=1`). */
export const realNodeRequested = (): boolean => process.env.SKYPORT_REAL_NODE === '1';

/**
 * Whether `npm run cluster:up` runs the real node: yes by default, no with `SKYPORT_REAL_NODE=0`. With
 * `SKYPORT_REAL_NODE=1` a machine that cannot run it is an error (startCluster says why); unset, the cluster
 * starts without it and `note` is the reason to print. (The e2e global setup keeps kwok only unless `=1`.)
 */
export function realNodeForUp(
  env: NodeJS.ProcessEnv,
  preflight: () => string | undefined,
): { realNode: boolean; note?: string } {
  const v = env.SKYPORT_REAL_NODE;
  if (v === '0') return { realNode: false };
  if (v === '1') return { realNode: true };
  const why = preflight();
  if (why === undefined) return { realNode: true };
  return {
    realNode: false,
    note: `Starting without the real node: ${why}. (SKYPORT_REAL_NODE=0 starts kwok nodes only without this note; =1 makes it an error.)`,
  };
}

const RUNC = '/usr/sbin/runc';
const CNI_BIN = '/usr/lib/cni';
const BUSYBOX = '/bin/busybox';
const NODE_BINARIES = [
  'kubelet',
  'kube-proxy',
  'containerd',
  'containerd-shim-runc-v2',
  'ctr',
  'coredns',
  'kube-router',
];

/** Why the real node cannot start on this machine, or undefined when it can. */
export function realNodePreflight(binDir = join(nodeCacheDir(), 'bin')): string | undefined {
  if (process.platform !== 'linux') return 'the real node needs Linux';
  if (process.getuid?.() !== 0) return 'the real node needs root (containers, cgroups, bridge, iptables)';
  const missing = NODE_BINARIES.filter((b) => !existsSync(join(binDir, b)));
  if (missing.length > 0)
    return `missing ${missing.join(', ')} in ${binDir}: run \`SKYPORT_REAL_NODE=1 npm run cluster:build\``;
  const host = [
    RUNC,
    join(CNI_BIN, 'bridge'),
    join(CNI_BIN, 'host-local'),
    join(CNI_BIN, 'loopback'),
    BUSYBOX,
  ];
  const absent = host.filter((p) => !existsSync(p));
  if (absent.length > 0)
    return `missing ${absent.join(', ')}: run \`SKYPORT_REAL_NODE=1 npm run cluster:build\` (apt)`;
  for (const tool of ['/usr/sbin/iptables', '/usr/sbin/ip', '/usr/sbin/ipset'])
    if (!existsSync(tool)) return `missing ${tool}: run \`SKYPORT_REAL_NODE=1 npm run cluster:build\` (apt)`;
  return undefined;
}

/** The node's images (built once per version into the node cache, imported into containerd at start). */
export function nodeImages(): { pause: ImageSpec; coredns: ImageSpec; busybox: ImageSpec } {
  return nodeImageSpecs({
    busybox: BUSYBOX,
    coredns: join(nodeCacheDir(), 'bin', 'coredns'),
    corednsVersion: readVersions().COREDNS_VERSION ?? 'unknown',
  });
}

/** Path of the cached OCI archive of `spec` (built when missing; keyed by the spec and its files). */
export function imageArchive(spec: ImageSpec): string {
  const h = createHash('sha256').update(JSON.stringify(spec));
  for (const f of spec.files) {
    const st = statSync(f.src);
    h.update(`${f.src}:${st.size}:${st.mtimeMs}`);
  }
  const key = h.digest('hex').slice(0, 12);
  const file = join(nodeCacheDir(), 'images', `${spec.ref.replace(/[^A-Za-z0-9.-]+/g, '_')}-${key}.tar`);
  if (!existsSync(file)) {
    buildOciArchive(spec, `${file}.tmp`);
    rmSync(file, { force: true });
    writeFileSync(file, readFileSync(`${file}.tmp`));
    rmSync(`${file}.tmp`, { force: true });
  }
  return file;
}

/** Imports an OCI archive into the node's containerd (`k8s.io` namespace, unpacked for overlayfs). */
export async function importImage(clusterDir: string, archive: string): Promise<void> {
  const d = nodeDirs(clusterDir);
  await execFileP(join(nodeCacheDir(), 'bin', 'ctr'), [
    '--address',
    d.containerdSocket,
    '-n',
    'k8s.io',
    'images',
    'import',
    '--platform',
    'linux/amd64',
    archive,
  ]);
}

/**
 * An image built by `npm run images` (its entry in the images cache's index.json), or undefined when it was never
 * built or its archive is gone.
 */
export function builtImage(name: string): BuiltImage | undefined {
  const img = readIndex()[name];
  return img !== undefined && existsSync(img.archive) ? img : undefined;
}

/**
 * Why a test cannot run for want of images: undefined when every one of `names` is built, else what to build. The
 * README's test command builds every image first and sets SKYPORT_REQUIRE_IMAGES=1: then a missing image throws, so a
 * test file fails instead of skipping silently (a fresh machine once skipped 9 real-tier tests that way).
 */
export function missingImages(names: readonly string[]): string | undefined {
  const missing = names.filter((n) => builtImage(n) === undefined);
  if (missing.length === 0) return undefined;
  const why = `image${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not built: run \`npm run images -- ${missing.join(' ')}\``;
  if (process.env['SKYPORT_REQUIRE_IMAGES'] === '1') throw new Error(`${why} (SKYPORT_REQUIRE_IMAGES=1)`);
  return why;
}

/**
 * The sandbox (pause) image: the locally built `pause` (a static C binary that exits on SIGTERM and reaps
 * children) when `npm run images` made it, else the busybox `sleep` stub.
 */
export function sandboxImage(): { ref: string; archive: () => string } {
  const built = builtImage('pause');
  if (built !== undefined) return { ref: built.ref, archive: () => built.archive };
  const stub = nodeImages().pause;
  return { ref: stub.ref, archive: () => imageArchive(stub) };
}

const importedFile = (clusterDir: string): string => join(nodeDirs(clusterDir).root, 'imported.json');

/**
 * Imports images built by `npm run images` into the node's containerd (k8s.io), by name (`operator`,
 * `jupyterlab`, `testbox`, …). An archive already imported into this cluster's containerd is skipped; a name
 * with no built archive fails naming the command that builds it. Resolves with the references, in order.
 */
export async function importBuiltImages(clusterDir: string, names: readonly string[]): Promise<string[]> {
  const index = readIndex();
  const missing = names.filter((n) => index[n] === undefined || !existsSync(index[n].archive));
  if (missing.length > 0)
    throw new Error(
      `image ${missing.join(', ')} not built (no archive in the images cache's index.json): run \`npm run images -- ${missing.join(' ')}\``,
    );
  const file = importedFile(clusterDir);
  const done = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  const ctr = join(nodeCacheDir(), 'bin', 'ctr');
  const socket = nodeDirs(clusterDir).containerdSocket;
  const refs: string[] = [];
  for (const n of names) {
    const img = index[n] as BuiltImage;
    if (done[img.ref] !== img.archive) {
      await ctrImport(img.archive, socket, { ctr });
      done[img.ref] = img.archive;
      writeFileSync(file, JSON.stringify(done, null, 2));
    }
    refs.push(img.ref);
  }
  return refs;
}

/** kwok's virtual pod CIDR: blackholed on the host so nothing ever dials a fake pod IP. */
const snapshotFile = (clusterDir: string): string => join(nodeDirs(clusterDir).root, 'host.json');

/**
 * Before the control plane starts: refuses if another real node owns the bridge, records the host's state,
 * creates the bridge/route/FORWARD chain and issues the node's certificates. Returns the apiserver flags.
 */
export function prepareRealNode(
  clusterDir: string,
  pki: string,
  kwokPodCidr: string,
  serviceCidr: string,
): string[] {
  const net = REAL_NODE_NETWORK;
  if (linkExists(net.bridge)) {
    const owner = bridgeOwner(net.bridge);
    throw new Error(
      `a real node already runs on this machine (bridge ${net.bridge}${owner ? ` of the cluster in ${owner}` : ''}); ` +
        `only one per machine: stop it with \`SKYPORT_RUN_DIR=${owner ?? '<dir>'} npm run cluster:down\``,
    );
  }
  // No bridge, so no real node runs: chains of ours are what a node killed with its watchdog left (iptables -N
  // would refuse them). Removed the way tear-down removes them.
  const stale: string[] = [];
  cleanUpIptables(stale);
  for (const line of stale) process.stderr.write(`[node] stale state of an earlier real node: ${line}\n`);
  const d = nodeDirs(clusterDir);
  mkdirSync(d.root, { recursive: true });
  const snap = snapshotHost(net, REAL_NODE_CGROUP_ROOT, kwokPodCidr);
  writeFileSync(snapshotFile(clusterDir), JSON.stringify(snap, null, 2));
  setUpNetwork(net, clusterDir, kwokPodCidr, serviceCidr);
  createCgroups(REAL_NODE_CGROUP_ROOT);
  issueLeaf(pki, {
    name: 'kubelet-client',
    cn: `system:node:${REAL_NODE_NAME}`,
    orgs: ['system:nodes'],
    usage: 'client',
  });
  issueLeaf(pki, {
    name: 'kubelet-serving',
    cn: REAL_NODE_NAME,
    usage: 'server',
    ips: [net.hostIP],
    dnsNames: [REAL_NODE_NAME],
  });
  issueLeaf(pki, { name: 'kube-proxy', cn: 'system:kube-proxy', usage: 'client' });
  issueLeaf(pki, { name: 'kube-router', cn: POLICY_AGENT_USER, usage: 'client' });
  issueLeaf(pki, {
    name: 'apiserver-kubelet-client',
    cn: 'kube-apiserver-kubelet-client',
    orgs: ['system:masters'],
    usage: 'client',
  });
  return [
    '--enable-admission-plugins=NodeRestriction',
    `--kubelet-client-certificate=${join(pki, 'apiserver-kubelet-client.crt')}`,
    `--kubelet-client-key=${join(pki, 'apiserver-kubelet-client.key')}`,
    `--kubelet-certificate-authority=${join(pki, 'ca.crt')}`,
    '--kubelet-preferred-address-types=InternalIP,Hostname',
  ];
}

/** What {@link startRealNode} needs from the cluster being started. */
export interface RealNodeContext {
  dir: string;
  pki: string;
  server: string;
  apiPort: number;
  serviceCidr: string;
  timeoutMs: number;
  start: (
    name: string,
    exe: string,
    args: string[],
    opts?: { env?: NodeJS.ProcessEnv; cwd?: string },
  ) => Component;
  kubectl: (args: string[], input?: string) => Promise<string>;
  until: (what: string, check: () => Promise<boolean>) => Promise<void>;
  log: (msg: string) => void;
}

function writeKubeconfig(ctx: RealNodeContext, name: string): string {
  const file = join(ctx.dir, `${name}.kubeconfig`);
  writeFileSync(
    file,
    buildKubeconfig({
      clusterName: 'skyport-local',
      server: ctx.server,
      caPem: readPem(ctx.pki, 'ca.crt'),
      user: {
        name,
        clientCertificatePem: readPem(ctx.pki, `${name}.crt`),
        clientKeyPem: readPem(ctx.pki, `${name}.key`),
      },
    }),
    { mode: 0o600 },
  );
  return file;
}

function writeConfigs(
  ctx: RealNodeContext,
  d: NodeDirs,
  ports: { kubelet: number; kubeletHealthz: number; proxyHealthz: number; proxyMetrics: number },
): { containerd: string; kubelet: string; proxy: string } {
  for (const p of [
    d.containerdRoot,
    d.containerdState,
    d.cniConfDir,
    d.cniIpamDir,
    d.kubeletRoot,
    d.kubeletCerts,
    d.podLogs,
    d.volumePlugins,
    d.opt,
  ])
    mkdirSync(p, { recursive: true });
  const net = REAL_NODE_NETWORK;
  const containerd = join(d.root, 'containerd.toml');
  writeFileSync(
    containerd,
    containerdConfig(d, { sandboxImage: sandboxImage().ref, runc: RUNC, cniBin: CNI_BIN }),
  );
  mkdirSync(join(d.registryHosts, '_default'), { recursive: true });
  writeFileSync(join(d.registryHosts, '_default', 'hosts.toml'), REGISTRY_HOSTS_TOML);
  writeFileSync(join(d.cniConfDir, '10-skyport.conflist'), cniConfList(net, d.cniIpamDir, ctx.serviceCidr));
  const kubelet = join(d.root, 'kubelet.yaml');
  writeFileSync(
    kubelet,
    kubeletConfig({
      dirs: d,
      net,
      caFile: join(ctx.pki, 'ca.crt'),
      tlsCertFile: join(ctx.pki, 'kubelet-serving.crt'),
      tlsKeyFile: join(ctx.pki, 'kubelet-serving.key'),
      port: ports.kubelet,
      healthzPort: ports.kubeletHealthz,
    }),
  );
  const proxy = join(d.root, 'kube-proxy.yaml');
  writeFileSync(
    proxy,
    kubeProxyConfig({
      kubeconfig: writeKubeconfig(ctx, 'kube-proxy'),
      net,
      healthzPort: ports.proxyHealthz,
      metricsPort: ports.proxyMetrics,
    }),
  );
  return { containerd, kubelet, proxy };
}

/**
 * Starts the forwarder, containerd, the kubelet and kube-proxy, imports the node's images, publishes the
 * apiserver as the `kubernetes` Service's endpoint and runs CoreDNS; resolves once the node is Ready and
 * cluster DNS answers.
 */
export async function startRealNode(ctx: RealNodeContext): Promise<void> {
  const t0 = Date.now();
  const d = nodeDirs(ctx.dir);
  const bin = join(nodeCacheDir(), 'bin');
  const net = REAL_NODE_NETWORK;
  const env = { ...process.env, PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` };
  const [kubeletPort, kubeletHealthz, proxyHealthz, proxyMetrics] = await freePorts(4);
  if (!kubeletPort || !kubeletHealthz || !proxyHealthz || !proxyMetrics)
    throw new Error('could not pick node ports');
  const files = writeConfigs(ctx, d, { kubelet: kubeletPort, kubeletHealthz, proxyHealthz, proxyMetrics });

  const readyFile = join(d.root, 'forward.ready');
  rmSync(readyFile, { force: true });
  const fwd = ctx.start(
    'apiserver-forward',
    process.execPath,
    [
      '--import',
      'tsx',
      join(clusterToolkitDir, 'node', 'forward-main.ts'),
      net.hostIP,
      String(ctx.apiPort),
      '127.0.0.1',
      readyFile,
    ],
    { cwd: repoRoot },
  );
  const containerd = ctx.start(
    'containerd',
    join(bin, 'containerd'),
    ['--config', files.containerd, '--log-level', 'warn'],
    { env },
  );
  await ctx.until('containerd', async () => {
    assertRunning(containerd, fwd);
    if (!existsSync(d.containerdSocket)) return false;
    await execFileP(join(bin, 'ctr'), ['--address', d.containerdSocket, 'version']);
    return true;
  });
  const images = nodeImages();
  await Promise.all([
    importImage(ctx.dir, sandboxImage().archive()),
    ...[images.coredns, images.busybox].map((s) => importImage(ctx.dir, imageArchive(s))),
  ]);
  ctx.log(`Started containerd and imported the node's images (${Date.now() - t0} ms)`);

  const kubelet = ctx.start(
    'kubelet',
    join(bin, 'kubelet'),
    [
      `--config=${files.kubelet}`,
      `--kubeconfig=${writeKubeconfig(ctx, 'kubelet-client')}`,
      `--root-dir=${d.kubeletRoot}`,
      `--cert-dir=${d.kubeletCerts}`,
      `--node-ip=${net.hostIP}`,
      `--hostname-override=${REAL_NODE_NAME}`,
      '--node-labels=type=real',
      '--v=1',
    ],
    { env },
  );
  const proxy = ctx.start('kube-proxy', join(bin, 'kube-proxy'), [`--config=${files.proxy}`, '--v=1'], {
    env,
  });
  await waitHealthy(kubelet, `http://127.0.0.1:${kubeletHealthz}/healthz`, {}, ctx.timeoutMs);
  await ctx.until('the real node to be Ready', async () => {
    assertRunning(kubelet, proxy);
    const s = await ctx.kubectl([
      'get',
      'node',
      REAL_NODE_NAME,
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    return s === 'True';
  });
  ctx.log(`Real node ${REAL_NODE_NAME} Ready (${Date.now() - t0} ms)`);

  const manifests = [
    ...kubernetesEndpoints(net.hostIP, ctx.apiPort),
    ...corednsManifests(images.coredns.ref),
    ...policyAgentRbac(),
  ];
  await ctx.kubectl(
    ['apply', '--server-side', '--force-conflicts', '--field-manager=skyport-e2e', '-f', '-'],
    manifests.map((m) => stringify(m)).join('---\n'),
  );
  const policy = await startPolicyAgent(ctx, bin, env);
  ctx.log(`NetworkPolicy agent (kube-router) enforcing on the real node (${Date.now() - t0} ms)`);
  await ctx.until('CoreDNS to be ready', async () => {
    assertRunning(kubelet, proxy, policy);
    const n = await ctx.kubectl([
      'get',
      'deployment',
      'coredns',
      '-n',
      'kube-system',
      '-o',
      'jsonpath={.status.readyReplicas}',
    ]);
    return n === '1';
  });
  ctx.log(`CoreDNS ready on the real node (${Date.now() - t0} ms)`);
}

/**
 * Starts kube-router's NetworkPolicy controller as a host process (like kube-proxy) and resolves once its chain
 * is hooked into FORWARD. Its RBAC must already be applied: it reads its Node object once at start.
 */
async function startPolicyAgent(
  ctx: RealNodeContext,
  bin: string,
  env: NodeJS.ProcessEnv,
): Promise<Component> {
  const agent = ctx.start(
    'kube-router',
    join(bin, 'kube-router'),
    policyAgentArgs({
      kubeconfig: writeKubeconfig(ctx, 'kube-router'),
      nodeName: REAL_NODE_NAME,
      serviceCidr: ctx.serviceCidr,
      syncPeriod: '1m',
    }),
    { env },
  );
  await ctx.until('the NetworkPolicy agent (kube-router) to hook FORWARD', async () => {
    assertRunning(agent);
    const { stdout } = await execFileP('iptables', ['-w', '-S', 'FORWARD'], { env });
    return policyAgentReady(stdout);
  });
  return agent;
}

/** Undoes the node's host changes for the cluster in `clusterDir` (its processes must be stopped). */
export function tearDownRealNode(clusterDir: string): string[] {
  const f = snapshotFile(clusterDir);
  if (!existsSync(f)) return [];
  const snap = JSON.parse(readFileSync(f, 'utf8')) as HostSnapshot;
  const d = nodeDirs(clusterDir);
  const report = tearDownHost(snap, d.root, d.containerdSocket);
  return report;
}

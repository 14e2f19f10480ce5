// What the real node changes on the host, recorded before the change and undone at tear-down: the bridge,
// routes, iptables chains, sysctls, mounts, cgroups and the host directories the kubelet/containerd create.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { NodeNetwork } from './config.js';
import { cleanUpIpsets } from './policy.js';

/** Sysctls the kubelet, kube-proxy and the CNI bridge plugin may set; restored at tear-down. */
export const WATCHED_SYSCTLS = [
  'net/ipv4/ip_forward',
  'vm/overcommit_memory',
  'kernel/panic',
  'kernel/panic_on_oops',
  'net/ipv4/conf/all/route_localnet',
  'net/bridge/bridge-nf-call-iptables',
  'net/bridge/bridge-nf-call-ip6tables',
  'net/netfilter/nf_conntrack_max',
];

/** Host paths the node's components create if missing (removed at tear-down only if we created them). */
export const HOST_PATHS = [
  '/var/lib/kubelet',
  '/var/log/containers',
  '/var/log/pods',
  '/run/containerd',
  '/run/netns',
  '/var/run/netns',
  '/var/lib/cni',
  '/etc/cni',
  '/opt/cni',
  '/opt/containerd',
  '/var/lib/containerd',
  '/run/nri',
  '/usr/libexec/kubernetes',
  '/etc/kubernetes',
  '/var/lib/kube-proxy',
  '/run/xtables.lock',
  '/var/lib/kube-router',
];

/** Chain-name prefixes of the iptables chains the kubelet, kube-proxy, CNI and the toolkit create. */
export const OUR_CHAIN_PREFIXES = ['KUBE-', 'CNI-', 'SKYPORT-'];
/** The toolkit's own FORWARD filter chain. */
export const FORWARD_CHAIN = 'SKYPORT-NODE-FORWARD';
/**
 * The same bridge isolation in mangle FORWARD, which runs before every filter chain: the NetworkPolicy agent
 * puts its jump first in filter FORWARD and ACCEPTs the pod traffic its policies allow, so the filter drops alone
 * would no longer be reached for pod traffic.
 */
export const ISOLATION_CHAIN = 'SKYPORT-NODE-ISOLATE';

/** The host as it was before the node started (`<cluster>/node/host.json`). */
export interface HostSnapshot {
  sysctls: Record<string, string>;
  /** HOST_PATHS that did not exist before. */
  absentPaths: string[];
  net: NodeNetwork;
  cgroupRoot: string;
  /** Route added for kwok's virtual pod CIDR. */
  blackhole: string;
}

/** Records the current value of every watched sysctl and which host paths exist. */
export function snapshotHost(net: NodeNetwork, cgroupRoot: string, blackhole: string): HostSnapshot {
  const sysctls: Record<string, string> = {};
  for (const k of WATCHED_SYSCTLS) {
    const f = join('/proc/sys', k);
    if (existsSync(f)) sysctls[k] = readFileSync(f, 'utf8').trim();
  }
  return { sysctls, absentPaths: HOST_PATHS.filter((p) => !existsSync(p)), net, cgroupRoot, blackhole };
}

function run(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(input ? { input } : {}),
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || (err as Error).message}`, {
      cause: err,
    });
  }
}

/** True when a network interface of that name exists. */
export function linkExists(name: string): boolean {
  return existsSync(join('/sys/class/net', name));
}

/**
 * Creates the pod bridge with the host address, a blackhole route for kwok's virtual pod IPs, the service CIDR
 * routed onto the bridge, and FORWARD chains (filter and mangle) that let traffic move between pods on the bridge
 * but never between the bridge and any other interface. The bridge's alias names the owning cluster directory (one
 * real node per machine).
 *
 * The service route: a host process dialling a ClusterIP before kube-proxy has written that Service's rules used
 * to follow the default route off the machine, where something answered (an empty HTTP 404 was seen), and a
 * keep-alive pool then kept that connection for the Service's address. On the bridge such a packet reaches no one
 * (the connection fails and is retried), and once kube-proxy's DNAT applies it goes to the pod as before. The
 * route goes with the bridge.
 */
export function setUpNetwork(
  net: NodeNetwork,
  ownerDir: string,
  blackhole: string,
  serviceCidr: string,
): void {
  run('ip', ['link', 'add', net.bridge, 'type', 'bridge']);
  run('ip', ['link', 'set', net.bridge, 'alias', `skyport:${ownerDir}`.slice(0, 255)]);
  run('ip', ['addr', 'add', `${net.hostIP}/${net.prefix}`, 'dev', net.bridge]);
  run('ip', ['link', 'set', net.bridge, 'up']);
  run('ip', ['route', 'replace', 'blackhole', blackhole]);
  run('ip', ['route', 'replace', serviceCidr, 'dev', net.bridge, 'src', net.hostIP]);
  run('iptables', ['-w', '-N', FORWARD_CHAIN]);
  run('iptables', ['-w', '-A', FORWARD_CHAIN, '-i', net.bridge, '-o', net.bridge, '-j', 'ACCEPT']);
  run('iptables', ['-w', '-A', FORWARD_CHAIN, '-i', net.bridge, '-j', 'DROP']);
  run('iptables', ['-w', '-A', FORWARD_CHAIN, '-o', net.bridge, '-j', 'DROP']);
  run('iptables', ['-w', '-I', 'FORWARD', '1', '-j', FORWARD_CHAIN]);
  const m = ['-w', '-t', 'mangle'];
  run('iptables', [...m, '-N', ISOLATION_CHAIN]);
  run('iptables', [...m, '-A', ISOLATION_CHAIN, '-i', net.bridge, '!', '-o', net.bridge, '-j', 'DROP']);
  run('iptables', [...m, '-A', ISOLATION_CHAIN, '!', '-i', net.bridge, '-o', net.bridge, '-j', 'DROP']);
  run('iptables', [...m, '-I', 'FORWARD', '1', '-j', ISOLATION_CHAIN]);
}

/** The cluster directory recorded on an existing bridge, if it is ours. */
export function bridgeOwner(bridge: string): string | undefined {
  try {
    const alias = readFileSync(join('/sys/class/net', bridge, 'ifalias'), 'utf8').trim();
    return alias.startsWith('skyport:') ? alias.slice('skyport:'.length) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits one `iptables-save` rule line into argv, honouring double quotes. */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line))
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? ''));
  return out;
}

const ours = (chain: string): boolean => OUR_CHAIN_PREFIXES.some((p) => chain.startsWith(p));

/**
 * From `iptables-save -t <table>` output: the rules of built-in chains that jump to one of our chains
 * (to delete first) and our chains (to flush and delete). Pure.
 */
export function planIptablesCleanup(save: string): { deletes: string[][]; chains: string[] } {
  const chains: string[] = [];
  const deletes: string[][] = [];
  for (const line of save.split('\n')) {
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      if (ours(name)) chains.push(name);
    } else if (line.startsWith('-A ')) {
      const argv = splitRule(line);
      const chain = argv[1] ?? '';
      const j = argv.indexOf('-j');
      const target = j >= 0 ? (argv[j + 1] ?? '') : '';
      if (!ours(chain) && ours(target)) deletes.push(['-D', ...argv.slice(1)]);
    }
  }
  return { deletes, chains };
}

/** Removes every chain of ours (and the jumps to them) from filter, nat and mangle, IPv4 and IPv6. */
export function cleanUpIptables(report: string[]): void {
  for (const [save, tool] of [
    ['iptables-save', 'iptables'],
    ['ip6tables-save', 'ip6tables'],
  ] as const) {
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      let text: string;
      try {
        text = run(save, ['-t', table]);
      } catch {
        continue;
      }
      const plan = planIptablesCleanup(text);
      for (const d of plan.deletes) tryRun(report, tool, ['-w', '-t', table, ...d]);
      for (const c of plan.chains) tryRun(report, tool, ['-w', '-t', table, '-F', c]);
      for (const c of plan.chains) tryRun(report, tool, ['-w', '-t', table, '-X', c]);
      if (plan.chains.length > 0) report.push(`${tool} ${table}: removed ${plan.chains.length} chains`);
    }
  }
}

function tryRun(report: string[], cmd: string, args: string[]): void {
  try {
    run(cmd, args);
  } catch (err) {
    report.push(`warning: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
}

/** Mount points at or below `dir` (deepest first), from /proc/self/mountinfo. */
export function mountsUnder(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const unescape = (s: string): string =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountinfo
    .split('\n')
    .map((l) => unescape(l.split(' ')[4] ?? ''))
    .filter((m) => m === dir || m.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts everything below `dir` (lazily if busy); returns what is still mounted afterwards. */
export function unmountUnder(dir: string, report: string[]): string[] {
  for (let pass = 0; pass < 3; pass++) {
    const left = mountsUnder(dir);
    if (left.length === 0) return [];
    for (const m of left) {
      try {
        run('umount', [m]);
      } catch {
        tryRun(report, 'umount', ['-l', m]);
      }
    }
  }
  return mountsUnder(dir);
}

/** cgroup v1 controller hierarchies and the hybrid `unified` tree (or the v2 root) the cgroup root lives in. */
function cgroupHierarchies(): string[] {
  const base = '/sys/fs/cgroup';
  if (existsSync(join(base, 'cgroup.controllers'))) return [base];
  return readdirSync(base)
    .map((d) => join(base, d))
    .filter((d) => existsSync(join(d, 'cgroup.procs')));
}

function walkCgroups(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) walkCgroups(join(dir, e.name), out);
  out.push(dir);
}

/** Every PID in any cgroup below `cgroupRoot`, all hierarchies. */
export function pidsInCgroups(cgroupRoot: string): number[] {
  const pids = new Set<number>();
  for (const h of cgroupHierarchies()) {
    const all: string[] = [];
    walkCgroups(join(h, cgroupRoot), all);
    for (const cg of all) {
      try {
        for (const p of readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n'))
          if (p) pids.add(Number(p));
      } catch {
        // removed meanwhile
      }
    }
  }
  return [...pids];
}

const sleepSync = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** SIGKILLs every process in the node's cgroups (the containers) until none is left. */
export function killCgroupProcesses(cgroupRoot: string, report: string[]): void {
  for (let i = 0; i < 50; i++) {
    const pids = pidsInCgroups(cgroupRoot);
    if (pids.length === 0) return;
    if (i === 0) report.push(`killing ${pids.length} container processes`);
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    sleepSync(100);
  }
  report.push(`warning: processes still in ${cgroupRoot}: ${pidsInCgroups(cgroupRoot).join(' ')}`);
}

/**
 * Creates `cgroupRoot` in every hierarchy (the kubelet requires it to exist). On cgroup v1 a new cpuset
 * cgroup starts with no CPUs or memory nodes, so it inherits its parent's.
 */
export function createCgroups(cgroupRoot: string): void {
  for (const h of cgroupHierarchies()) {
    const dir = join(h, cgroupRoot);
    mkdirSync(dir, { recursive: true });
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const parent = join(dir, '..', f);
      if (existsSync(parent) && readFileSync(join(dir, f), 'utf8').trim() === '')
        writeFileSync(join(dir, f), readFileSync(parent, 'utf8'));
    }
  }
}

/** Removes the cgroup tree below `cgroupRoot` in every hierarchy (children first). */
export function removeCgroups(cgroupRoot: string, report: string[]): void {
  for (const h of cgroupHierarchies()) {
    const all: string[] = [];
    walkCgroups(join(h, cgroupRoot), all);
    for (const cg of all) {
      try {
        rmdirSync(cg);
      } catch (err) {
        report.push(`warning: rmdir ${cg}: ${(err as Error).message}`);
      }
    }
  }
}

/**
 * PIDs of containerd shims serving our containerd socket: they daemonise out of our process tree, so they
 * are found by their `-address <socket>` argument, never by name alone.
 */
export function shimPids(socket: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(join('/proc', e, 'cmdline'), 'utf8').split('\0');
      const a = argv.indexOf('-address');
      if (/containerd-shim/.test(argv[0] ?? '') && a >= 0 && argv[a + 1] === socket) pids.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Writes `value` to a sysctl; reports instead of throwing. */
function writeSysctl(key: string, value: string, report: string[]): void {
  const f = join('/proc/sys', key);
  try {
    if (!existsSync(f) || readFileSync(f, 'utf8').trim() === value) return;
    writeFileSync(f, value);
    report.push(`restored ${key.replaceAll('/', '.')} = ${value}`);
  } catch (err) {
    report.push(`warning: sysctl ${key}: ${(err as Error).message}`);
  }
}

/**
 * Undoes everything the node did on the host, given the snapshot taken before it started. Idempotent;
 * the node's processes must already be stopped. Never deletes a directory that still has a mount below it.
 */
export function tearDownHost(snap: HostSnapshot, nodeRoot: string, containerdSocket: string): string[] {
  const report: string[] = [];
  killCgroupProcesses(snap.cgroupRoot, report);
  for (const p of shimPids(containerdSocket)) {
    try {
      process.kill(p, 'SIGKILL');
      report.push(`killed containerd shim ${p}`);
    } catch {
      // gone
    }
  }
  sleepSync(100);
  const left = unmountUnder(nodeRoot, report);
  if (left.length > 0) report.push(`warning: still mounted (kept ${nodeRoot}): ${left.join(', ')}`);
  removeCgroups(snap.cgroupRoot, report);
  if (linkExists(snap.net.bridge)) {
    tryRun(report, 'ip', ['link', 'del', snap.net.bridge]);
    report.push(`deleted bridge ${snap.net.bridge}`);
  }
  try {
    run('ip', ['route', 'del', 'blackhole', snap.blackhole]);
    report.push(`deleted blackhole route ${snap.blackhole}`);
  } catch {
    // not there
  }
  cleanUpIptables(report);
  cleanUpIpsets(report);
  for (const [k, v] of Object.entries(snap.sysctls)) writeSysctl(k, v, report);
  for (const p of snap.absentPaths) {
    if (!existsSync(p)) continue;
    if (statSync(p).isDirectory() && mountsUnder(p).length > 0) {
      report.push(`warning: ${p} has mounts below it; kept`);
      continue;
    }
    rmSync(p, { recursive: true, force: true });
    report.push(`removed ${p}`);
  }
  if (left.length === 0) rmSync(nodeRoot, { recursive: true, force: true });
  return report;
}

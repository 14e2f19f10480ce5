// What a real node could leave behind on the host, to assert that tear-down removed all of it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_PATHS, OUR_CHAIN_PREFIXES, WATCHED_SYSCTLS, mountsUnder } from '../cluster/node/host.js';
import { POD_CIDR } from '../cluster/cluster.js';
import { REAL_NODE_CGROUP_ROOT, REAL_NODE_NETWORK } from '../cluster/node/config.js';
import { ourIpsets } from '../cluster/node/policy.js';

/** The host state tear-down must restore: sysctl values and which host paths exist. */
export interface HostBaseline {
  sysctls: Record<string, string>;
  absentPaths: string[];
}

export function hostBaseline(): HostBaseline {
  const sysctls: Record<string, string> = {};
  for (const k of WATCHED_SYSCTLS) {
    const f = join('/proc/sys', k);
    if (existsSync(f)) sysctls[k] = readFileSync(f, 'utf8').trim();
  }
  return { sysctls, absentPaths: HOST_PATHS.filter((p) => !existsSync(p)) };
}

const sh = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
};

/** Everything of the cluster in `dir` still present on the host; empty when tear-down was complete. */
export function leftovers(dir: string, base: HostBaseline, nodeBinDir: string): string[] {
  const found: string[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(join('/proc', e, 'cmdline'), 'utf8').replaceAll('\0', ' ');
      let exe = '';
      try {
        exe = readlinkSync(join('/proc', e, 'exe'));
      } catch {
        // kernel thread or gone
      }
      if (cmd.includes(dir) || exe.startsWith(nodeBinDir)) found.push(`process ${e}: ${cmd.slice(0, 120)}`);
    } catch {
      // exited meanwhile
    }
  }
  const links = sh('ip', ['-o', 'link']);
  if (links.includes(`${REAL_NODE_NETWORK.bridge}:`) || links.includes(`master ${REAL_NODE_NETWORK.bridge}`))
    found.push(
      `interface: ${links
        .split('\n')
        .filter((l) => l.includes(REAL_NODE_NETWORK.bridge))
        .join('; ')}`,
    );
  if (sh('ip', ['route']).includes(`blackhole ${POD_CIDR}`)) found.push(`blackhole route ${POD_CIDR}`);
  for (const save of ['iptables-save', 'ip6tables-save']) {
    const chains = sh(save, [])
      .split('\n')
      .filter((l) => l.startsWith(':') && OUR_CHAIN_PREFIXES.some((p) => l.startsWith(`:${p}`)));
    if (chains.length > 0) found.push(`${save}: ${chains.join(' ')}`);
  }
  // The NetworkPolicy agent's (kube-router's) ipsets; its chains are KUBE-* and checked above.
  const sets = ourIpsets(sh('ipset', ['list', '-n']));
  if (sets.length > 0) found.push(`ipsets: ${sets.join(' ')}`);
  const mounts = [...mountsUnder(dir), ...mountsUnder('/run/netns'), ...mountsUnder('/var/lib/kubelet')];
  if (mounts.length > 0) found.push(`mounts: ${mounts.join(', ')}`);
  for (const h of readdirSync('/sys/fs/cgroup')) {
    if (existsSync(join('/sys/fs/cgroup', h, REAL_NODE_CGROUP_ROOT)))
      found.push(`cgroup ${h}${REAL_NODE_CGROUP_ROOT}`);
  }
  const now = hostBaseline();
  for (const [k, v] of Object.entries(base.sysctls))
    if (now.sysctls[k] !== v) found.push(`sysctl ${k} = ${now.sysctls[k] ?? '?'} (was ${v})`);
  for (const p of base.absentPaths) if (existsSync(p)) found.push(`host path ${p} (did not exist before)`);
  if (existsSync(join(dir, 'node'))) found.push(`${join(dir, 'node')} still exists`);
  return found;
}

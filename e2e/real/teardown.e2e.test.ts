// The real node leaves nothing behind: after `stop()` (= `npm run cluster:down`) and after its owning
// process dies (SIGTERM, SIGKILL), no process, interface, route, iptables chain, ipset, mount, cgroup, sysctl
// change or host directory of it is left. Starts its own clusters, so it runs only when no real node is up.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, kubectl, nodeCacheDir, repoRoot, startCluster } from '../cluster/index.js';
import { REAL_NODE_NETWORK } from '../cluster/node/config.js';
import { linkExists } from '../cluster/node/host.js';
import { realNodePreflight } from '../cluster/node/node.js';
import { hostBaseline, leftovers } from './leftovers.js';

const why =
  realNodePreflight() ??
  (linkExists(REAL_NODE_NETWORK.bridge)
    ? `a real node already runs on this machine (bridge ${REAL_NODE_NETWORK.bridge}); run this file without SKYPORT_REAL_NODE=1`
    : undefined);
const nodeBin = join(nodeCacheDir(), 'bin');

describe.skipIf(why !== undefined)(`real node tear-down${why ? ` (skipped: ${why})` : ''}`, () => {
  it('stop() removes everything the real node created on the host', async () => {
    const base = hostBaseline();
    const dir = mkdtempSync(join(tmpdir(), 'skyport-teardown-'));
    const c = await startCluster({ dir, realNode: true, timeoutMs: 120_000 });
    try {
      // A NetworkPolicy makes the policy agent create ipsets, which tear-down must destroy too.
      await kubectl(['apply', '-f', '-'], {
        kubeconfig: c.kubeconfigPath,
        // JSON, not YAML: kubectl reads YAML 1.1, where a label value `y` is the boolean true.
        input: JSON.stringify({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'teardown', namespace: 'default' },
          spec: {
            podSelector: { matchLabels: { app: 'x' } },
            policyTypes: ['Ingress'],
            ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } } }] }],
          },
        }),
      });
      await eventually(() => expect(leftovers(dir, base, nodeBin).join('\n')).toMatch(/ipsets: KUBE-/), {
        timeoutMs: 60_000,
        intervalMs: 500,
        description: "the policy agent's ipsets",
      });
      // Sanity: while it runs, the leftovers check does see it (so an empty list later means something).
      expect(leftovers(dir, base, nodeBin).length).toBeGreaterThan(3);
    } finally {
      await c.stop({ removeDir: false });
    }
    expect(leftovers(dir, base, nodeBin)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`a watchdog tears the node down when its owner gets ${signal}`, async () => {
      const base = hostBaseline();
      const dir = mkdtempSync(join(tmpdir(), 'skyport-owner-'));
      const owner = spawn(
        process.execPath,
        ['--import', 'tsx', join(repoRoot, 'e2e', 'real', 'owner-main.ts'), dir],
        {
          cwd: repoRoot,
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      await new Promise<void>((ok, fail) => {
        owner.stdout.on('data', (d: Buffer) => d.toString().includes('READY') && ok());
        owner.once('exit', (code) => fail(new Error(`owner exited with ${code} before READY`)));
      });
      expect(leftovers(dir, base, nodeBin).length).toBeGreaterThan(3);
      owner.kill(signal);
      await eventually(() => expect(leftovers(dir, base, nodeBin)).toEqual([]), {
        timeoutMs: 60_000,
        intervalMs: 500,
        description: `clean host after ${signal} to the owner`,
      });
      rmSync(dir, { recursive: true, force: true });
    }, 300_000);
  }
});

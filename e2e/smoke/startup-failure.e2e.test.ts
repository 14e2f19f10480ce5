// A component that cannot start fails startCluster fast, with its log tail, and leaves nothing running.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ComponentError, readClusterState, startCluster } from '../cluster/index.js';

/** PIDs whose command line mentions `text` (our components all get paths under the cluster dir). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const dir = mkdtempSync(join(tmpdir(), 'skyport-broken-cluster-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startCluster with a broken component', () => {
  it('rejects within seconds naming the component and quoting its log, then stops what it started', async () => {
    const t0 = Date.now();
    const err = await startCluster({ dir, extraArgs: { 'kube-apiserver': ['--no-such-flag=1'] } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ComponentError);
    expect((err as ComponentError).component).toBe('kube-apiserver');
    expect((err as Error).message).toMatch(/kube-apiserver exited \(code 1/);
    expect((err as Error).message).toContain('unknown flag: --no-such-flag');
    expect(Date.now() - t0).toBeLessThan(30_000);
    // etcd had started before the apiserver: it must be gone, and the state file with it.
    expect(readClusterState(dir)).toBeUndefined();
    const etcdLog = join(dir, 'logs', 'etcd.log');
    expect(existsSync(etcdLog)).toBe(true);
    expect(processesMentioning(dir)).toEqual([]);
  });

  it('retries a port clash with new ports, and gives up after 3 attempts with the clash in the error', async () => {
    // A port held by someone else, forced on etcd's metrics listener, stands in for a lost port race.
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', () => ok()));
    const port = (blocker.address() as AddressInfo).port;
    const logs: string[] = [];
    try {
      const err = await startCluster({
        dir,
        log: (m) => logs.push(m),
        extraArgs: { etcd: [`--listen-metrics-urls=http://127.0.0.1:${port}`] },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ComponentError);
      expect((err as Error).message).toMatch(/address already in use/);
      expect(logs.filter((l) => l.startsWith('Retrying with new ports'))).toHaveLength(2);
      expect(processesMentioning(dir)).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});

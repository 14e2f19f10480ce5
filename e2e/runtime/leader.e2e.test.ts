// Leader election on a real Lease: one leader, takeover within the lease after a crash, instant handover on release.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kube } from '../../operator/src/kube/index.js';
import { LeaderElector, type Lease } from '../../operator/src/runtime/index.js';
import { createNamespace, deleteNamespace, eventually } from '../cluster/index.js';
import { adminKubeconfig, sleep } from './support.js';

let kubeconfig: string;
let kube: Kube;
let ns: string;

beforeAll(async () => {
  kubeconfig = adminKubeconfig();
  kube = Kube.fromConfig({ kubeconfig });
  ns = await createNamespace('rt-leader', { kubeconfig });
});

afterAll(async () => {
  await deleteNamespace(ns, { kubeconfig });
});

/** Two candidates with the production timings (15 s lease, 10 s renew deadline, 2 s retry). */
function pair(lease: string): { a: LeaderElector; b: LeaderElector; events: string[] } {
  const events: string[] = [];
  const mk = (id: string): LeaderElector =>
    // Separate clients, as two processes would have.
    new LeaderElector(Kube.fromConfig({ kubeconfig }), {
      name: lease,
      namespace: ns,
      identity: id,
      onStartedLeading: () => events.push(`${id} leads`),
      onStoppedLeading: () => events.push(`${id} stopped`),
    });
  return { a: mk('a'), b: mk('b'), events };
}

const readLease = (name: string): Promise<Lease | undefined> =>
  kube.get<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns, name });

describe('LeaderElector', () => {
  it('elects exactly one leader and keeps it while it renews', async () => {
    const { a, b } = pair('one-leader');
    a.start();
    await eventually(() => a.isLeader, { timeoutMs: 10_000 });
    b.start();
    // Several renew periods: the standby never takes over a live lease.
    for (let i = 0; i < 6; i++) {
      await sleep(1000);
      expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    }
    const lease = await readLease('one-leader');
    expect(lease?.spec?.holderIdentity).toBe('a');
    expect(lease?.spec?.leaseDurationSeconds).toBe(15);
    expect(b.leader).toBe('a');
    await a.stop();
    await b.stop();
  });

  it('a standby takes over within the 15 s lease after the leader crashes (stops renewing, no release)', async () => {
    const { a, b, events } = pair('crash');
    a.start();
    await eventually(() => a.isLeader, { timeoutMs: 10_000 });
    b.start();
    await sleep(3000);
    const before = await readLease('crash');
    const lastRenew = Date.parse(before?.spec?.renewTime ?? '');
    // Simulated crash: the renew loop stops and the Lease is left as it was.
    await a.stop({ release: false });
    const crashedAt = Date.now();
    const after = await readLease('crash');
    expect(after?.spec?.holderIdentity).toBe('a');
    await eventually(() => b.isLeader, {
      timeoutMs: 20_000,
      intervalMs: 50,
      description: 'standby takes over',
    });
    const tookOverAt = Date.now();
    const finalLease = await readLease('crash');
    const lastRenewBeforeCrash = Math.max(lastRenew, Date.parse(after?.spec?.renewTime ?? ''));
    console.log(
      `[leader] takeover ${tookOverAt - crashedAt} ms after the crash, ${tookOverAt - lastRenewBeforeCrash} ms after the last renewal`,
    );
    expect(tookOverAt - crashedAt).toBeLessThanOrEqual(15_000);
    expect(tookOverAt - lastRenewBeforeCrash).toBeGreaterThanOrEqual(14_500);
    expect(finalLease?.spec?.holderIdentity).toBe('b');
    expect(finalLease?.spec?.leaseTransitions).toBe(1);
    expect(events).toEqual(['a leads', 'a stopped', 'b leads']);
    await b.stop();
  });

  it('release on shutdown hands over at the standby next retry', async () => {
    const { a, b } = pair('release');
    a.start();
    await eventually(() => a.isLeader, { timeoutMs: 10_000 });
    b.start();
    await sleep(2500);
    const t0 = Date.now();
    await a.stop();
    const released = await readLease('release');
    expect(released?.spec?.holderIdentity ?? '').toBe('');
    await eventually(() => b.isLeader, {
      timeoutMs: 5000,
      intervalMs: 50,
      description: 'handover after release',
    });
    const handover = Date.now() - t0;
    console.log(`[leader] handover ${handover} ms after release`);
    expect(handover).toBeLessThanOrEqual(2500);
    await b.stop();
  });

  it('never has two leaders when both race for a free lease', async () => {
    const candidates = ['c1', 'c2', 'c3', 'c4'].map(
      (id) =>
        new LeaderElector(Kube.fromConfig({ kubeconfig }), {
          name: 'race',
          namespace: ns,
          identity: id,
          retryPeriodMs: 200,
          renewDeadlineMs: 1000,
          leaseDurationMs: 2000,
        }),
    );
    for (const c of candidates) c.start();
    let maxLeaders = 0;
    for (let i = 0; i < 40; i++) {
      await sleep(50);
      maxLeaders = Math.max(maxLeaders, candidates.filter((c) => c.isLeader).length);
    }
    expect(maxLeaders).toBe(1);
    const leader = candidates.find((c) => c.isLeader);
    expect((await readLease('race'))?.spec?.holderIdentity).toBe(leader?.leader);
    await Promise.all(candidates.map((c) => c.stop()));
  });
});

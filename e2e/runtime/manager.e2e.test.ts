// Manager end to end: a controller on the runtime converges, recovers children, parks terminal errors,
// serves probes and metrics, and as a process drains on SIGTERM, releases the Lease and exits 0.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kube } from '../../operator/src/kube/index.js';
import { Manager, createLogger, type Lease } from '../../operator/src/runtime/index.js';
import { createNamespace, deleteNamespace, eventually, freePort, repoRoot } from '../cluster/index.js';
import { addWidgetController, stats, type Widget } from './fixtures/widget-operator.js';
import {
  FaultProxy,
  WIDGET,
  adminKubeconfig,
  apiserverTarget,
  ensureWidgetCrd,
  proxiedKubeconfig,
  sleep,
} from './support.js';

let kubeconfig: string;
let kube: Kube;
let ns: string;

beforeAll(async () => {
  kubeconfig = adminKubeconfig();
  kube = Kube.fromConfig({ kubeconfig });
  await ensureWidgetCrd(kubeconfig);
  ns = await createNamespace('rt-manager', { kubeconfig });
});

afterAll(async () => {
  await deleteNamespace(ns, { kubeconfig });
});

const widgetRef = (name: string) => ({
  apiVersion: WIDGET.apiVersion,
  kind: WIDGET.kind,
  namespace: ns,
  name,
});
const dataRef = (name: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespace: ns,
  name: `${name}-data`,
});
const applyWidget = (name: string, spec: Widget['spec']) =>
  new Kube(kube.kc, 'e2e-user').apply({
    apiVersion: WIDGET.apiVersion,
    kind: WIDGET.kind,
    metadata: { name, namespace: ns },
    spec,
  });

function config(identity: string, probePort: number) {
  return {
    namespaces: [ns],
    workers: 2,
    leaderElection: { enabled: true, leaseName: 'widget-operator', leaseNamespace: ns, identity },
    probePort,
    probeHost: '127.0.0.1',
    resyncPeriodMs: 60_000,
  };
}

describe('Manager in process', () => {
  let mgr: Manager;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    mgr = new Manager({ kube, config: config('in-process', port), log: createLogger('warn') });
    addWidgetController(mgr);
    await mgr.start();
  });

  afterAll(async () => {
    await mgr.shutdown();
  });

  it('becomes ready, leads and converges a Widget into a child and a status', async () => {
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, {
      timeoutMs: 20_000,
    });
    await eventually(() => mgr.isLeader, { timeoutMs: 20_000 });
    await applyWidget('alpha', { size: 3, mode: 'ok' });
    const w = await eventually(
      async () => {
        const o = await kube.get<Widget>(widgetRef('alpha'));
        expect(o?.status?.phase).toBe('Ready');
        return o as Widget;
      },
      { timeoutMs: 20_000 },
    );
    expect(w.status?.observedGeneration).toBe(1);
    const cm = await kube.get(dataRef('alpha'));
    expect(cm?.data).toEqual({ size: '3' });
    expect(cm?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Widget',
      name: 'alpha',
      uid: w.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    });
    expect(cm?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('skyport-operator');
  });

  it('re-creates a deleted child (child events reach the owner through the owner index)', async () => {
    const before = await kube.get(dataRef('alpha'));
    await kube.delete(dataRef('alpha'));
    const after = await eventually(
      async () => {
        const o = await kube.get(dataRef('alpha'));
        expect(o?.metadata?.uid).toBeDefined();
        expect(o?.metadata?.uid).not.toBe(before?.metadata?.uid);
        return o;
      },
      { timeoutMs: 15_000 },
    );
    expect(after?.data).toEqual({ size: '3' });
  });

  it('follows a spec change and keeps Ready transition time when Ready stays True', async () => {
    const first = await kube.get<Widget>(widgetRef('alpha'));
    const t0 = first?.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
    await sleep(1100); // so a wrongly moved transition time would differ at second precision
    await applyWidget('alpha', { size: 5, mode: 'ok' });
    await eventually(async () => expect((await kube.get(dataRef('alpha')))?.data).toEqual({ size: '5' }), {
      timeoutMs: 15_000,
    });
    const w = await eventually(async () => {
      const o = await kube.get<Widget>(widgetRef('alpha'));
      expect(o?.status?.observedGeneration).toBe(2);
      return o as Widget;
    });
    expect(w.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe(t0);
  });

  it('records a TerminalError as Degraded with its code (the runtime default: no onTerminal) and stops retrying until the spec changes', async () => {
    const runsBefore = stats.terminal;
    await applyWidget('broken', { size: 1, mode: 'terminal' });
    const w = await eventually(
      async () => {
        const o = await kube.get<Widget>(widgetRef('broken'));
        expect(o?.status?.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('True');
        return o as Widget;
      },
      { timeoutMs: 15_000 },
    );
    expect(w.status?.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'WidgetRefused',
      message: 'mode "terminal" cannot be reconciled (size 1)',
      observedGeneration: 1,
    });
    expect(w.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'WidgetRefused',
    });
    expect(w.status?.observedGeneration).toBe(1);
    // Our own status write and a resync-style nudge do not retry it: same generation.
    await sleep(2000);
    expect(stats.terminal - runsBefore).toBe(1);
    // Fixing the spec (new generation) reconciles again and clears Degraded.
    await applyWidget('broken', { size: 1, mode: 'ok' });
    await eventually(
      async () => {
        const o = await kube.get<Widget>(widgetRef('broken'));
        expect(o?.status?.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'False' });
        expect(o?.status?.phase).toBe('Ready');
      },
      { timeoutMs: 15_000 },
    );
  });

  it('serves controller-runtime metrics and health', async () => {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/controller_runtime_reconcile_total\{controller="widget",result="success"\} [1-9]/);
    expect(text).toMatch(/controller_runtime_reconcile_errors_total\{controller="widget"\} [1-9]/);
    expect(text).toMatch(
      /controller_runtime_reconcile_time_seconds_bucket\{le="0.005",controller="widget"\}/,
    );
    expect(text).toMatch(/workqueue_adds_total\{name="widget",controller="widget"\} [1-9]/);
    expect(text).toMatch(/workqueue_depth\{name="widget",controller="widget"\} 0/);
    expect(text).toMatch(/workqueue_queue_duration_seconds_count\{name="widget",controller="widget"\} [1-9]/);
    expect(text).toMatch(/workqueue_work_duration_seconds_count/);
    expect(text).toMatch(/workqueue_retries_total/);
    expect(text).toMatch(/leader_election_master_status\{name="widget-operator"\} 1/);
  });
});

describe('Manager as a process', () => {
  it('on SIGTERM drains the in-flight reconcile, releases the Lease and exits 0; a standby takes over', async () => {
    // The in-process manager above released the lease on shutdown; two processes now compete.
    const dir = mkdtempSync(join(tmpdir(), 'widget-op-'));
    const fixture = join(repoRoot, 'e2e', 'runtime', 'fixtures', 'widget-operator.ts');
    const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
    const start = async (id: string) => {
      const port = await freePort();
      const out = createWriteStream(join(dir, `${id}.log`));
      const child = spawn(
        tsx,
        [
          fixture,
          `--kubeconfig=${kubeconfig}`,
          `--namespaces=${ns}`,
          `--lease-namespace=${ns}`,
          '--lease-name=widget-proc',
          `--identity=${id}`,
          `--probe-port=${port}`,
          '--probe-host=127.0.0.1',
          '--log-level=info',
        ],
        {
          env: { ...process.env, WIDGET_SLOW_MS: '1500' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout.pipe(out);
      child.stderr.pipe(out);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { id, port, child, exited, log: () => readFileSync(join(dir, `${id}.log`), 'utf8') };
    };
    const leaseHolder = async () =>
      (
        await kube.get<Lease>({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          namespace: ns,
          name: 'widget-proc',
        })
      )?.spec?.holderIdentity ?? '';
    const p1 = await start('proc-1');
    await eventually(async () => expect(await leaseHolder()).toBe('proc-1'), {
      timeoutMs: 60_000,
      description: 'proc-1 leads',
    });
    const p2 = await start('proc-2');
    await eventually(async () => (await fetch(`http://127.0.0.1:${p2.port}/readyz`)).status === 200, {
      timeoutMs: 60_000,
      description: 'standby ready',
    });
    // A standby is ready (warm cache, campaigning) but does not reconcile.
    expect(await leaseHolder()).toBe('proc-1');
    const standbyMetrics = await (await fetch(`http://127.0.0.1:${p2.port}/metrics`)).text();
    expect(standbyMetrics).toMatch(/leader_election_master_status\{name="widget-proc"\} 0/);
    expect(standbyMetrics).not.toMatch(
      /controller_runtime_reconcile_total\{controller="widget",result="success"\} [1-9]/,
    );

    // Start a slow reconcile on the leader, then SIGTERM it mid-flight.
    await applyWidget('gamma', { size: 7, mode: 'ok' });
    await eventually(() => expect(p1.log()).toMatch(/"name":"gamma".*Started slow reconcile/), {
      timeoutMs: 15_000,
      intervalMs: 50,
      description: 'slow reconcile started',
    });
    p1.child.kill('SIGTERM');
    const t0 = Date.now();
    expect(await p1.exited).toBe(0);
    const log1 = p1.log();
    expect(log1).toContain('Received signal');
    expect(log1).toContain('Released leader lease');
    // Order: the signal, the drained reconcile, then the lease release.
    expect(log1.indexOf('Received signal')).toBeLessThan(log1.search(/"name":"gamma".*Reconciled widget/));
    expect(log1.search(/"name":"gamma".*Reconciled widget/)).toBeLessThan(
      log1.indexOf('Released leader lease'),
    );
    // The in-flight reconcile finished before exit: its child exists.
    expect((await kube.get(dataRef('gamma')))?.data).toEqual({ size: '7' });
    // The standby takes over at its next retry, not after the 15 s lease.
    await eventually(async () => expect(await leaseHolder()).toBe('proc-2'), {
      timeoutMs: 5000,
      intervalMs: 100,
      description: 'proc-2 takes over',
    });
    console.log(`[manager] standby leads ${Date.now() - t0} ms after SIGTERM to the leader`);
    p2.child.kill('SIGTERM');
    expect(await p2.exited).toBe(0);
  });
});

describe('Manager losing the apiserver', () => {
  it('steps down when it cannot renew within the deadline and stops with exit code 1', async () => {
    const proxy = new FaultProxy(apiserverTarget(kubeconfig));
    await proxy.listen();
    const via = Kube.fromConfig({ kubeconfig: proxiedKubeconfig(kubeconfig, proxy.port).path });
    const cfg = config('partitioned', await freePort());
    const mgr = new Manager({
      kube: via,
      config: { ...cfg, leaderElection: { ...cfg.leaderElection, leaseName: 'widget-partition' } },
      log: createLogger('silent'),
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 500,
    });
    addWidgetController(mgr);
    await mgr.start();
    await eventually(() => mgr.isLeader, { timeoutMs: 20_000 });
    const t0 = Date.now();
    proxy.pause();
    const stopped = await mgr.done;
    const after = Date.now() - t0;
    console.log(`[manager] stepped down ${after} ms after losing the apiserver`);
    expect(stopped).toEqual({ reason: 'leader election lost', exitCode: 1 });
    expect(mgr.isLeader).toBe(false);
    expect(after).toBeGreaterThanOrEqual(1500);
    expect(after).toBeLessThan(10_000);
    await proxy.close();
  });
});

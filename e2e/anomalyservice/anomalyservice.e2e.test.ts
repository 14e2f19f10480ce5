// AnomalyService end to end on the real local control plane (kwok plays the kubelet): every child with owner,
// labels, restricted security and NetworkPolicies; `kubectl scale` through the scale subresource; CEL rejections
// naming the field (and ajv agreeing); queue-depth autoscaling against a loopback /v1/status server; kill -9
// mid-reconcile without duplicates; delete → children gone.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, kubectl, kubectlJson, repoRoot, ToolError, uniqueName } from '../cluster/index.js';
import { operatorSuite } from '../operator/suite.js';
import type { OperatorProcess } from '../operator/support.js';
import {
  anomalyService,
  apply,
  CHILD_KINDS,
  condOf,
  getSvc,
  ownedBy,
  startStatusServer,
  type Child,
  type StatusServer,
} from './support.js';

const run = uniqueName('as');
let status: StatusServer;
const { ns, start, dumpOnFailure } = operatorSuite({
  namespace: 'anomaly',
  profiles: [],
  stopSignal: 'SIGKILL',
  setUp: async () => {
    status = await startStatusServer();
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/anomalyservices.skyport.io']);
  },
});
afterAll(async () => {
  await status?.close();
});

async function operator(identity: string): Promise<OperatorProcess> {
  const op = await start({
    identity,
    args: [`--lease-name=${run}`, '--controllers=anomalyservice', `--namespaces=${ns()}`],
    env: {
      SKYPORT_ANOMALY_STATUS_URL_TEMPLATE: status.urlTemplate,
      SKYPORT_ANOMALY_STATUS_INTERVAL: '1s',
    },
  });
  // Generous: the operator runs from source through tsx on a machine shared with other test runs.
  await eventually(async () => (await op.probe('/readyz')) === 200, {
    timeoutMs: 120_000,
    description: 'operator ready',
  });
  return op;
}

/** The generated token of a service, once its Secret exists. */
async function tokenOf(name: string): Promise<string> {
  const s = await kubectlJson<Child>(['get', 'secret', `${name}-tokens`, '-n', ns()]);
  const tokens = Buffer.from(s.data?.['TOKENS'] ?? '', 'base64').toString('utf8');
  return tokens.split('=')[1] ?? '';
}

async function rejection(obj: unknown, verb: 'create' | 'apply' = 'create'): Promise<string> {
  try {
    await kubectl(verb === 'create' ? ['create', '-f', '-'] : ['apply', '-f', '-'], {
      input: JSON.stringify(obj),
    });
  } catch (err) {
    if (err instanceof ToolError) return err.stderr;
    throw err;
  }
  throw new Error(`the apiserver accepted ${JSON.stringify(obj)}`);
}

type Pod = {
  securityContext: Record<string, unknown>;
  containers: { securityContext: Record<string, unknown> }[];
};

let op: OperatorProcess;

describe('AnomalyService', () => {
  it('creates every child with owner, labels, restricted security and NetworkPolicies; status follows', async () => {
    dumpOnFailure();
    op = await operator(`${run}-a`);
    await apply(anomalyService(ns(), 'svc1'));
    const svc = await eventually(
      async () => {
        const s = await getSvc(ns(), 'svc1');
        return condOf(s, 'ApiReady')?.status === 'True' && condOf(s, 'WorkersReady')?.status === 'True'
          ? s
          : false;
      },
      { timeoutMs: 90_000, description: 'API and workers ready' },
    );
    const children = await eventually(
      async () => {
        const c = await ownedBy(ns(), svc.metadata.uid, CHILD_KINDS);
        return c.length >= 10 ? c : false;
      },
      { timeoutMs: 30_000, description: 'ten children' },
    );
    expect(children.map((c) => `${c.kind}/${c.metadata.name}`).sort()).toEqual([
      'Deployment/svc1-api',
      'Deployment/svc1-workers',
      'NetworkPolicy/svc1-api',
      'NetworkPolicy/svc1-redis',
      'PodDisruptionBudget/svc1-api',
      'PodDisruptionBudget/svc1-workers',
      'Secret/svc1-tokens',
      'Service/svc1-api',
      'Service/svc1-redis',
      'StatefulSet/svc1-redis',
    ]);
    for (const c of children) {
      expect(c.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'anomalyservice',
        'app.kubernetes.io/instance': 'svc1',
        'app.kubernetes.io/managed-by': 'skyport-operator',
        'skyport.io/owner-uid': svc.metadata.uid,
      });
    }
    for (const c of children.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) {
      const pod = (c.spec as { template: { spec: Pod } }).template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const ct of pod.containers) {
        expect(ct.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
    const redisNp = children.find((c) => c.kind === 'NetworkPolicy' && c.metadata.name === 'svc1-redis');
    const from = (
      redisNp?.spec as { ingress: { from: { podSelector: { matchLabels: Record<string, string> } }[] }[] }
    ).ingress[0]?.from;
    expect(from?.map((f) => f.podSelector.matchLabels['app.kubernetes.io/component'])).toEqual([
      'api',
      'workers',
    ]);
    const apiNp = children.find((c) => c.kind === 'NetworkPolicy' && c.metadata.name === 'svc1-api');
    expect(JSON.stringify(apiNp?.spec)).toContain('"app.kubernetes.io/name":"notebooklab"');
    // The operator reads /v1/status with the generated token; the test server reports a queue.
    status.setToken(ns(), 'svc1', await tokenOf('svc1'));
    status.setDepth(ns(), 'svc1', 7);
    const s = await eventually(
      async () => {
        const x = await getSvc(ns(), 'svc1');
        return x.status?.queueDepth === 7 ? x : false;
      },
      { timeoutMs: 30_000, description: 'queue depth in status' },
    );
    expect(s.status).toMatchObject({
      url: `http://svc1-api.${ns()}.svc:8080`,
      modelsStored: 3,
      jobsRunning: 1,
      workerReplicas: 1,
      readyWorkers: 1,
      observedGeneration: s.metadata.generation,
    });
    expect(condOf(s, 'Scaling')).toMatchObject({ status: 'False', reason: 'Disabled' });
    // Managed Redis: its claim binds (the local provisioner), its Pod turns ready, and the service is Ready.
    await eventually(async () => condOf(await getSvc(ns(), 'svc1'), 'Ready')?.status === 'True', {
      timeoutMs: 60_000,
      description: 'Ready with Redis',
    });
    expect(condOf(s, 'Degraded')).toMatchObject({ status: 'False' });
    expect(status.seen(ns(), 'svc1').some((r) => r.authorised)).toBe(true);
  });

  it('kubectl scale sets the worker Deployment; status and the scale subresource follow; an HPA is accepted', async () => {
    dumpOnFailure();
    await kubectl(['scale', 'anomalyservice/svc1', '--replicas=4', '-n', ns()]);
    await eventually(
      async () => {
        const d = await kubectlJson<{ spec: { replicas: number } }>([
          'get',
          'deployment',
          'svc1-workers',
          '-n',
          ns(),
        ]);
        return d.spec.replicas === 4;
      },
      { timeoutMs: 30_000, description: 'worker Deployment at 4' },
    );
    const s = await eventually(
      async () => {
        const x = await getSvc(ns(), 'svc1');
        return x.status?.readyWorkers === 4 && x.status.workerReplicas === 4 ? x : false;
      },
      { timeoutMs: 60_000, description: 'status at 4 workers' },
    );
    const scale = JSON.parse(
      await kubectl([
        'get',
        '--raw',
        `/apis/skyport.io/v1alpha1/namespaces/${ns()}/anomalyservices/svc1/scale`,
      ]),
    ) as { spec: { replicas: number }; status: { replicas: number; selector: string } };
    expect(scale.spec.replicas).toBe(4);
    expect(scale.status).toEqual({ replicas: 4, selector: s.status?.workerSelector });
    expect(scale.status.selector).toContain(`skyport.io/owner-uid=${s.metadata.uid}`);
    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'svc1-workers', namespace: ns() },
      spec: {
        scaleTargetRef: { apiVersion: 'skyport.io/v1alpha1', kind: 'AnomalyService', name: 'svc1' },
        minReplicas: 1,
        maxReplicas: 8,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
          },
        ],
      },
    };
    await kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(hpa) });
  });

  it('changing spec.workers.threads rolls the workers with the new WORKER_THREADS, one surge Pod at a time', async () => {
    dumpOnFailure();
    type Dep = {
      metadata: { generation: number };
      spec: {
        strategy: { rollingUpdate: { maxUnavailable: number; maxSurge: number } };
        template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
      };
    };
    const before = await kubectlJson<Dep>(['get', 'deployment', 'svc1-workers', '-n', ns()]);
    await kubectl([
      'patch',
      'anomalyservice',
      'svc1',
      '-n',
      ns(),
      '--type=merge',
      '-p',
      '{"spec":{"workers":{"threads":4}}}',
    ]);
    const after = await eventually(
      async () => {
        const d = await kubectlJson<Dep>(['get', 'deployment', 'svc1-workers', '-n', ns()]);
        const threads = d.spec.template.spec.containers[0]?.env.find(
          (e) => e.name === 'WORKER_THREADS',
        )?.value;
        return threads === '4' ? d : false;
      },
      { timeoutMs: 30_000, description: 'WORKER_THREADS=4 in the worker template' },
    );
    expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation);
    expect(after.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    await eventually(async () => condOf(await getSvc(ns(), 'svc1'), 'WorkersReady')?.status === 'True', {
      timeoutMs: 60_000,
      description: 'workers ready after the roll',
    });
  });

  it('CEL rejects bad specs naming the field, and the operator’s ajv validator agrees', async () => {
    const { anomalyServiceValidator: v } = (await import(
      pathToFileURL(join(repoRoot, 'operator/src/api/validate.ts')).href
    )) as {
      anomalyServiceValidator: {
        validate(o: unknown, old?: unknown): { ok: true } | { ok: false; errors: { path: string }[] };
      };
    };
    const paths = (o: unknown, old?: unknown): string[] => {
      const r = v.validate(o, old);
      return r.ok ? [] : r.errors.map((e) => e.path);
    };
    const minMax = anomalyService(ns(), 'bad1', { autoscaling: { minReplicas: 5, maxReplicas: 2 } });
    expect(await rejection(minMax)).toMatch(
      /spec\.autoscaling\.minReplicas: Invalid value.*minReplicas must be ≤ maxReplicas/,
    );
    expect(paths(minMax)).toEqual(['spec.autoscaling.minReplicas']);

    const both = anomalyService(ns(), 'bad2', {
      redis: { managed: {}, external: { urlSecretRef: { name: 'r', key: 'url' } } },
    });
    expect(await rejection(both)).toMatch(/spec\.redis: Invalid value.*exactly one of managed and external/);
    expect(paths(both)).toEqual(['spec.redis']);

    const moved = anomalyService(ns(), 'svc1', {
      redis: { external: { urlSecretRef: { name: 'r', key: 'url' } } },
    });
    const stored = await kubectlJson<Record<string, unknown>>(['get', 'anomalyservice', 'svc1', '-n', ns()]);
    expect(await rejection(moved, 'apply')).toMatch(
      /spec\.redis: Invalid value.*Redis mode \(managed or external\) is immutable/,
    );
    expect(paths(moved, stored)).toEqual(['spec.redis']);

    const limits = anomalyService(ns(), 'bad3', { limits: { maxCols: 70000 } });
    expect(await rejection(limits)).toMatch(/spec\.limits\.maxCols/);
    expect(paths(limits)).toEqual(['spec.limits.maxCols']);
  });

  it('autoscaling follows a scripted queue depth: up at once, down only after the stabilisation window', async () => {
    dumpOnFailure();
    await apply(
      anomalyService(ns(), 'auto', {
        autoscaling: {
          minReplicas: 1,
          maxReplicas: 6,
          targetQueueDepthPerWorker: 5,
          scaleDownStabilizationSeconds: 8,
        },
      }),
    );
    await eventually(async () => (await tokenOf('auto')) !== '', { timeoutMs: 30_000, description: 'token' });
    status.setToken(ns(), 'auto', await tokenOf('auto'));
    status.setDepth(ns(), 'auto', 0);
    await eventually(async () => condOf(await getSvc(ns(), 'auto'), 'Scaling')?.reason === 'AtDesired', {
      timeoutMs: 60_000,
      description: 'autoscaler reading the queue',
    });
    // A burst: ceil(23 / 5) = 5 workers, at once.
    status.setDepth(ns(), 'auto', 23);
    const up = await eventually(
      async () => {
        const s = await getSvc(ns(), 'auto');
        return s.spec.workers.replicas === 5 && s.status?.lastScale?.reason === 'ScaledUp' ? s : false;
      },
      { timeoutMs: 20_000, intervalMs: 200, description: 'scaled up to 5' },
    );
    expect(up.status?.lastScale).toMatchObject({ from: 1, replicas: 5, desired: 5, queueDepth: 23 });
    await eventually(
      async () => {
        const d = await kubectlJson<{ spec: { replicas: number } }>([
          'get',
          'deployment',
          'auto-workers',
          '-n',
          ns(),
        ]);
        return d.spec.replicas === 5;
      },
      { timeoutMs: 20_000, description: 'worker Deployment at 5' },
    );
    // Idle: held at 5 while the window still holds the burst's recommendation, then down to the minimum.
    const idleAt = Date.now();
    status.setDepth(ns(), 'auto', 0);
    await eventually(
      async () => (await getSvc(ns(), 'auto')).status?.lastScale?.reason === 'StabilizingScaleDown',
      { timeoutMs: 10_000, intervalMs: 200, description: 'scale-down held' },
    );
    expect((await getSvc(ns(), 'auto')).spec.workers.replicas).toBe(5);
    const down = await eventually(
      async () => {
        const s = await getSvc(ns(), 'auto');
        // The replicas are written first, the status of that decision right after.
        return s.spec.workers.replicas === 1 && s.status?.lastScale?.reason === 'ScaledDown' ? s : false;
      },
      { timeoutMs: 40_000, intervalMs: 200, description: 'scaled down to 1' },
    );
    // The window counts from the last high recommendation, which was read at or after the burst was served.
    expect(Date.now() - idleAt).toBeGreaterThanOrEqual(6_000);
    expect(down.status?.lastScale).toMatchObject({ reason: 'ScaledDown', from: 5, replicas: 1 });
    const events = await kubectlJson<{ items: { reason: string; involvedObject: { name: string } }[] }>([
      'get',
      'events',
      '-n',
      ns(),
      '--field-selector',
      'involvedObject.name=auto',
    ]);
    const reasons = new Set(events.items.map((e) => e.reason));
    for (const r of ['ScaledUp', 'StabilizingScaleDown', 'ScaledDown']) expect(reasons).toContain(r);
  });

  it('kill -9 mid-reconcile: a restarted operator converges with one of each child and the same token', async () => {
    dumpOnFailure();
    const names = Array.from({ length: 6 }, (_, i) => `k${i}`);
    await kubectl(['apply', '-f', '-'], {
      input: names.map((n) => JSON.stringify(anomalyService(ns(), n))).join('\n'),
    });
    // Kill as soon as the batch is being written: some services have children, others not yet.
    await eventually(() => /"secret":"k\d-tokens"/.test(op.log()), {
      timeoutMs: 30_000,
      intervalMs: 20,
      description: 'first tokens Secret of the batch',
    });
    expect(await op.stop('SIGKILL')).toBe('SIGKILL');
    const tokensBefore = new Map<string, string>();
    for (const n of names) {
      const t = await tokenOf(n).catch(() => '');
      if (t !== '') tokensBefore.set(n, t);
    }
    expect(tokensBefore.size, 'some services had their Secret when the operator died').toBeGreaterThan(0);

    op = await operator(`${run}-a`);
    for (const n of names) {
      const s = await eventually(
        async () => {
          const x = await getSvc(ns(), n);
          return x.status?.observedGeneration === x.metadata.generation ? x : false;
        },
        { timeoutMs: 90_000, description: `${n} reconciled after restart` },
      );
      const children = await eventually(
        async () => {
          const c = await ownedBy(ns(), s.metadata.uid, CHILD_KINDS);
          return c.length >= 10 ? c : false;
        },
        { timeoutMs: 30_000, description: `${n} children` },
      );
      expect(children).toHaveLength(10);
      expect(new Set(children.map((c) => `${c.kind}/${c.metadata.name}`)).size).toBe(10);
      const before = tokensBefore.get(n);
      if (before !== undefined) expect(await tokenOf(n), `token of ${n} kept`).toBe(before);
    }
  });

  it('delete → every child is gone', async () => {
    dumpOnFailure();
    const uid = (await getSvc(ns(), 'svc1')).metadata.uid;
    await kubectl(['delete', 'anomalyservice', 'svc1', '-n', ns(), '--wait=true', '--timeout=60s']);
    await eventually(async () => (await ownedBy(ns(), uid, CHILD_KINDS)).length === 0, {
      timeoutMs: 60_000,
      description: 'children garbage-collected',
    });
  });
});

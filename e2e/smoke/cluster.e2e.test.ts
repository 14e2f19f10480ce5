// Smoke tests of the local control plane: every piece later suites rely on really works.
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import {
  createNamespace,
  deleteNamespace,
  dumpDiagnostics,
  eventually,
  faultAnnotations,
  kubeconfigForToken,
  kubectl,
  kubectlJson,
  serviceAccountToken,
  ToolError,
} from '../cluster/index.js';

interface Obj {
  metadata: { name: string; uid: string; ownerReferences?: { kind: string }[] };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}
interface List<T = Obj> {
  items: T[];
}
interface PodStatus {
  phase?: string;
  conditions?: { type: string; status: string }[];
  containerStatuses?: {
    ready: boolean;
    restartCount: number;
    state: Record<string, { reason?: string; exitCode?: number }>;
    lastState?: Record<string, { reason?: string; exitCode?: number }>;
  }[];
}
type Pod = Obj & { spec: { nodeName?: string }; status: PodStatus };

let ns = '';
beforeAll(async () => {
  process.env.SKYPORT_KUBECONFIG ??= inject('skyportKubeconfig');
  ns = await createNamespace('smoke');
});
afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});
const diagnoseOnFailure = (): void =>
  onTestFailed(async () => {
    console.error(await dumpDiagnostics(ns));
  });

const apply = (manifest: object): Promise<string> =>
  kubectl(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(manifest) });
const pods = async (selector: string): Promise<Pod[]> =>
  (await kubectlJson<List<Pod>>(['get', 'pods', '-n', ns, '-l', selector])).items;
const isReady = (p: Pod): boolean =>
  p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

describe('local control plane', () => {
  it('answers /readyz with every check passing', async () => {
    diagnoseOnFailure();
    const out = await kubectl(['get', '--raw', '/readyz?verbose']);
    expect(out).toMatch(/\[\+\]etcd ok/);
    expect(out).toMatch(/readyz check passed/);
  });

  it('has at least 3 Ready kwok nodes with allocatable cpu, memory and pods', async () => {
    const nodes = await kubectlJson<
      List<
        Obj & {
          status: { allocatable: Record<string, string>; conditions: { type: string; status: string }[] };
        }
      >
    >(['get', 'nodes']);
    const ready = nodes.items.filter((n) =>
      n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    expect(ready.length).toBeGreaterThanOrEqual(3);
    for (const n of ready)
      expect(Object.keys(n.status.allocatable)).toEqual(expect.arrayContaining(['cpu', 'memory', 'pods']));
  });

  it('runs a 2-replica Deployment as 2 Running pods on kwok nodes, and garbage-collects them on delete', async () => {
    diagnoseOnFailure();
    await apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
        },
      },
    });
    const running = await eventually(
      async () => {
        const ps = (await pods('app=web')).filter((p) => p.status.phase === 'Running' && isReady(p));
        if (ps.length !== 2) throw new Error(`${ps.length}/2 pods Running and Ready`);
        return ps;
      },
      { timeoutMs: 60_000, description: 'web pods Running' },
    );
    for (const p of running) expect(p.spec.nodeName).toMatch(/^kwok-node-\d+$/);
    const dep = await kubectlJson<Obj>(['get', 'deployment', 'web', '-n', ns]);
    await eventually(
      async () =>
        (await kubectlJson<Obj>(['get', 'deployment', 'web', '-n', ns])).status?.readyReplicas === 2,
    );
    const rs = await kubectlJson<List>(['get', 'replicasets', '-n', ns, '-l', 'app=web']);
    expect(rs.items).toHaveLength(1);
    expect(dep.metadata.uid).toBeTruthy();

    await kubectl(['delete', 'deployment', 'web', '-n', ns, '--wait=false']);
    await eventually(
      async () => {
        const left =
          (await kubectlJson<List>(['get', 'replicasets', '-n', ns, '-l', 'app=web'])).items.length +
          (await pods('app=web')).length;
        if (left > 0) throw new Error(`${left} ReplicaSets/Pods left`);
      },
      { timeoutMs: 60_000, description: 'GC of ReplicaSet and Pods' },
    );
  });

  it('completes a Job', async () => {
    diagnoseOnFailure();
    await apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once' },
      spec: {
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] },
        },
      },
    });
    await eventually(
      async () => {
        const job = await kubectlJson<
          Obj & { status: { succeeded?: number; conditions?: { type: string; status: string }[] } }
        >(['get', 'job', 'once', '-n', ns]);
        expect(job.status.succeeded).toBe(1);
        expect(job.status.conditions?.find((c) => c.type === 'Complete')?.status).toBe('True');
      },
      { timeoutMs: 60_000, description: 'Job Complete' },
    );
  });

  it('binds PVCs of the default StorageClass (many at once) and reclaims their volumes on delete', async () => {
    diagnoseOnFailure();
    const sc = await kubectlJson<
      List<Obj & { metadata: { annotations?: Record<string, string> }; provisioner: string }>
    >(['get', 'storageclass']);
    const def = sc.items.filter(
      (s) => s.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true',
    );
    expect(def.map((s) => s.provisioner)).toEqual(['kubernetes.io/no-provisioner']);
    const n = 25;
    const claims = Array.from({ length: n }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `home-${i}`, labels: { smoke: 'pvc' } },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: `${1 + (i % 3)}Gi` } } },
    }));
    await kubectl(['apply', '-n', ns, '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: claims }),
    });
    const bound = await eventually(
      async () => {
        const list = await kubectlJson<
          List<
            Obj & { spec: { volumeName?: string }; status: { phase: string; capacity?: { storage: string } } }
          >
        >(['get', 'pvc', '-n', ns, '-l', 'smoke=pvc']);
        const b = list.items.filter((c) => c.status.phase === 'Bound');
        if (b.length !== n) throw new Error(`${b.length}/${n} PVCs Bound`);
        return b;
      },
      { timeoutMs: 60_000, description: 'PVCs Bound' },
    );
    const one = bound.find((c) => c.metadata.name === 'home-1');
    expect(one?.status.capacity?.storage).toBe('2Gi');
    const pv = await kubectlJson<Obj & { spec: { claimRef: { uid: string } } }>([
      'get',
      'pv',
      one?.spec.volumeName ?? '',
    ]);
    expect(pv.spec.claimRef.uid).toBe(one?.metadata.uid);

    await kubectl(['delete', 'pvc', 'home-1', '-n', ns]);
    await eventually(
      async () => {
        await expect(kubectl(['get', 'pv', one?.spec.volumeName ?? ''])).rejects.toThrow(/NotFound/);
      },
      { timeoutMs: 30_000, description: 'released PV deleted' },
    );
  });

  it('applies a CustomResourceDefinition and round-trips a resource, with schema validation and pruning', async () => {
    diagnoseOnFailure();
    const group = `${ns}.smoke.skyport.io`;
    await kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1alpha1',
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      required: ['size'],
                      properties: {
                        size: { type: 'integer', minimum: 1 },
                        colour: { type: 'string', default: 'red' },
                      },
                    },
                  },
                },
              },
            },
          ],
        },
      }),
    });
    try {
      await kubectl(['wait', '--for=condition=Established', `crd/widgets.${group}`, '--timeout=30s']);
      const widget = (spec: object): object => ({
        apiVersion: `${group}/v1alpha1`,
        kind: 'Widget',
        metadata: { name: 'w1' },
        spec,
      });
      // kubectl asks for strict field validation: an unknown field is an error naming the field...
      const unknown = await eventually(
        async () => {
          const e = await apply(widget({ size: 3, unknownField: 'x' })).catch((x: unknown) => x);
          if (!(e instanceof ToolError) || !/unknown field/.test(e.message))
            throw new Error(`not rejected yet: ${String(e)}`);
          return e;
        },
        { timeoutMs: 20_000 },
      );
      expect(unknown.message).toContain('unknown field "spec.unknownField"');
      // ...and without validation the apiserver prunes it and applies the schema default.
      await kubectl(['apply', '--validate=false', '-n', ns, '-f', '-'], {
        input: JSON.stringify(widget({ size: 3, unknownField: 'x' })),
      });
      const got = await kubectlJson<Obj>(['get', `widgets.${group}`, 'w1', '-n', ns]);
      expect(got.spec).toEqual({ size: 3, colour: 'red' });
      const err = await apply(widget({ size: 0 })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ToolError);
      expect((err as Error).message).toMatch(/spec\.size.*should be greater than or equal to 1/);
    } finally {
      await kubectl(['delete', 'crd', `widgets.${group}`, '--wait=false']);
    }
  });

  it('enforces RBAC on ServiceAccount tokens: denied without a RoleBinding, allowed with one', async () => {
    diagnoseOnFailure();
    await kubectl(['create', 'serviceaccount', 'robot', '-n', ns]);
    const kc = kubeconfigForToken(await serviceAccountToken(ns, 'robot'));
    const err = await kubectl(['get', 'configmaps', '-n', ns], { kubeconfig: kc }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      new RegExp(`Forbidden.*system:serviceaccount:${ns}:robot.*cannot list resource "configmaps"`),
    );

    await kubectl(['create', 'role', 'cm-reader', '-n', ns, '--verb=get,list', '--resource=configmaps']);
    await kubectl([
      'create',
      'rolebinding',
      'robot-cm',
      '-n',
      ns,
      '--role=cm-reader',
      `--serviceaccount=${ns}:robot`,
    ]);
    const out = await eventually(
      () => kubectl(['get', 'configmaps', '-n', ns, '-o', 'name'], { kubeconfig: kc }),
      { timeoutMs: 20_000 },
    );
    // kcm's root-CA publisher puts this ConfigMap into every namespace.
    expect(out).toContain('configmap/kube-root-ca.crt');
    // Still denied for what the Role does not grant.
    await expect(kubectl(['get', 'secrets', '-n', ns], { kubeconfig: kc })).rejects.toThrow(/Forbidden/);
  });

  it('simulates image-pull failure, crash loop and OOM kill by pod annotation', async () => {
    diagnoseOnFailure();
    const pod = (
      name: string,
      fault: Parameters<typeof faultAnnotations>[0],
      restartPolicy = 'Always',
    ): object => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { smoke: 'fault' }, annotations: faultAnnotations(fault) },
      spec: { restartPolicy, containers: [{ name: 'c', image: 'example.org/missing:1' }] },
    });
    for (const p of [pod('pull', 'image-pull'), pod('crash', 'crash-loop'), pod('oom', 'oom-kill', 'Never')])
      await apply(p);
    await eventually(
      async () => {
        const byName = new Map((await pods('smoke=fault')).map((p) => [p.metadata.name, p.status]));
        const pull = byName.get('pull');
        expect(pull?.phase).toBe('Pending');
        expect(pull?.containerStatuses?.[0]?.state.waiting?.reason).toBe('ImagePullBackOff');
        const crash = byName.get('crash');
        expect(crash?.containerStatuses?.[0]?.state.waiting?.reason).toBe('CrashLoopBackOff');
        expect(crash?.containerStatuses?.[0]?.restartCount).toBeGreaterThan(0);
        expect(crash?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(1);
        const oom = byName.get('oom');
        expect(oom?.phase).toBe('Failed');
        expect(oom?.containerStatuses?.[0]?.state.terminated).toMatchObject({
          reason: 'OOMKilled',
          exitCode: 137,
        });
      },
      { timeoutMs: 30_000, description: 'fault pods reach their simulated states' },
    );
  });
});

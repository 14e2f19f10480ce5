// A Catalog's TAP service on the real local control plane (issue 13, docs/adr/0009-catalog-tap-service.md): the
// operator, as the chart's ServiceAccount (so the chart's generated RBAC is what is tested), reconciles spec.tap into
// a Deployment, Service, ServiceAccount, Role and RoleBinding in spec.tap.namespace, owned by the Catalog, restricted,
// the results claim read-only; kwok runs the pods, so readiness reaches status.tap and TapReady. Scaling, disabling
// and deleting the Catalog take the children along.
import { describe, expect, it } from 'vitest';
import { eventually, kubectl, kubectlJson, ToolError, uniqueName } from '../cluster/index.js';
import { operatorSuite } from '../operator/suite.js';

const run = uniqueName('cat');
const catalogName = uniqueName('tapcat');
const s = operatorSuite({
  namespace: 'tapcat',
  profiles: [],
  setUp: async () => {
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/catalogs.skyport.io']);
  },
  tearDown: async () => {
    await kubectl(['delete', 'catalog', catalogName, '--ignore-not-found', '--wait=false']).catch(
      () => undefined,
    );
  },
});

interface Obj {
  metadata: {
    name: string;
    uid: string;
    namespace?: string;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  rules?: unknown;
  subjects?: unknown;
}
interface CatalogObj extends Obj {
  status?: {
    tap?: { url: string; namespace: string; replicas: number; readyReplicas: number };
    conditions?: { type: string; status: string; reason: string }[];
  };
}
const KINDS = ['deployment', 'service', 'serviceaccount', 'role', 'rolebinding'] as const;
const tapName = `${catalogName}-tap`;

const getCatalog = () => kubectlJson<CatalogObj>(['get', 'catalog', catalogName]);
const getChild = (kind: string) => kubectlJson<Obj>(['get', kind, tapName, '-n', s.ns()]);
async function gone(kind: string): Promise<boolean> {
  try {
    await getChild(kind);
    return false;
  } catch (err) {
    if (err instanceof ToolError && /NotFound/.test(err.message)) return true;
    throw err;
  }
}
async function applyCatalog(tap: Record<string, unknown> | undefined): Promise<void> {
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'Catalog',
      metadata: { name: catalogName },
      spec: {
        release: 'Y6A2',
        database: {
          host: '127.0.0.1',
          port: 5432,
          database: 'des',
          credentials: { secretName: 'des-reader' },
        },
        tables: ['public.des_sample'],
        results: { claimName: 'query-results' },
        ...(tap === undefined ? {} : { tap }),
      },
    }),
  });
}
const tapReady = (c: CatalogObj) => c.status?.conditions?.find((x) => x.type === 'TapReady');

describe('Catalog spec.tap', () => {
  it('reconciles into the TAP Deployment, Service, ServiceAccount, Role and RoleBinding; scale, disable, delete', async () => {
    s.dumpOnFailure();
    const ns = s.ns();
    // What the TAP pod mounts: the catalog's Secret, the TAP Secret and the results claim (the toolkit's
    // provisioner binds it, so kwok runs the pods).
    await kubectl(['apply', '-n', ns, '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'des-reader' },
            type: 'kubernetes.io/basic-auth',
            stringData: { username: 'reader', password: 'reader-password' },
          },
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'des-tap' },
            stringData: { tokens: 'alice alice-token-0123456789\n', 'signing-key': 'k'.repeat(48) },
          },
          {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: { name: 'query-results' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      }),
    });
    await applyCatalog({ namespace: ns, secretName: 'des-tap', replicas: 2 });
    const op = await s.start({
      identity: run,
      args: [`--lease-name=${run}`, '--controllers=catalog', `--namespaces=${ns}`],
    });
    await eventually(async () => (await op.probe('/readyz')) === 200, {
      timeoutMs: 180_000,
      intervalMs: 500,
      description: 'the operator is ready',
    });

    const cat = await getCatalog();
    const children = await eventually(async () => Promise.all(KINDS.map((k) => getChild(k))), {
      timeoutMs: 60_000,
      description: 'the five TAP children exist',
    });
    for (const c of children)
      expect(c.metadata.ownerReferences, c.metadata.name).toEqual([
        expect.objectContaining({
          kind: 'Catalog',
          name: catalogName,
          uid: cat.metadata.uid,
          controller: true,
        }),
      ]);
    const [deployment, service, , role, binding] = children;
    const pod = (deployment?.spec?.['template'] as { spec: Record<string, unknown> }).spec as {
      serviceAccountName: string;
      securityContext: Record<string, unknown>;
      containers: {
        image: string;
        securityContext: Record<string, unknown>;
        env: { name: string; value?: string }[];
      }[];
      volumes: { name: string; persistentVolumeClaim?: { claimName: string; readOnly?: boolean } }[];
    };
    expect(deployment?.spec?.['replicas']).toBe(2);
    expect(pod.serviceAccountName).toBe(tapName);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers[0]?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.containers[0]?.image).toBe('localhost/skyport/tap:dev');
    expect(pod.containers[0]?.env).toContainEqual({ name: 'TAP_JOB_STORE', value: 'kubernetes' });
    // Read-write: the TAP process writes the results of quick QueryJobs.
    expect(pod.volumes.find((v) => v.name === 'results')?.persistentVolumeClaim).toEqual({
      claimName: 'query-results',
    });
    expect(service?.spec?.['type']).toBe('ClusterIP');
    expect(role?.rules).toEqual([
      {
        apiGroups: ['skyport.io'],
        resources: ['queryjobs'],
        verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
      },
      { apiGroups: ['skyport.io'], resources: ['queryjobs/status'], verbs: ['get', 'patch'] },
    ]);
    expect(binding?.subjects).toEqual([{ kind: 'ServiceAccount', name: tapName, namespace: ns }]);
    // kwok runs the pods: readiness reaches the Catalog's status.
    const ready = await eventually(
      async () => {
        const c = await getCatalog();
        if (tapReady(c)?.status !== 'True') throw new Error(`TapReady: ${JSON.stringify(tapReady(c))}`);
        return c;
      },
      { timeoutMs: 90_000, description: 'TapReady' },
    );
    expect(ready.status?.tap).toMatchObject({
      url: `http://${tapName}.${ns}.svc:8080/tap`,
      namespace: ns,
      replicas: 2,
    });
    expect(ready.status?.tap?.readyReplicas).toBeGreaterThanOrEqual(1);

    // Scale: spec.tap.replicas reaches the Deployment.
    await applyCatalog({ namespace: ns, secretName: 'des-tap', replicas: 1 });
    await eventually(async () => (await getChild('deployment')).spec?.['replicas'] === 1, {
      timeoutMs: 30_000,
      description: 'the Deployment scaled to 1',
    });

    // Disabled: the children go, the status says so.
    await applyCatalog({ namespace: ns, secretName: 'des-tap', enabled: false });
    await eventually(async () => (await Promise.all(KINDS.map(gone))).every(Boolean), {
      timeoutMs: 60_000,
      description: 'the TAP children deleted',
    });
    await eventually(async () => tapReady(await getCatalog())?.reason === 'TapDisabled', {
      timeoutMs: 30_000,
      description: 'TapReady False TapDisabled',
    });
    expect((await getCatalog()).status?.tap).toBeUndefined();

    // Enabled again, then the Catalog deleted: the garbage collector takes the children.
    await applyCatalog({ namespace: ns, secretName: 'des-tap' });
    await eventually(async () => Promise.all(KINDS.map((k) => getChild(k))), {
      timeoutMs: 60_000,
      description: 'the TAP children back',
    });
    await kubectl(['delete', 'catalog', catalogName, '--wait=false']);
    await eventually(async () => (await Promise.all(KINDS.map(gone))).every(Boolean), {
      timeoutMs: 90_000,
      description: 'the TAP children garbage-collected',
    });
  });
});

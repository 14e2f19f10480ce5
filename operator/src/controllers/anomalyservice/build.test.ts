// Golden-file tests of the pure AnomalyService builder, plus the invariants every child must hold and the env
// contract with services/anomaly/src/config.ts. Regenerate the golden files with UPDATE_GOLDEN=1 and review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { KubeObject } from '../../kube/index.js';
import { LABELS } from '../../meta/index.js';
import { buildChildren, type DesiredChildren } from './build.js';
import { CONTEXT, serviceFixture } from './fixtures.test-util.js';
import { workerSelector } from './names.js';

function all(c: DesiredChildren): KubeObject[] {
  return [
    c.tokens,
    c.redisService,
    c.redisStatefulSet,
    c.apiDeployment,
    c.apiService,
    c.workerDeployment,
    ...c.podDisruptionBudgets,
    ...c.networkPolicies,
  ].filter((o): o is KubeObject => o !== undefined);
}

function golden(name: string, children: DesiredChildren): void {
  const path = fileURLToPath(new URL(`./__golden__/${name}.yaml`, import.meta.url));
  const docs = all(children)
    .map((o) => stringify(o, { sortMapEntries: false }))
    .join('---\n');
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, docs);
  expect(docs).toBe(readFileSync(path, 'utf8'));
}

type Pod = {
  securityContext: Record<string, unknown>;
  containers: {
    name: string;
    args?: string[];
    env?: { name: string; value?: string }[];
    securityContext: unknown;
  }[];
};
const podOf = (o: KubeObject | undefined): Pod =>
  (o as unknown as { spec: { template: { spec: Pod } } }).spec.template.spec;

const external = serviceFixture({
  api: {
    replicas: 3,
    serviceType: 'LoadBalancer',
    tokensSecretRef: { name: 'efd-tokens-prod', key: 'tokens' },
    resources: { requests: { cpu: '1', memory: '1Gi' } },
  },
  workers: {
    replicas: 4,
    threads: 8,
    resources: { requests: { cpu: '8', memory: '8Gi' }, limits: { cpu: '8', memory: '16Gi' } },
  },
  redis: { external: { urlSecretRef: { name: 'efd-redis', key: 'url' } } },
  limits: { maxUploadBytes: 1073741824, maxCols: 512, maxSyncRows: 5000 },
});

describe('buildChildren golden files', () => {
  it('default: managed Redis, generated tokens', () => {
    golden('default', buildChildren(serviceFixture(), CONTEXT));
  });
  it('external Redis, own tokens Secret, limits, resources, LoadBalancer', () => {
    golden('external', buildChildren(external, CONTEXT));
  });
});

describe('buildChildren invariants', () => {
  const svc = serviceFixture();
  const children = all(buildChildren(svc, CONTEXT));

  it('every child is owned by the service (controller) and carries its labels', () => {
    for (const o of children) {
      expect(o.metadata?.ownerReferences).toEqual([
        {
          apiVersion: 'skyport.io/v1alpha1',
          kind: 'AnomalyService',
          name: 'efd',
          uid: svc.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(o.metadata?.namespace).toBe('telemetry');
      expect(o.metadata?.labels).toMatchObject({
        [LABELS.name]: 'anomalyservice',
        [LABELS.instance]: 'efd',
        [LABELS.ownerUid]: svc.metadata.uid,
      });
    }
    expect(children.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'Secret/efd-tokens',
      'Service/efd-redis',
      'StatefulSet/efd-redis',
      'Deployment/efd-api',
      'Service/efd-api',
      'Deployment/efd-workers',
      'PodDisruptionBudget/efd-api',
      'PodDisruptionBudget/efd-workers',
      'NetworkPolicy/efd-redis',
      'NetworkPolicy/efd-api',
    ]);
  });

  it('every Pod obeys the restricted Pod Security Standard', () => {
    for (const o of children.filter((c) => c.kind === 'Deployment' || c.kind === 'StatefulSet')) {
      const pod = podOf(o);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const c of pod.containers) {
        expect(c.securityContext).toEqual({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
      }
    }
  });

  it('Redis: AOF on, noeviction under a memory cap, data on a claim of spec.redis.managed.size', () => {
    const c = buildChildren(svc, CONTEXT);
    const sts = c.redisStatefulSet as unknown as {
      spec: { template: { spec: Pod }; volumeClaimTemplates: { spec: { resources: unknown } }[] };
    };
    const args = sts.spec.template.spec.containers[0]?.args?.join(' ') ?? '';
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
    expect(args).toContain(`--maxmemory ${Math.floor(1024 ** 3 * 0.75)}`);
    expect(sts.spec.volumeClaimTemplates[0]?.spec.resources).toEqual({ requests: { storage: '10Gi' } });
  });

  it('external Redis: no Redis children, REDIS_URL from the Secret, no Redis NetworkPolicy, no tokens Secret', () => {
    const c = buildChildren(external, CONTEXT);
    expect(c.redisStatefulSet).toBeUndefined();
    expect(c.tokens).toBeUndefined();
    expect(c.networkPolicies.map((n) => n.metadata?.name)).toEqual(['efd-api']);
    expect(podOf(c.workerDeployment).containers[0]?.env?.[0]).toEqual({
      name: 'REDIS_URL',
      valueFrom: { secretKeyRef: { name: 'efd-redis', key: 'url' } },
    });
  });

  it('threads change the worker Pod template only; replicas come from spec.workers.replicas', () => {
    const a = buildChildren(svc, CONTEXT);
    const b = buildChildren(serviceFixture({ workers: { replicas: 5, threads: 4 } }), CONTEXT);
    expect(b.apiDeployment).toEqual(a.apiDeployment);
    const env = podOf(b.workerDeployment).containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'WORKER_THREADS')?.value).toBe('4');
    expect((b.workerDeployment as unknown as { spec: { replicas: number } }).spec.replicas).toBe(5);
    expect(podOf(b.workerDeployment).containers[0]?.args).toEqual(['dist/src/worker-main.js']);
  });

  it('the worker selector string selects the worker Pod template', () => {
    const labels = (
      buildChildren(svc, CONTEXT).workerDeployment as unknown as {
        spec: { template: { metadata: { labels: Record<string, string> } } };
      }
    ).spec.template.metadata.labels;
    for (const term of workerSelector(svc).split(',')) {
      const [k = '', v = ''] = term.split('=');
      expect(labels[k]).toBe(v);
    }
  });
});

describe('env contract with services/anomaly/src/config.ts', () => {
  const path = fileURLToPath(new URL('../../../../services/anomaly/src/config.ts', import.meta.url));
  const text = readFileSync(path, 'utf8');
  const read = new Set(
    [...text.matchAll(/env\['([A-Z_]+)'\]|int\(env, '([A-Z_]+)'/g)].map((m) => m[1] ?? m[2] ?? ''),
  );

  it('every variable the builder sets on the API and workers is one the service reads', () => {
    const c = buildChildren(external, CONTEXT);
    const names = [c.apiDeployment, c.workerDeployment].flatMap((d) =>
      podOf(d).containers.flatMap((ct) => (ct.env ?? []).map((e) => e.name)),
    );
    expect(names).toContain('MAX_UPLOAD_BYTES');
    expect(names).toContain('WORKER_THREADS');
    for (const n of names) expect(read, `config.ts does not read ${n}`).toContain(n);
  });
});

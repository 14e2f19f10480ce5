// Golden-file tests of a Catalog's TAP children, plus the invariants the TAP Deployment must hold and its status.
// Regenerate the golden files with UPDATE_GOLDEN=1 after an intended change, and review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { catalogValidator } from '../../api/validate.js';
import { API_VERSION, CATALOG } from '../../api/v1alpha1/index.js';
import type { Catalog, CatalogSpecInput } from '../../api/v1alpha1/index.js';
import type { KubeObject } from '../../kube/index.js';
import { buildTap, tapUrl, TAP_ROLE_RULES } from './build.js';
import { catalogTapStatus } from './reconcile.js';

const SETTINGS = { image: 'localhost/skyport/tap:dev', pullPolicy: 'IfNotPresent' } as const;
const NOW = new Date('2026-12-03T12:00:00Z');

/** A catalog as stored (CRD defaults filled in): DES-like, with a TAP service in namespace `tap-des`. */
function catalogFixture(spec: Partial<CatalogSpecInput> | 'no-tap' = {}): Catalog {
  const tap = spec === 'no-tap' ? {} : { tap: { namespace: 'tap-des', secretName: 'des-tap' } };
  const r = catalogValidator.validate({
    apiVersion: API_VERSION,
    kind: CATALOG.kind,
    metadata: { name: 'desdr', uid: 'cat-uid-1', generation: 3 },
    spec: {
      release: 'Y6A2',
      database: { host: 'db.example.org', database: 'des', credentials: { secretName: 'des-reader' } },
      tables: ['public.des_sample', 'Y6.gold'],
      results: { claimName: 'query-results' },
      ...tap,
      ...(spec === 'no-tap' ? {} : spec),
    },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

function golden(name: string, obj: KubeObject): void {
  const path = fileURLToPath(new URL(`./__golden__/${name}.yaml`, import.meta.url));
  const doc = stringify(obj, { sortMapEntries: false });
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, doc);
  expect(doc).toBe(readFileSync(path, 'utf8'));
}

type Pod = {
  serviceAccountName: string;
  automountServiceAccountToken: boolean;
  securityContext: Record<string, unknown>;
  containers: {
    env: { name: string; value?: string }[];
    securityContext: Record<string, unknown>;
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
    readinessProbe: { httpGet: { path: string } };
    livenessProbe: { httpGet: { path: string } };
    resources: Record<string, unknown>;
  }[];
  volumes: { name: string; persistentVolumeClaim?: { claimName: string; readOnly?: boolean } }[];
};
const podOf = (d: KubeObject) => (d['spec'] as { template: { spec: Pod } }).template.spec;
const envOf = (d: KubeObject) =>
  Object.fromEntries((podOf(d).containers[0]?.env ?? []).map((e) => [e.name, e.value]));

describe('buildTap', () => {
  it('golden: the five children of a catalog with spec.tap', () => {
    const c = buildTap(catalogFixture(), SETTINGS);
    if (c === undefined) throw new Error('no TAP children');
    golden('tap-deployment', c.deployment);
    golden('tap-service', c.service);
    golden('tap-rbac', { apiVersion: 'v1', kind: 'List', items: [c.serviceAccount, c.role, c.roleBinding] });
  });

  it('nothing without spec.tap or with enabled: false', () => {
    expect(buildTap(catalogFixture('no-tap'), SETTINGS)).toBeUndefined();
    expect(
      buildTap(catalogFixture({ tap: { namespace: 'tap-des', secretName: 'x', enabled: false } }), SETTINGS),
    ).toBeUndefined();
    expect(tapUrl(catalogFixture('no-tap'))).toBeUndefined();
  });

  it('puts every child in spec.tap.namespace, owned by the Catalog, the Role limited to QueryJobs', () => {
    const c = buildTap(catalogFixture(), SETTINGS);
    if (c === undefined) throw new Error('no TAP children');
    for (const o of [c.serviceAccount, c.role, c.roleBinding, c.deployment, c.service]) {
      expect(o.metadata?.namespace).toBe('tap-des');
      expect(o.metadata?.name).toBe('desdr-tap');
      expect(o.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'Catalog', name: 'desdr', uid: 'cat-uid-1', controller: true }),
      ]);
    }
    expect(c.role['rules']).toEqual(TAP_ROLE_RULES);
    expect(JSON.stringify(c.role['rules'])).not.toMatch(/secrets|\*/);
  });

  it('runs restricted, mounts the results claim read-write (quick jobs write it), probes /availability and /capabilities', () => {
    const d = buildTap(catalogFixture(), SETTINGS)?.deployment;
    if (d === undefined) throw new Error('no Deployment');
    const pod = podOf(d);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers[0]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.serviceAccountName).toBe('desdr-tap');
    expect(pod.volumes.find((v) => v.name === 'results')?.persistentVolumeClaim).toEqual({
      claimName: 'query-results',
    });
    const results = pod.containers[0]?.volumeMounts.find((m) => m.name === 'results');
    expect(results?.mountPath).toBe('/results');
    expect(results?.readOnly).toBeUndefined();
    expect(pod.containers[0]?.readinessProbe.httpGet.path).toBe('/tap/availability');
    expect(pod.containers[0]?.livenessProbe.httpGet.path).toBe('/tap/capabilities');
  });

  it('hands the catalog’s limits to the TAP configuration', () => {
    const d = buildTap(
      catalogFixture({
        limits: { maxRecords: 5000, defaultExecutionDuration: '2m', maxExecutionDuration: '90m' },
        retention: { destruction: '48h' },
      }),
      SETTINGS,
    )?.deployment;
    if (d === undefined) throw new Error('no Deployment');
    expect(envOf(d)).toMatchObject({
      TAP_JOB_STORE: 'kubernetes',
      TAP_NAMESPACE: 'tap-des',
      TAP_CATALOG_NAME: 'desdr',
      TAP_SCHEMAS: 'public,y6',
      TAP_MAXREC_HARD: '5000',
      TAP_MAXREC_DEFAULT: '5000',
      TAP_EXECUTION_DURATION_DEFAULT: '120',
      TAP_EXECUTION_DURATION_HARD: '5400',
      TAP_DESTRUCTION_DEFAULT_SECONDS: '172800',
      TAP_DESTRUCTION_HARD_SECONDS: String(30 * 86400),
    });
  });

  it('with results in a bucket: no claim, TAP_RESULTS_S3_* and the key pair by secretKeyRef; the TAP service takes it', async () => {
    const d = buildTap(
      catalogFixture({
        results: {
          s3: {
            endpoint: 'https://s3.example.org/',
            bucket: 'des-results',
            prefix: 'y6/results',
            forcePathStyle: true,
            credentialsSecretRef: {
              name: 'des-results-s3',
              accessKeyIdKey: 'id',
              secretAccessKeyKey: 'secret',
            },
          },
        },
      }),
      SETTINGS,
    )?.deployment;
    if (d === undefined) throw new Error('no Deployment');
    const pod = podOf(d);
    expect(pod.volumes.map((v) => v.name)).not.toContain('results');
    expect(pod.containers[0]?.volumeMounts.map((m) => m.name)).not.toContain('results');
    const env = envOf(d);
    expect(env).toMatchObject({
      TAP_RESULTS_S3_ENDPOINT: 'https://s3.example.org',
      TAP_RESULTS_S3_BUCKET: 'des-results',
      TAP_RESULTS_S3_REGION: 'us-east-1',
      TAP_RESULTS_S3_FORCE_PATH_STYLE: 'true',
      TAP_RESULTS_S3_PREFIX: 'y6/results',
    });
    expect(env['TAP_RESULTS_DIR']).toBeUndefined();
    expect(pod.containers[0]?.env.filter((e) => e.name.startsWith('AWS_'))).toEqual([
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'des-results-s3', key: 'id' } } },
      {
        name: 'AWS_SECRET_ACCESS_KEY',
        valueFrom: { secretKeyRef: { name: 'des-results-s3', key: 'secret' } },
      },
    ]);
    // The operator never imports a service; the test checks the TAP service reads what the operator writes.
    // (A computed specifier: the TAP service is no part of the operator's TypeScript project.)
    const tapConfig = '../../../../services/tap/src/config.js';
    const { loadConfig } = (await import(tapConfig)) as {
      loadConfig: (env: Record<string, string>) => { resultsS3?: unknown };
    };
    const plain = Object.fromEntries(
      Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const cfg = loadConfig({ ...plain, TAP_TOKENS_FILE: 't', TAP_SIGNING_KEY_FILE: 'k' });
    expect(cfg.resultsS3).toEqual({
      endpoint: 'https://s3.example.org',
      bucket: 'des-results',
      region: 'us-east-1',
      forcePathStyle: true,
      prefix: 'y6/results',
    });
  });

  it('takes replicas, resources and the Service type from spec.tap', () => {
    const c = buildTap(
      catalogFixture({
        tap: {
          namespace: 'tap-des',
          secretName: 'des-tap',
          replicas: 3,
          serviceType: 'NodePort',
          resources: { limits: { cpu: '2', memory: '1Gi' } },
        },
      }),
      SETTINGS,
    );
    if (c === undefined) throw new Error('no TAP children');
    expect((c.deployment['spec'] as { replicas: number }).replicas).toBe(3);
    expect((c.service['spec'] as { type: string }).type).toBe('NodePort');
    expect(podOf(c.deployment).containers[0]?.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '2', memory: '1Gi' },
    });
  });
});

describe('catalogTapStatus', () => {
  it('url, counts and TapReady from the Deployment; TapDisabled without spec.tap', () => {
    const cat = catalogFixture();
    const none = catalogTapStatus(cat, undefined, NOW);
    expect(none.tap).toEqual({
      url: 'http://desdr-tap.tap-des.svc:8080/tap',
      namespace: 'tap-des',
      replicas: 1,
      readyReplicas: 0,
    });
    expect(none.conditions?.[0]).toMatchObject({ type: 'TapReady', status: 'False', reason: 'NoReadyPod' });
    const ready = catalogTapStatus({ ...cat, status: none }, { status: { readyReplicas: 1 } }, NOW);
    expect(ready.conditions?.[0]).toMatchObject({
      status: 'True',
      reason: 'Available',
      observedGeneration: 3,
    });
    expect(ready.tap?.readyReplicas).toBe(1);
    const off = catalogTapStatus({ ...catalogFixture('no-tap'), status: ready }, undefined, NOW);
    expect(off.tap).toBeUndefined();
    expect(off.conditions?.[0]).toMatchObject({ status: 'False', reason: 'TapDisabled' });
  });
});

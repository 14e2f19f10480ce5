// Golden-file tests of the pure QueryJob builders, plus the invariants the runner Job must hold.
// Regenerate the golden files with UPDATE_GOLDEN=1 after an intended change, and review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { QUERYJOB_FORMATS } from '../../api/v1alpha1/queryjob.js';
import type { KubeObject } from '../../kube/index.js';
import {
  applicationName,
  buildCleanupJob,
  buildRunnerIdentity,
  buildRunnerJob,
  resultDir,
  runnerSpec,
  s3Prefix,
} from './build.js';
import { catalogFixture, queryJobFixture } from './fixtures.test-util.js';

const RUNNER = { image: 'localhost/skyport/query-runner:dev', pullPolicy: 'IfNotPresent' } as const;
const S3_CATALOG = catalogFixture({
  results: {
    s3: {
      endpoint: 'https://s3.example.org',
      bucket: 'des-results',
      forcePathStyle: true,
      credentialsSecretRef: { name: 'des-results-s3' },
    },
  },
});
const PLAN = { sql: queryJobFixture().spec.query, executionDurationSeconds: 600, maxRecords: 100000 };

function golden(name: string, obj: KubeObject): void {
  const path = fileURLToPath(new URL(`./__golden__/${name}.yaml`, import.meta.url));
  const doc = stringify(obj, { sortMapEntries: false });
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, doc);
  expect(doc).toBe(readFileSync(path, 'utf8'));
}

type Pod = {
  securityContext: Record<string, unknown>;
  containers: {
    env: { name: string; value?: string }[];
    securityContext: Record<string, unknown>;
    volumeMounts: { name: string; mountPath: string }[];
  }[];
  volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
};
type JobSpec = {
  backoffLimit: number;
  activeDeadlineSeconds: number;
  podFailurePolicy: { rules: { action: string; onExitCodes?: { values: number[] } }[] };
  template: { spec: Pod };
};

describe('buildRunnerJob', () => {
  it('golden: a CSV job of a DES-like catalog', () => {
    golden('runner-job', buildRunnerJob(queryJobFixture(), catalogFixture(), PLAN, RUNNER));
  });

  it('golden: FITS, gzip, split into parts', () => {
    const qj = queryJobFixture({ output: { format: 'fits', compression: 'gzip', splitMaxBytes: '1Gi' } });
    golden('runner-job-fits', buildRunnerJob(qj, catalogFixture(), { ...PLAN, maxRecords: 5 }, RUNNER));
  });

  it("golden: the runner's ServiceAccount, Role and RoleBinding", () => {
    const [sa, role, binding] = buildRunnerIdentity(queryJobFixture());
    golden('runner-identity', { apiVersion: 'v1', kind: 'List', items: [sa, role, binding] });
  });

  it("lets the runner patch its own QueryJob's status and nothing else, as the pod's ServiceAccount", () => {
    const qj = queryJobFixture();
    const [sa, role, binding] = buildRunnerIdentity(qj) as [KubeObject, KubeObject, KubeObject];
    expect(role['rules']).toEqual([
      {
        apiGroups: ['skyport.io'],
        resources: ['queryjobs/status'],
        resourceNames: [qj.metadata.name],
        verbs: ['get', 'patch'],
      },
    ]);
    expect(binding['subjects']).toEqual([
      { kind: 'ServiceAccount', name: sa.metadata?.name, namespace: qj.metadata.namespace },
    ]);
    expect(binding['roleRef']).toMatchObject({ kind: 'Role', name: role.metadata?.name });
    const pod = (
      buildRunnerJob(qj, catalogFixture(), PLAN, RUNNER)['spec'] as {
        template: { spec: Record<string, unknown> };
      }
    ).template.spec;
    expect(pod['serviceAccountName']).toBe(sa.metadata?.name);
    expect(runnerSpec(qj, catalogFixture(), PLAN)['progress']).toEqual({
      namespace: qj.metadata.namespace,
      name: qj.metadata.name,
    });
    for (const o of [sa, role, binding]) expect(o.metadata?.ownerReferences?.[0]?.uid).toBe(qj.metadata.uid);
  });

  it('golden: the cleanup Job', () => {
    golden('cleanup-job', buildCleanupJob(queryJobFixture(), catalogFixture(), RUNNER));
  });

  it('golden: results in an S3 bucket (scratch emptyDir, keys by secretKeyRef) and its cleanup Job', () => {
    golden('runner-job-s3', buildRunnerJob(queryJobFixture(), S3_CATALOG, PLAN, RUNNER));
    golden('cleanup-job-s3', buildCleanupJob(queryJobFixture(), S3_CATALOG, RUNNER));
  });

  it('with S3: the runner spec names the bucket and the job prefix, and no key is in any pod spec', async () => {
    // The operator never imports a service; the test checks the two agree (as below).
    const { parseSpec } = await import('../../../../services/query-runner/src/spec.js');
    const qj = queryJobFixture();
    const prefix = 'skyport-results/user-jsmith/gold-sample/0f3c1a2b-1111-2222-3333-444455556666/';
    expect(s3Prefix(qj, S3_CATALOG)).toBe(prefix);
    expect(parseSpec(runnerSpec(qj, S3_CATALOG, PLAN)).output.s3).toEqual({
      endpoint: 'https://s3.example.org',
      bucket: 'des-results',
      region: 'us-east-1',
      forcePathStyle: true,
      prefix,
    });
    const root = catalogFixture({
      results: {
        s3: {
          endpoint: 'https://s3.example.org',
          bucket: 'bkt',
          prefix: '',
          credentialsSecretRef: { name: 's' },
        },
      },
    });
    expect(s3Prefix(qj, root)).toBe('user-jsmith/gold-sample/0f3c1a2b-1111-2222-3333-444455556666/');
    for (const job of [
      buildRunnerJob(qj, S3_CATALOG, PLAN, RUNNER),
      buildCleanupJob(qj, S3_CATALOG, RUNNER),
    ]) {
      const pod = (job['spec'] as JobSpec).template.spec;
      const env = pod.containers[0]?.env ?? [];
      expect(env.filter((e) => e.name.startsWith('AWS_'))).toEqual([
        {
          name: 'AWS_ACCESS_KEY_ID',
          valueFrom: { secretKeyRef: { name: 'des-results-s3', key: 'AWS_ACCESS_KEY_ID' } },
        },
        {
          name: 'AWS_SECRET_ACCESS_KEY',
          valueFrom: { secretKeyRef: { name: 'des-results-s3', key: 'AWS_SECRET_ACCESS_KEY' } },
        },
      ]);
      expect(JSON.stringify(pod)).not.toContain('persistentVolumeClaim');
    }
    const vols = (buildRunnerJob(qj, S3_CATALOG, PLAN, RUNNER)['spec'] as JobSpec).template.spec.volumes;
    // Twice the catalog's default maxResultBytes (10Gi).
    expect(vols.find((v) => v.name === 'results')).toEqual({
      name: 'results',
      emptyDir: { sizeLimit: String(20 * 1024 ** 3) },
    });
  });

  it('enforces executionDuration twice and retries only a transient failure', () => {
    const job = buildRunnerJob(
      queryJobFixture(),
      catalogFixture(),
      { ...PLAN, executionDurationSeconds: 90 },
      RUNNER,
    );
    const spec = job['spec'] as JobSpec;
    expect(spec.activeDeadlineSeconds).toBe(150);
    expect(spec.backoffLimit).toBe(1);
    expect(spec.podFailurePolicy.rules[0]).toMatchObject({
      action: 'FailJob',
      onExitCodes: { values: [1, 2] },
    });
    const env = spec.template.spec.containers[0]?.env ?? [];
    const runner = JSON.parse(env.find((e) => e.name === 'SKYPORT_JOB_SPEC')?.value ?? '{}') as {
      executionDurationSeconds: number;
    };
    expect(runner.executionDurationSeconds).toBe(90);
  });

  it('runs under Pod Security "restricted" and never carries the password in the spec', () => {
    const job = buildRunnerJob(queryJobFixture(), catalogFixture(), PLAN, RUNNER);
    const pod = (job['spec'] as JobSpec).template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers[0]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(JSON.stringify(job)).not.toMatch(/password"\s*:\s*"[^/]/);
    expect(pod.volumes.find((v) => v.name === 'results')?.persistentVolumeClaim?.claimName).toBe(
      'query-results',
    );
    expect(job.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'QueryJob',
      name: 'gold-sample',
      controller: true,
    });
  });

  it("gives each job its own directory and backend name from its UID, and passes the runner's spec checks", async () => {
    const qj = queryJobFixture();
    expect(resultDir(qj)).toBe('/results/gold-sample-0f3c1a2b-1111-2222-3333-444455556666');
    expect(applicationName(qj).length).toBeLessThanOrEqual(63);
    const { parseSpec } = await import('../../../../services/query-runner/src/spec.js');
    expect(() => parseSpec(runnerSpec(qj, catalogFixture(), PLAN))).not.toThrow();
    const fits = queryJobFixture({ output: { format: 'fits', compression: 'gzip', splitMaxBytes: '1Gi' } });
    expect(parseSpec(runnerSpec(fits, catalogFixture(), PLAN)).output.splitMaxBytes).toBe(1024 ** 3);
  });

  it('offers exactly the formats the runner writes, each with no compression', async () => {
    const { parseSpec } = await import('../../../../services/query-runner/src/spec.js');
    const { FORMATS } = await import('../../../../services/query-runner/src/formats/index.js');
    expect([...QUERYJOB_FORMATS].sort()).toEqual([...FORMATS].sort());
    for (const format of QUERYJOB_FORMATS) {
      const qj = queryJobFixture({ output: { format, compression: 'none' } });
      expect(parseSpec(runnerSpec(qj, catalogFixture(), PLAN)).output.format).toBe(format);
      // gzip: the CRD admits it exactly where the runner writes it.
      let admitted = true;
      try {
        queryJobFixture({ output: { format, compression: 'gzip' } });
      } catch {
        admitted = false;
      }
      const gz = runnerSpec(qj, catalogFixture(), PLAN);
      gz['output'] = { ...(gz['output'] as Record<string, unknown>), compression: 'gzip' };
      if (admitted) expect(parseSpec(gz).output.compression, format).toBe('gzip');
      else expect(() => parseSpec(gz), format).toThrow(/gzip/);
    }
  });
});

// A Catalog whose results go to an S3-compatible bucket, on the real control plane (issue 13): the runner Job gets
// the bucket and its job prefix in its spec and the key pair only by reference to the Catalog's Secret (never a
// value in the pod spec), writes to a scratch emptyDir instead of a claim, and destruction runs the runner's
// `--delete` of that prefix before the record is ARCHIVED. With no claim to wait for, the pods are scheduled and kwok
// runs them to completion (exit 0, no termination message: no results listed); a pods=0 ResourceQuota holds the
// cleanup Job's pod back while its spec is checked.
import { describe, expect, it } from 'vitest';
import { eventually, kubectl } from '../cluster/index.js';
import {
  applyObject,
  getQueryJob,
  jobsOf,
  phaseOf,
  queryJob,
  queryJobSuite,
  READER,
  type JobObj,
} from './support.js';

const KEYS = { id: 'SKYE2EACCESSKEY', secret: 'e2e-secret-access-key-not-in-any-pod-spec' };
const s = queryJobSuite('qjs3', {
  results: {
    s3: {
      endpoint: 'http://127.0.0.1:7070',
      bucket: 'des-results',
      prefix: 'y6',
      forcePathStyle: true,
      credentialsSecretRef: { name: 'des-results-s3' },
    },
  },
});
const { ns, catalog } = s;
const GOOD = 'SELECT coadd_object_id, ra, dec FROM des_sample WHERE dec > -30 ORDER BY coadd_object_id';

type Container = {
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  volumeMounts?: { name: string; mountPath: string }[];
};
type Pod = { containers: Container[]; volumes?: Record<string, unknown>[] };
const podOf = (j: JobObj | undefined): Pod => j?.spec.template.spec as unknown as Pod;

async function startOperator() {
  const op = await s.start({ args: ['--controllers=queryjob'] });
  await eventually(async () => (await op.probe('/readyz')) === 200, {
    timeoutMs: 180_000,
    intervalMs: 500,
    description: 'the operator is ready',
  });
  return op;
}

describe('QueryJob with results in a bucket', () => {
  it('runner Job: bucket and prefix in its spec, keys by secretKeyRef, scratch emptyDir; destruction deletes the prefix', async () => {
    s.dumpOnFailure();
    if (s.started.length === 0) await startOperator();
    await applyObject({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'des-results-s3', namespace: ns() },
      stringData: { AWS_ACCESS_KEY_ID: KEYS.id, AWS_SECRET_ACCESS_KEY: KEYS.secret },
    });
    await applyObject(queryJob(ns(), 'to-bucket', catalog(), { query: GOOD, phase: 'RUN' }));
    const q = await phaseOf(ns(), 'to-bucket', 'QUEUED');
    const [job] = await jobsOf(ns(), q.metadata.uid);
    const pod = podOf(job);
    const c = pod.containers[0];
    const spec = JSON.parse(c?.env?.find((e) => e.name === 'SKYPORT_JOB_SPEC')?.value ?? '{}') as {
      output: Record<string, unknown>;
    };
    const prefix = `y6/${ns()}/to-bucket/${q.metadata.uid}/`;
    expect(spec.output['s3']).toEqual({
      endpoint: 'http://127.0.0.1:7070',
      bucket: 'des-results',
      region: 'us-east-1',
      forcePathStyle: true,
      prefix,
    });
    expect(c?.env?.filter((e) => e.name.startsWith('AWS_'))).toEqual([
      {
        name: 'AWS_ACCESS_KEY_ID',
        valueFrom: { secretKeyRef: { name: 'des-results-s3', key: 'AWS_ACCESS_KEY_ID' } },
      },
      {
        name: 'AWS_SECRET_ACCESS_KEY',
        valueFrom: { secretKeyRef: { name: 'des-results-s3', key: 'AWS_SECRET_ACCESS_KEY' } },
      },
    ]);
    const stored = JSON.stringify(job);
    for (const v of [KEYS.id, KEYS.secret, READER.password]) expect(stored).not.toContain(v);
    expect(pod.volumes?.find((v) => v['name'] === 'results')).toMatchObject({ emptyDir: {} });
    expect(stored).not.toContain('persistentVolumeClaim');

    await phaseOf(ns(), 'to-bucket', 'COMPLETED');
    await applyObject({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'no-pods', namespace: ns() },
      spec: { hard: { pods: '0' } },
    });

    const soon = new Date(Date.now() + 3000).toISOString().replace(/\.\d+Z$/, 'Z');
    await kubectl([
      'patch',
      'queryjob',
      'to-bucket',
      '-n',
      ns(),
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { destruction: soon } }),
    ]);
    const cleanup = await eventually(
      async () => {
        const j = (await jobsOf(ns(), q.metadata.uid)).find((x) => x.metadata.name === 'to-bucket-cleanup');
        if (j === undefined) throw new Error('no cleanup Job yet');
        return j;
      },
      { timeoutMs: 60_000, description: 'the cleanup Job' },
    );
    const cc = podOf(cleanup).containers[0];
    expect(cc?.command).toEqual(['node', 'dist/src/main.js', '--delete']);
    const delSpec = JSON.parse(cc?.env?.find((e) => e.name === 'SKYPORT_JOB_SPEC')?.value ?? '{}') as {
      output: { s3?: { prefix: string } };
    };
    expect(delSpec.output.s3?.prefix).toBe(prefix);
    expect(
      cc?.env?.filter((e) => e.name.startsWith('AWS_')).map((e) => e.valueFrom?.secretKeyRef?.name),
    ).toEqual(['des-results-s3', 'des-results-s3']);
    expect(JSON.stringify(cleanup)).not.toContain(KEYS.secret);
    expect((await getQueryJob(ns(), 'to-bucket')).status?.phase).toBe('COMPLETED');
    await kubectl(['delete', 'resourcequota', 'no-pods', '-n', ns()]);
    const archived = await phaseOf(ns(), 'to-bucket', 'ARCHIVED', 300_000);
    expect(archived.status?.results).toBeUndefined();
  });
});

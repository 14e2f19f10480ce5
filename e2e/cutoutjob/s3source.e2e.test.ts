// An ImageCollection whose tiles are in an S3-compatible bucket (spec.source.s3, docs/adr/0016-s3-tile-source.md)
// on the real local control plane: the apiserver's CEL takes exactly one source; the indexing Job runs `index-s3`
// with the bucket in its arguments, the key pair only by secretKeyRef, the index written to the results claim; the
// collection reads the runner's report (largestTileBytes included); a CutoutJob's shard pods get the bucket in
// their spec, the keys by reference and a scratch emptyDir sized from the largest tile. The test plays the kubelet.
import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl, ToolError } from '../cluster/index.js';
import { operatorSuite } from '../operator/suite.js';
import { cutoutKit, sampleIndexReport, type Obj } from './support.js';

/** Key values that must never appear in a pod or Job spec (only the Secret holds them). */
const ACCESS = 'E2EACCESSKEY0000S3';
const SECRET = 'e2e-secret-key-never-in-a-pod-spec';

const suite = operatorSuite({
  namespace: 'cutout-s3',
  profiles: [],
  setUp: async (ns) => {
    await apply({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'des-cutouts', namespace: ns },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'des-tiles-s3', namespace: ns },
      stringData: { access: ACCESS, secret: SECRET },
    });
  },
});
const HOLD = { 'e2e.skyport.io/complete-after': '1h' };
const { apply, get, list, waitFor, endPod, runningPods } = cutoutKit(() => suite.ns());

const BUCKET = {
  endpoint: 'http://objects.example.org:7070',
  bucket: 'des-tiles',
  prefix: 'dr2/coadd',
  forcePathStyle: true,
  credentialsSecretRef: { name: 'des-tiles-s3', accessKeyIdKey: 'access', secretAccessKeyKey: 'secret' },
};

let indexReport = '';
beforeAll(async () => {
  indexReport = await sampleIndexReport();
  await suite.start({
    args: ['--controllers=imagecollection,cutoutjob'],
    env: { SKYPORT_CUTOUT_POD_ANNOTATION_PREFIXES: 'e2e.skyport.io/' },
  });
}, 120_000);

function collection(name: string, source: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'ImageCollection',
    metadata: { name, namespace: suite.ns() },
    spec: { source, results: { persistentVolumeClaim: { claimName: 'des-cutouts', path: 'out' } } },
  };
}

type PodSpec = { containers: Record<string, unknown>[]; volumes: Record<string, unknown>[] };
const podSpecOf = (job: Obj): PodSpec => (job.spec?.['template'] as { spec: PodSpec }).spec;

/** The key pair reaches the container by reference only, and no value of it is anywhere in the object. */
function expectKeysByReference(obj: unknown, container: Record<string, unknown>): void {
  // An Indexed Job's pods also get JOB_COMPLETION_INDEX (by fieldRef) from the Job controller.
  const env = (container['env'] as { name: string }[]).filter((e) => e.name.startsWith('AWS_'));
  expect(env).toEqual([
    { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'des-tiles-s3', key: 'access' } } },
    { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'des-tiles-s3', key: 'secret' } } },
  ]);
  const text = JSON.stringify(obj);
  expect(text).not.toContain(ACCESS);
  expect(text).not.toContain(SECRET);
}

describe('ImageCollection with spec.source.s3', () => {
  it('the apiserver takes exactly one of a claim and a bucket', async () => {
    const both = collection('both', { s3: BUCKET, persistentVolumeClaim: { claimName: 'des-tiles' } });
    const none = collection('none', {});
    for (const c of [both, none]) {
      const err = await kubectl(['create', '-f', '-'], { input: JSON.stringify(c) }).then(
        () => 'accepted',
        (e: unknown) => (e instanceof ToolError ? e.stderr : String(e)),
      );
      expect(err).toMatch(/spec\.source: Invalid value.*exactly one of persistentVolumeClaim and s3/);
    }
    const dots = collection('dots', { s3: { ...BUCKET, prefix: 'a/../b' } });
    const err = await kubectl(['create', '-f', '-'], { input: JSON.stringify(dots) }).then(
      () => 'accepted',
      (e: unknown) => (e instanceof ToolError ? e.stderr : String(e)),
    );
    expect(err).toMatch(/spec\.source\.s3\.prefix: Invalid value.*'\.' or '\.\.' segments/);
  });

  it('indexes the bucket by a Job with the keys by reference, then shards get the bucket and a scratch', async () => {
    suite.dumpOnFailure();
    await apply(collection('des', { s3: BUCKET }));
    const c = await waitFor('imagecollection', 'des', 'with an index Job', (o) => {
      return typeof o.status?.['indexJob'] === 'string';
    });
    expect(c.status?.message).toContain('in bucket des-tiles');
    const jobName = String(c.status?.['indexJob']);
    const job = await get('job', jobName);
    const pod = podSpecOf(job);
    const [runner] = pod.containers;
    expect(runner?.['args']).toEqual([
      'index-s3',
      JSON.stringify({
        endpoint: BUCKET.endpoint,
        bucket: 'des-tiles',
        prefix: 'dr2/coadd',
        region: 'us-east-1',
        forcePathStyle: true,
      }),
      '/results/index/tiles.json',
      '--summary-file',
      '/dev/termination-log',
    ]);
    expectKeysByReference(job, runner ?? {});
    // The bucket is only read: the index goes to the results claim, and there is no tiles volume.
    expect(pod.volumes).toEqual([{ name: 'results', persistentVolumeClaim: { claimName: 'des-cutouts' } }]);
    expect(runner?.['volumeMounts']).toEqual([
      // readOnly false is the default: the apiserver does not keep it.
      { name: 'results', mountPath: '/results', subPath: 'out' },
    ]);
    // The pod the Job controller made carries the same references.
    const [p] = await list('pods', `batch.kubernetes.io/job-name=${jobName}`);
    expectKeysByReference(p, (p?.spec?.['containers'] as Record<string, unknown>[])[0] ?? {});

    await endPod(p!, indexReport);
    const largest = (JSON.parse(indexReport) as { largestTileBytes: number }).largestTileBytes;
    expect(largest).toBeGreaterThan(0);
    const ready = await waitFor('imagecollection', 'des', 'Ready', (o) => o.status?.phase === 'Ready');
    expect(ready.status).toMatchObject({
      tiles: 9,
      indexPath: 'index/tiles.json',
      largestTileBytes: largest,
    });

    await apply({
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'CutoutJob',
      metadata: { name: 'lens', namespace: suite.ns(), annotations: HOLD },
      spec: {
        owner: 'alice',
        imageCollection: 'des',
        positions: { inline: 'RA,DEC,ID\n0.0,-30.0,centre\n0.019,-30.019,corner\n20,20,far\n' },
        size: { xsize: 10, unit: 'arcsec' },
        parallelism: { shards: 2 },
      },
    });
    await waitFor('cutoutjob', 'lens', 'EXECUTING', (o) => o.status?.phase === 'EXECUTING');
    const mi = Math.ceil((9 * largest) / 1024 ** 2);
    const spec = JSON.parse((await get('configmap', 'lens-positions')).data?.['spec.json'] ?? '{}') as Record<
      string,
      unknown
    >;
    expect(spec).toMatchObject({
      root: '/scratch',
      index: '/results/index/tiles.json',
      scratchBytes: Math.floor(0.9 * mi * 1024 ** 2),
      s3: { endpoint: BUCKET.endpoint, bucket: 'des-tiles', prefix: 'dr2/coadd', forcePathStyle: true },
    });
    expect(JSON.stringify(spec)).not.toContain('secret');
    const shards = await get('job', 'lens-shards');
    const shardPod = podSpecOf(shards);
    expectKeysByReference(shards, shardPod.containers[0] ?? {});
    expect(shardPod.volumes).toContainEqual({ name: 'scratch', emptyDir: { sizeLimit: `${mi}Mi` } });
    expect(shardPod.volumes.map((v) => v['name'])).toEqual(['results', 'positions', 'scratch']);
    expect(shardPod.containers[0]?.['volumeMounts']).toContainEqual({
      name: 'scratch',
      mountPath: '/scratch',
    });
    const pods = await runningPods('lens-shards', 2);
    for (const sp of pods) {
      const ps = sp.spec as unknown as PodSpec;
      expect(ps.volumes).toContainEqual({ name: 'scratch', emptyDir: { sizeLimit: `${mi}Mi` } });
      expectKeysByReference(sp, ps.containers[0] ?? {});
    }
  });
});

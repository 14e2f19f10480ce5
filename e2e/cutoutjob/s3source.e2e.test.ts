// An ImageCollection whose tiles are in an S3-compatible bucket (spec.source.s3, docs/adr/0016-s3-tile-source.md)
// on the real local control plane: the apiserver's CEL takes exactly one source; the indexing Job runs `index-s3`
// with the bucket in its arguments, the key pair only by secretKeyRef, the index written to the results claim; the
// collection reads the runner's report (largestTileBytes included); a CutoutJob's shard pods get the bucket in
// their spec, the keys by reference and a scratch emptyDir sized from the largest tile. The test plays the kubelet.
// Then with a real bucket (versitygw on loopback holding the sample survey): the real cutout runner runs each Job's
// own arguments, spec and Secret-resolved environment on this machine (the pod's volumes as temporary folders), as
// tap-s3.e2e.test.ts does for the query runner, and the pods end with its reports: the index from ranged header
// reads, shards downloading their tiles, the merge, the job COMPLETED with every star cut.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type S3Server } from '../../packages/s3/test/support/s3server.js';
import { kubectl, repoRoot, ToolError } from '../cluster/index.js';
import { operatorSuite } from '../operator/suite.js';
import { cutoutKit, sampleIndexReport, sampleSurvey, type Obj } from './support.js';

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
let s3: S3Server | undefined;
const work = mkdtempSync(join(tmpdir(), 'skyport-e2e-s3source-'));
afterAll(async () => {
  await s3?.stop();
  rmSync(work, { recursive: true, force: true });
});
beforeAll(async () => {
  indexReport = await sampleIndexReport();
  s3 = await startS3('des-tiles');
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

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

/**
 * Runs the real cutout runner with a container's arguments and environment as its pod would: in-pod paths
 * (`/results`, `/positions`, `/scratch`, the termination log) mapped to folders under `root`, secretKeyRefs resolved
 * from `secrets`. Returns the exit code and the termination message.
 */
async function runLikeThePod(
  container: Record<string, unknown>,
  root: string,
  secrets: Record<string, Record<string, string>>,
  index?: number,
): Promise<{ code: number | null; message: string }> {
  const map = (a: string): string =>
    a
      .replace(/^\/dev\/termination-log$/, join(root, 'termination-log'))
      .replace(/^\/(results|positions|scratch)(?=\/|$)/, (_m, d: string) => join(root, d))
      .replace('$(JOB_COMPLETION_INDEX)', String(index ?? 0));
  const env: Record<string, string> = {};
  for (const e of (container['env'] ?? []) as EnvVar[]) {
    const ref = e.valueFrom?.secretKeyRef;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (ref !== undefined) env[e.name] = secrets[ref.name]?.[ref.key] ?? '';
  }
  rmSync(join(root, 'termination-log'), { force: true });
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'services/cutout-runner/src/main.ts'),
      ...(container['args'] as string[]).map(map),
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { PATH: process.env['PATH'] ?? '', ...env },
    },
  );
  const code = await new Promise<number | null>((ok) => child.once('exit', ok));
  const log = join(root, 'termination-log');
  return { code, message: existsSync(log) ? readFileSync(log, 'utf8') : '' };
}

describe('the real cutout runner over a real bucket, with the Jobs the operator made', () => {
  it('indexes by ranged GETs, shards download their tiles, merge: every star cut, COMPLETED', async () => {
    suite.dumpOnFailure();
    const server = s3;
    if (server === undefined) throw new Error('no S3 server');
    const survey = join(work, 'survey');
    const sample = await sampleSurvey(survey);
    const client = server.client();
    const files = (
      JSON.parse(JSON.stringify(sample.index)) as { tiles: { files: { path: string }[] }[] }
    ).tiles.flatMap((t) => t.files.map((f) => f.path));
    expect(files.length).toBe(27);
    for (const f of files) await client.put(`y6/coadd/${f}`, readFileSync(join(survey, f)));
    const secrets = {
      'real-s3': { access: server.credentials.accessKeyId, secret: server.credentials.secretAccessKey },
    };
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'real-s3', namespace: suite.ns() },
      stringData: secrets['real-s3'],
    });
    const bucket = {
      endpoint: server.endpoint,
      bucket: 'des-tiles',
      prefix: 'y6/coadd',
      forcePathStyle: true,
      credentialsSecretRef: { name: 'real-s3', accessKeyIdKey: 'access', secretAccessKeyKey: 'secret' },
    };
    await apply(collection('real', { s3: bucket }));
    const c = await waitFor('imagecollection', 'real', 'with an index Job', (o) => {
      return typeof o.status?.['indexJob'] === 'string';
    });
    const jobName = String(c.status?.['indexJob']);
    const root = join(work, 'pod');
    mkdirSync(join(root, 'results'), { recursive: true });
    const idx = await runLikeThePod(podSpecOf(await get('job', jobName)).containers[0] ?? {}, root, secrets);
    expect(idx.code).toBe(0);
    // The index the runner wrote from ranged header reads is the directory's.
    expect(readFileSync(join(root, 'results', 'index', 'tiles.json'), 'utf8')).toBe(
      JSON.stringify(sample.index, null, 1) + '\n',
    );
    const [p] = await list('pods', `batch.kubernetes.io/job-name=${jobName}`);
    await endPod(p!, idx.message);
    await waitFor('imagecollection', 'real', 'Ready', (o) => o.status?.phase === 'Ready');

    const stars = sample.stars.map((st) => `${st.ra},${st.dec},${st.id}`);
    await apply({
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'CutoutJob',
      metadata: { name: 'cut', namespace: suite.ns(), annotations: HOLD },
      spec: {
        owner: 'alice',
        imageCollection: 'real',
        positions: { inline: ['RA,DEC,ID', ...stars, '20,20,far'].join('\n') + '\n' },
        size: { xsize: 10, unit: 'arcsec' },
        fits: { hdus: ['SCI', 'WGT'] },
        parallelism: { shards: 2 },
      },
    });
    await waitFor('cutoutjob', 'cut', 'EXECUTING', (o) => o.status?.phase === 'EXECUTING');
    // The positions ConfigMap as the pods mount it.
    const cm = await get('configmap', 'cut-positions');
    mkdirSync(join(root, 'positions'), { recursive: true });
    for (const [k, v] of Object.entries(cm.data ?? {})) {
      const text =
        k === 'spec.json'
          ? v.replace(/"\/(results|positions|scratch)/g, (_m, d: string) => `"${join(root, d)}`)
          : v;
      writeFileSync(join(root, 'positions', k), text);
    }
    const shard = podSpecOf(await get('job', 'cut-shards')).containers[0] ?? {};
    const pods = await runningPods('cut-shards', 2);
    for (const pod of pods) {
      const i = Number(pod.metadata.annotations?.['batch.kubernetes.io/job-completion-index']);
      const r = await runLikeThePod(shard, root, secrets, i);
      expect(r.code).toBe(0);
      await endPod(pod, '{}');
    }
    // Each shard downloaded its tiles into the scratch and left it empty.
    const out = `cutoutjobs/cut-${(await get('cutoutjob', 'cut')).metadata.uid.slice(0, 8)}`;
    for (const i of [0, 1]) {
      const summary = JSON.parse(
        readFileSync(join(root, 'results', out, `shard-${i}`, 'summary.json'), 'utf8'),
      ) as {
        staging: { downloads: number; failed: number };
      };
      expect(summary.staging.downloads).toBeGreaterThan(0);
      expect(summary.staging.failed).toBe(0);
    }
    const [merge] = await runningPods('cut-merge', 1);
    const m = await runLikeThePod(
      podSpecOf(await get('job', 'cut-merge')).containers[0] ?? {},
      root,
      secrets,
    );
    expect(m.code).toBe(0);
    await endPod(merge!, m.message);
    const done = await waitFor('cutoutjob', 'cut', 'COMPLETED', (o) => o.status?.phase === 'COMPLETED');
    const counts = done.status?.['counts'] as Record<string, number>;
    // Every star cut (partial only where a star's box crosses the survey's outer edge: NaN padding).
    expect(counts).toMatchObject({ positions: stars.length + 1, unmatched: 1, failed: 0 });
    expect((counts['ok'] ?? 0) + (counts['partial'] ?? 0)).toBe(stars.length);
    expect(counts['ok']).toBeGreaterThan(0);
    const manifest = readFileSync(join(root, 'results', out, 'manifest.csv'), 'utf8');
    expect(manifest.trim().split('\r\n')).toHaveLength(stars.length + 2);
  });
});

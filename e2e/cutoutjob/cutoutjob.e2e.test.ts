// ImageCollection and CutoutJob on the real local control plane (kube-apiserver, kube-controller-manager's Job
// controller, kwok nodes). The test plays the kubelet for the runner pods: pods are held Running by kwok
// (`e2e.skyport.io/complete-after`) and the test ends them — Succeeded with the runner's report as termination
// message — as a kubelet would, so the Job controller and the operator see what they see on a real node.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually, kubectl, repoRoot, ToolError } from '../cluster/index.js';
import { operatorSuite } from '../operator/suite.js';
import { cutoutKit } from './support.js';

const suite = operatorSuite({
  namespace: 'cutout',
  profiles: [],
  setUp: async (ns) => {
    for (const claim of ['des-tiles', 'des-cutouts'])
      await apply({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: claim, namespace: ns },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      });
  },
});
const HOLD = { 'e2e.skyport.io/complete-after': '1h' };
const { apply, get, list, waitFor, endPod, runningPods } = cutoutKit(() => suite.ns());
const start = () =>
  suite.start({
    args: ['--controllers=imagecollection,cutoutjob'],
    env: { SKYPORT_CUTOUT_POD_ANNOTATION_PREFIXES: 'e2e.skyport.io/' },
  });

let indexReport = '';
let survey = '';
beforeAll(async () => {
  // The index report the runner really writes, for a small sample survey (services/cutout-runner).
  survey = mkdtempSync(join(tmpdir(), 'skyport-e2e-survey-'));
  const gen = (await import(
    pathToFileURL(join(repoRoot, 'services/cutout-runner/src/survey/generate.ts')).href
  )) as {
    generateSurvey: (o: { dir: string; tileSize: number; bands: string[]; starsPerTile: number }) => unknown;
  };
  const idx = (await import(
    pathToFileURL(join(repoRoot, 'services/cutout-runner/src/survey/tile-index.ts')).href
  )) as {
    buildIndex: (dir: string) => unknown;
  };
  const main = (await import(pathToFileURL(join(repoRoot, 'services/cutout-runner/src/main.ts')).href)) as {
    indexSummary: (index: unknown, path: string) => string;
  };
  gen.generateSurvey({ dir: survey, tileSize: 256, bands: ['g', 'r', 'i'], starsPerTile: 1 });
  indexReport = main.indexSummary(idx.buildIndex(survey), '/tiles/tiles.json');
  rmSync(survey, { recursive: true, force: true });
  await start();
}, 120_000);

function collection(name: string): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'ImageCollection',
    metadata: { name, namespace: suite.ns() },
    spec: {
      source: { persistentVolumeClaim: { claimName: 'des-tiles', path: 'coadd' } },
      results: { persistentVolumeClaim: { claimName: 'des-cutouts' } },
      limits: { maxConcurrentJobsPerOwner: 1 },
    },
  };
}

function cutout(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'CutoutJob',
    metadata: { name, namespace: suite.ns(), annotations: HOLD },
    spec: {
      owner: 'alice',
      imageCollection: 'des',
      // Sample survey: 3 × 3 tiles of 256 px at 0.263″ around RA 0, Dec −30 (each ~1.1′).
      positions: {
        inline: [
          '\uFEFFRA,DEC,ID',
          '0.0,-30.0,centre',
          '359.999,-30.0001,centre-b',
          '',
          '0.019,-30.019,corner',
          'abc,-30,bad-ra',
          '0,-95,bad-dec',
          '20,20,far',
        ].join('\r\n'),
      },
      size: { xsize: 10, unit: 'arcsec' },
      parallelism: { shards: 2 },
      ...spec,
    },
  };
}

describe('ImageCollection', () => {
  it('runs an indexing Job over the source claim and reports tiles, bands and coverage from its pod', async () => {
    suite.dumpOnFailure();
    await apply(collection('des'));
    const c = await waitFor(
      'imagecollection',
      'des',
      'with an index Job',
      (o) => typeof o.status?.['indexJob'] === 'string',
    );
    const jobName = String(c.status?.['indexJob']);
    const job = await get('job', jobName);
    const pod = (job.spec?.['template'] as { spec: Record<string, unknown> }).spec;
    expect(pod['securityContext']).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(JSON.stringify(pod['volumes'])).toContain('"claimName":"des-tiles"');
    // kwok ends the pod without a report (no runner ran): the collection says so.
    const failed = await waitFor('imagecollection', 'des', 'Failed', (o) => o.status?.phase === 'Failed');
    expect(failed.status?.conditions?.find((x) => x.type === 'Ready')?.reason).toBe('IndexReportMissing');
    // The kubelet's view of a runner that ran: its termination message.
    const [p] = await list('pods', `batch.kubernetes.io/job-name=${jobName}`);
    await endPod(p!, indexReport);
    const ready = await waitFor('imagecollection', 'des', 'Ready', (o) => o.status?.phase === 'Ready');
    expect(ready.status).toMatchObject({
      tiles: 9,
      bands: ['g', 'i', 'r'],
      skipped: 0,
      indexPath: 'tiles.json',
    });
    expect(ready.status?.['coverage']).toMatchObject({ crossRa0: true });
    expect((ready.status?.['footprints'] as unknown[]).length).toBe(9);
    expect(await kubectl(['get', 'imagecollection', 'des', '-n', suite.ns()])).toMatch(/des\s+Ready\s+9\s+/);
  });
});

describe('CutoutJob', () => {
  it('refuses invalid specs naming the field', async () => {
    const tries: [Record<string, unknown>, RegExp][] = [
      [
        { size: { xsize: 13, unit: 'arcmin' } },
        /spec\.size\.xsize: Invalid value.*xsize must be 0\.1–12 arcmin/,
      ],
      [
        { positions: { inline: 'RA,DEC\n1,2\n', configMapRef: { name: 'p' } } },
        /spec\.positions: Invalid value.*exactly one of inline/,
      ],
      [{ parallelism: { shards: 0 } }, /spec\.parallelism\.shards: Invalid value: 0/],
      [{ fits: { hdus: ['VAR'] } }, /spec\.fits\.hdus\[0\]: Unsupported value: "VAR"/],
    ];
    for (const [spec, want] of tries) {
      const err = await kubectl(['create', '-f', '-'], { input: JSON.stringify(cutout('bad', spec)) }).then(
        () => 'accepted',
        (e: unknown) => (e instanceof ToolError ? e.stderr : String(e)),
      );
      expect(err).toMatch(want);
    }
  });

  it('plans per-row reasons, runs ONE Indexed Job of shards by tile, survives an operator restart, merges', async () => {
    suite.dumpOnFailure();
    await apply(cutout('lens'));
    const j = await waitFor('cutoutjob', 'lens', 'EXECUTING', (o) => o.status?.phase === 'EXECUTING');
    expect(j.status?.['counts']).toEqual({
      positions: 6,
      done: 3,
      ok: 0,
      partial: 0,
      unmatched: 1,
      failed: 2,
    });
    const cm = await get('configmap', 'lens-positions');
    expect(Object.keys(cm.data ?? {}).sort()).toEqual([
      'rejected.csv',
      'rows-0',
      'rows-1',
      'shard-0.csv',
      'shard-1.csv',
      'spec.json',
    ]);
    expect(cm.data?.['rejected.csv']).toContain(
      '4,bad-ra,,,failed,,,0.000000,"line 6: RA ""abc"" is not in [0, 360]"',
    );
    expect(cm.data?.['rejected.csv']).toContain(
      '5,bad-dec,,,failed,,,0.000000,"line 7: DEC ""-95"" is not in [-90, 90]"',
    );
    expect(cm.data?.['rejected.csv']).toContain('6,far,20,20,unmatched,,,0.000000,out-of-footprint');
    // rows 1 and 2 share the centre tile; row 3 is in a corner tile.
    expect([cm.data?.['rows-0'], cm.data?.['rows-1']].sort()).toEqual(['1,2', '3']);
    const shards = await get('job', 'lens-shards');
    expect(shards.spec).toMatchObject({
      completionMode: 'Indexed',
      completions: 2,
      parallelism: 2,
      backoffLimitPerIndex: 2,
    });
    const pods = await runningPods('lens-shards', 2);
    expect(
      pods.map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']).sort(),
    ).toEqual(['0', '1']);

    // Operator restart mid-job: the new one finds the Job and ConfigMap it made.
    const [first] = suite.started;
    await first!.stop('SIGKILL');
    await start();
    await endPod(pods[0]!, '{}');
    const half = await waitFor(
      'cutoutjob',
      'lens',
      'half done',
      (o) => (o.status?.['progress'] as { shardsDone: number }).shardsDone === 1,
    );
    expect((half.status?.['progress'] as { percent: number }).percent).toBeGreaterThan(50);
    await endPod(pods[1]!, '{}');
    expect((await list('jobs', 'app.kubernetes.io/component=shards')).map((x) => x.metadata.uid)).toEqual([
      shards.metadata.uid,
    ]);

    const [merge] = await runningPods('lens-merge', 1);
    expect((merge!.spec?.['containers'] as { args: string[] }[])[0]!.args).toEqual([
      'merge',
      '/positions',
      `/results/cutoutjobs/lens-${j.metadata.uid.slice(0, 8)}`,
      '--shards',
      '2',
      '--summary-file',
      '/dev/termination-log',
    ]);
    const report = {
      positions: 6,
      counts: { ok: 2, partial: 1, unmatched: 1, failed: 2 },
      files: 6,
      bytes: 123456,
      missingShards: [],
      results: [{ id: 'manifest', path: 'manifest.csv', size: 700, sha256: 'a'.repeat(64) }],
    };
    await endPod(merge!, JSON.stringify(report));
    const done = await waitFor('cutoutjob', 'lens', 'COMPLETED', (o) => o.status?.phase === 'COMPLETED');
    expect(done.status).toMatchObject({
      counts: { positions: 6, done: 6, ok: 2, partial: 1, unmatched: 1, failed: 2 },
      bytes: 123456,
      files: 6,
      progress: { percent: 100 },
      results: [
        {
          id: 'manifest',
          path: `cutoutjobs/lens-${j.metadata.uid.slice(0, 8)}/manifest.csv`,
          sha256: 'a'.repeat(64),
        },
      ],
    });
    expect(done.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('queues past the owner limit, then ABORT suspends the shards and ends ABORTED', async () => {
    suite.dumpOnFailure();
    await apply(cutout('first'));
    await waitFor('cutoutjob', 'first', 'EXECUTING', (o) => o.status?.phase === 'EXECUTING');
    await apply(cutout('second'));
    const q = await waitFor('cutoutjob', 'second', 'QUEUED', (o) => o.status?.phase === 'QUEUED');
    expect(q.status?.message).toContain('already has 1 CutoutJobs executing');
    await kubectl([
      'patch',
      'cutoutjob',
      'first',
      '-n',
      suite.ns(),
      '--type=merge',
      '-p',
      '{"spec":{"phase":"ABORT"}}',
    ]);
    await waitFor('cutoutjob', 'first', 'ABORTED', (o) => o.status?.phase === 'ABORTED');
    expect((await get('job', 'first-shards')).spec?.['suspend']).toBe(true);
    await eventually(
      async () => (await list('pods', 'batch.kubernetes.io/job-name=first-shards')).length === 0,
      {
        timeoutMs: 60_000,
        description: 'the aborted shards pods gone',
      },
    );
    // A slot is free: the queued job starts.
    await waitFor('cutoutjob', 'second', 'EXECUTING', (o) => o.status?.phase === 'EXECUTING');
  });
});

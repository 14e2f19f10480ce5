// A CutoutJob fed by a QueryJob's result (spec.positions.fromQueryJob) on the real local control plane: the job
// waits while its QueryJob is missing or running, a plan Job of the cutout runner reads the result once it has
// COMPLETED, the plan's report becomes the positions ConfigMap and the shards' Job. No query controller runs here:
// the test writes the QueryJob's status as the query controller would, and plays the kubelet for the runner pods
// (held Running by kwok, then ended with the termination message the runner writes — for the plan, the report the
// runner's own `runPlan` makes of a sample result over a sample survey's index).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, kubectl } from '../cluster/index.js';
import { queryFedSuite, readyReason as reason, sampleSurvey, type PodSpec } from './support.js';

const catalog = `e2e-cutout-${process.pid}`;
const { suite, kit, start, collectionReady } = queryFedSuite('cutout-fromquery', catalog);
const HOLD = { 'e2e.skyport.io/complete-after': '1h' };
const { apply, get, list, waitFor, patchStatus, endPod, runningPods } = kit;

const SHA = 'b'.repeat(64);
function queryJob(name: string): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'QueryJob',
    metadata: { name, namespace: suite.ns() },
    spec: {
      owner: 'alice',
      catalogRef: { name: catalog },
      query: 'SELECT coadd_object_id, ra, dec FROM stars',
    },
  };
}
function cutout(name: string, from: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'CutoutJob',
    metadata: { name, namespace: suite.ns(), annotations: HOLD },
    spec: {
      owner: 'alice',
      imageCollection: 'des',
      positions: { fromQueryJob: from },
      size: { xsize: 10, unit: 'arcsec' },
      parallelism: { shards: 3 },
    },
  };
}
/** A COMPLETED QueryJob's status, as the query controller writes it. */
const completed = (file: string, format: string, rows: number) => ({
  phase: 'COMPLETED',
  rows,
  results: [
    { name: file, format, rows, bytes: 1234, sha256: SHA },
    { name: 'result.provenance.json', format: 'application/json', rows: 0, bytes: 100, sha256: SHA },
  ],
});

let indexReport = '';
let planReport = '';
let resultRows = 0;
let work = '';
beforeAll(async () => {
  // The runner's own reports: the index of a sample survey, and the plan of a result listing its stars.
  work = mkdtempSync(join(tmpdir(), 'skyport-e2e-fromquery-'));
  const s = await sampleSurvey(join(work, 'tiles'));
  const { index, runPlan } = s;
  indexReport = s.indexReport;
  const rows = s.stars.map((t) => `${t.id},${t.ra},${t.dec}`);
  resultRows = rows.length + 1;
  mkdirSync(join(work, 'query'));
  writeFileSync(
    join(work, 'query', 'result.csv.gz'),
    gzipSync(['coadd_object_id,ra,dec', ...rows, 'null-ra,,-30', ''].join('\r\n')),
  );
  planReport = JSON.stringify(
    runPlan(
      {
        inputs: [join(work, 'query', 'result.csv.gz')],
        columns: { raColumn: 'RA', decColumn: 'DEC', idColumn: 'coadd_object_id' },
        index: 'unused',
        size: { x: 10, y: 10, unit: 'arcsec' },
        shards: 3,
        limits: { minArcmin: 0.1, maxArcmin: 12, maxPixels: 4096, maxPositions: 100000 },
        outputDir: join(work, 'plan'),
      },
      () => index,
    ),
  );
  await start();
  await collectionReady(indexReport, { limits: { maxConcurrentJobsPerOwner: 4 } });
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('CutoutJob from a QueryJob', () => {
  it('waits for the QueryJob, plans its result in a plan Job once across a restart, then runs the shards', async () => {
    suite.dumpOnFailure();
    await apply(cutout('chain', { name: 'stars', idColumn: 'coadd_object_id' }));
    let j = await waitFor('cutoutjob', 'chain', 'QUEUED', (o) => reason(o) === 'QueryJobNotFound');
    expect(j.status?.phase).toBe('QUEUED');
    await apply(queryJob('stars'));
    await patchStatus('queryjob', 'stars', { phase: 'EXECUTING' });
    j = await waitFor('cutoutjob', 'chain', 'waiting', (o) => reason(o) === 'QueryJobNotFinished');
    expect(j.status?.message).toBe('waiting for QueryJob stars to complete (EXECUTING)');
    expect(await list('jobs', 'app.kubernetes.io/instance=chain')).toEqual([]);

    const qj = await get('queryjob', 'stars');
    await patchStatus(
      'queryjob',
      'stars',
      completed('result.csv.gz', 'text/csv; header=present', resultRows),
    );
    j = await waitFor('cutoutjob', 'chain', 'planning', (o) => reason(o) === 'Planning');
    expect(j.status).toMatchObject({
      phase: 'EXECUTING',
      outputPath: `cutoutjobs/chain-${j.metadata.uid.slice(0, 8)}`,
    });
    const planJob = await get('job', 'chain-plan');
    const pod = (planJob.spec?.['template'] as { spec: PodSpec }).spec;
    const [cmd, spec, ...rest] = pod.containers[0]!.args;
    expect([cmd, ...rest]).toEqual(['plan', '--summary-file', '/dev/termination-log']);
    expect(JSON.parse(spec!)).toMatchObject({
      inputs: ['/query/result.csv.gz'],
      columns: { raColumn: 'RA', decColumn: 'DEC', idColumn: 'coadd_object_id' },
      index: '/tiles/tiles.json',
      shards: 3,
      outputDir: `/results/cutoutjobs/chain-${j.metadata.uid.slice(0, 8)}/plan`,
    });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({
      name: 'query',
      mountPath: '/query',
      readOnly: true,
      subPath: `stars-${qj.metadata.uid}`,
    });
    expect(pod.volumes).toContainEqual({
      name: 'query',
      persistentVolumeClaim: { claimName: 'query-results', readOnly: true },
    });
    expect(planJob.spec?.['podFailurePolicy']).toMatchObject({ rules: [{ action: 'FailJob' }] });
    const [planPod] = await runningPods('chain-plan', 1);

    // Operator restart between the plan and the shards: the plan ends while no operator runs.
    const [first] = suite.started;
    await first!.stop('SIGKILL');
    await endPod(planPod!, planReport);
    await start();
    const report = JSON.parse(planReport) as { positions: number; shardSizes: number[]; failed: number };
    const cm = await eventually(() => get('configmap', 'chain-positions'), {
      timeoutMs: 60_000,
      description: 'the positions ConfigMap',
    });
    expect(cm.metadata.annotations).toMatchObject({
      'skyport.io/positions': String(report.positions),
      'skyport.io/shard-sizes': report.shardSizes.join(','),
      'skyport.io/settled-failed': '1',
    });
    expect(Object.keys(cm.data ?? {})).toEqual(['spec.json']);
    expect(JSON.parse(cm.data?.['spec.json'] ?? '')).toMatchObject({
      positionsFile: `/results/cutoutjobs/chain-${j.metadata.uid.slice(0, 8)}/plan/shard-{index}.csv`,
    });
    const shards = await eventually(() => get('job', 'chain-shards'), { description: 'the shards Job' });
    expect(shards.spec).toMatchObject({ completions: report.shardSizes.length, completionMode: 'Indexed' });
    j = await waitFor('cutoutjob', 'chain', 'cutting', (o) => reason(o) === 'Cutting');
    expect(j.status?.['counts']).toMatchObject({ positions: resultRows, failed: 1 });
    expect((await list('jobs', 'app.kubernetes.io/component=plan')).map((x) => x.metadata.uid)).toEqual([
      planJob.metadata.uid,
    ]);

    for (const p of await runningPods('chain-shards', report.shardSizes.length)) await endPod(p, '{}');
    const [merge] = await runningPods('chain-merge', 1);
    expect((merge!.spec as unknown as PodSpec).containers[0]!.args.slice(0, 3)).toEqual([
      'merge',
      `/results/cutoutjobs/chain-${j.metadata.uid.slice(0, 8)}/plan`,
      `/results/cutoutjobs/chain-${j.metadata.uid.slice(0, 8)}`,
    ]);
  });

  it('ends ERROR when its QueryJob fails, naming the phase and the error', async () => {
    suite.dumpOnFailure();
    await apply(queryJob('broken'));
    await patchStatus('queryjob', 'broken', { phase: 'QUEUED' });
    await apply(cutout('sad', { name: 'broken' }));
    await waitFor('cutoutjob', 'sad', 'QUEUED', (o) => reason(o) === 'QueryJobNotFinished');
    await patchStatus('queryjob', 'broken', {
      phase: 'ERROR',
      error: { type: 'fatal', code: 'QuoteOverLimit', message: 'estimated 9e9 rows' },
    });
    const e = await waitFor('cutoutjob', 'sad', 'ERROR', (o) => o.status?.phase === 'ERROR');
    expect(reason(e)).toBe('QueryJobNotAvailable');
    expect(e.status?.message).toBe(
      'spec.positions.fromQueryJob: QueryJob broken is ERROR: QuoteOverLimit: estimated 9e9 rows',
    );
    expect(await list('jobs', 'app.kubernetes.io/instance=sad')).toEqual([]);
  });

  it('ends ERROR before any Job for a result it cannot read, and for a column the plan Job did not find', async () => {
    suite.dumpOnFailure();
    await apply(queryJob('vot'));
    await patchStatus(
      'queryjob',
      'vot',
      completed('result.vot', 'application/x-votable+xml;serialization=TABLEDATA', 3),
    );
    await apply(cutout('unreadable', { name: 'vot' }));
    const u = await waitFor('cutoutjob', 'unreadable', 'ERROR', (o) => o.status?.phase === 'ERROR');
    expect(reason(u)).toBe('UnsupportedResultFormat');
    expect(u.status?.message).toContain("QueryJob vot's result result.vot is application/x-votable+xml");
    expect(await list('jobs', 'app.kubernetes.io/instance=unreadable')).toEqual([]);

    await apply(queryJob('csv'));
    await patchStatus('queryjob', 'csv', completed('result.csv', 'text/csv; header=present', 3));
    await apply(cutout('misnamed', { name: 'csv', raColumn: 'ra_deg' }));
    const [p] = await runningPods('misnamed-plan', 1);
    const message = 'raColumn: column "ra_deg" not in the result; it has "coadd_object_id", "ra", "dec"';
    await endPod(p!, JSON.stringify({ error: { code: 'BadPositions', field: 'raColumn', message } }), 2);
    const m = await waitFor('cutoutjob', 'misnamed', 'ERROR', (o) => o.status?.phase === 'ERROR');
    expect(reason(m)).toBe('BadPositions');
    expect(m.status?.message).toBe(`spec.positions.fromQueryJob.${message}`);
    // Exit 2 is not retried (podFailurePolicy): one pod.
    expect(await list('pods', 'batch.kubernetes.io/job-name=misnamed-plan')).toHaveLength(1);
  });

  it('ABORT while planning suspends the plan Job and ends ABORTED', async () => {
    suite.dumpOnFailure();
    await apply(cutout('stopped', { name: 'csv' }));
    await runningPods('stopped-plan', 1);
    await kubectl([
      'patch',
      'cutoutjob',
      'stopped',
      '-n',
      suite.ns(),
      '--type=merge',
      '-p',
      '{"spec":{"phase":"ABORT"}}',
    ]);
    await waitFor('cutoutjob', 'stopped', 'ABORTED', (o) => o.status?.phase === 'ABORTED');
    expect((await get('job', 'stopped-plan')).spec?.['suspend']).toBe(true);
    expect(await list('configmaps', 'app.kubernetes.io/instance=stopped')).toEqual([]);
  });
});

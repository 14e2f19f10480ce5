// A CutoutJob whose positions name objects by COADD_OBJECT_ID only, on the real local control plane: the operator
// snapshots the positions, creates the QueryJobs looking the IDs up in the collection's object catalogue
// (spec.objects), then a plan Job that maps every row back through the lookup's result, and the shards. Operator
// restarts between the steps make no second QueryJob or plan Job. As in fromquery.e2e.test.ts no query controller
// runs here: the test writes the QueryJob's status as the query controller would (e2e/cutoutjob/ids.int.test.ts runs
// the same SQL on a real PostgreSQL), and plays the kubelet for the runner pods, ending the plan pod with the report
// the runner's own `runPlan` makes of the same positions and lookup result over a sample survey's index.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, kubectl } from '../cluster/index.js';
import { queryFedSuite, readyReason as reason, sampleSurvey, type PodSpec } from './support.js';

const catalog = `e2e-ids-${process.pid}`;
const { suite, kit, start, crash, collectionReady } = queryFedSuite('cutout-ids', catalog);
const HOLD = { 'e2e.skyport.io/complete-after': '1h' };
const { apply, get, list, waitFor, patchStatus, endPod, runningPods } = kit;

const SHA = 'c'.repeat(64);

function cutout(name: string, inline: string): Record<string, unknown> {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'CutoutJob',
    metadata: { name, namespace: suite.ns(), annotations: HOLD },
    spec: {
      owner: 'alice',
      imageCollection: 'des',
      positions: { inline },
      size: { xsize: 10, unit: 'arcsec' },
      parallelism: { shards: 2 },
    },
  };
}

let indexReport = '';
let planReport = '';
let positions = '';
let stars = 0;
let work = '';
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'skyport-e2e-ids-'));
  const s = await sampleSurvey(join(work, 'tiles'));
  const { index, runPlan } = s;
  indexReport = s.indexReport;
  stars = s.stars.length;
  // The user's rows: every star by its ID (the first with its own size), an unknown ID, a duplicate, a non-ID.
  const ids = s.stars.map((_, i) => 1_000_000_000 + i);
  positions = [
    'COADD_OBJECT_ID,XSIZE',
    `${ids[0]},20`,
    ...ids.slice(1).map((id) => `${id},`),
    '77,',
    `${ids[1]},`,
    'not-an-id,',
    '',
  ].join('\r\n');
  // The lookup's result as the query runner writes the QueryJob's CSV (the operator's SQL's column names).
  mkdirSync(join(work, 'query'));
  writeFileSync(
    join(work, 'query', 'result.csv'),
    ['coadd_object_id,ra,dec', ...s.stars.map((t, i) => `${ids[i]},${t.ra},${t.dec}`), ''].join('\r\n'),
  );
  writeFileSync(join(work, 'positions.csv'), positions);
  planReport = JSON.stringify(
    runPlan(
      {
        inputs: [join(work, 'query', 'result.csv')],
        columns: { raColumn: 'ra', decColumn: 'dec', idColumn: 'coadd_object_id' },
        index: 'unused',
        size: { x: 10, y: 10, unit: 'arcsec' },
        shards: 2,
        limits: { minArcmin: 0.1, maxArcmin: 12, maxPixels: 4096, maxPositions: 100000 },
        outputDir: join(work, 'plan'),
        ids: { positionsFile: join(work, 'positions.csv'), queried: stars + 1, where: 'the catalogue' },
      },
      () => index,
    ),
  );
  await start();
  await collectionReady(indexReport, {
    objects: { catalogRef: { name: catalog }, schema: 'y6', table: 'Gold' },
  });
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('CutoutJob by COADD_OBJECT_ID', () => {
  it('looks the IDs up in ONE QueryJob and plans in ONE plan Job across restarts, rows mapped back by ID', async () => {
    suite.dumpOnFailure();
    await apply(cutout('byid', positions));
    const qj = await eventually(() => get('queryjob', 'byid-ids'), {
      timeoutMs: 60_000,
      description: 'the lookup QueryJob',
    });
    const ids = Array.from({ length: stars }, (_, i) => 1_000_000_000 + i);
    expect(qj.spec).toMatchObject({
      owner: 'alice',
      catalogRef: { name: catalog },
      language: 'SQL',
      phase: 'RUN',
      output: { format: 'csv' },
      query:
        'SELECT "coadd_object_id" AS coadd_object_id, "ra" AS ra, "dec" AS dec FROM "y6"."Gold" ' +
        `WHERE "coadd_object_id" = ANY('{${[...ids, 77].join(',')}}'::bigint[])`,
    });
    const job = await get('cutoutjob', 'byid');
    expect(qj.metadata.ownerReferences).toMatchObject([
      { kind: 'CutoutJob', name: 'byid', uid: job.metadata.uid, controller: true },
    ]);
    const snapshot = await get('configmap', 'byid-ids');
    expect(snapshot.data?.['positions.csv']).toBe(positions);
    let j = await waitFor('cutoutjob', 'byid', 'looking up', (o) => reason(o) === 'Planning');
    expect(j.status?.phase).toBe('EXECUTING');
    expect(j.status?.message).toContain(`COADD_OBJECT_IDs in Catalog ${catalog} table "y6"."Gold"`);

    // A restart while the lookup runs: the same QueryJob, no second one.
    await crash();
    await start();
    await patchStatus('queryjob', 'byid-ids', { phase: 'EXECUTING' });
    await waitFor('cutoutjob', 'byid', 'waiting for the lookup', (o) =>
      (o.status?.message ?? '').endsWith('QueryJob byid-ids is EXECUTING'),
    );
    expect((await list('queryjobs', 'app.kubernetes.io/instance=byid')).map((o) => o.metadata.uid)).toEqual([
      qj.metadata.uid,
    ]);
    expect(await list('jobs', 'app.kubernetes.io/instance=byid')).toEqual([]);

    await patchStatus('queryjob', 'byid-ids', {
      phase: 'COMPLETED',
      rows: stars,
      results: [
        { name: 'result.csv', format: 'text/csv; header=present', rows: stars, bytes: 999, sha256: SHA },
        { name: 'result.provenance.json', format: 'application/json', rows: 0, bytes: 10, sha256: SHA },
      ],
    });
    const planJob = await eventually(() => get('job', 'byid-plan'), { description: 'the plan Job' });
    const pod = (planJob.spec?.['template'] as { spec: PodSpec }).spec;
    const out = `/results/cutoutjobs/byid-${job.metadata.uid.slice(0, 8)}`;
    expect(JSON.parse(pod.containers[0]!.args[1]!)).toMatchObject({
      inputs: ['/query/result.csv'],
      columns: { raColumn: 'ra', decColumn: 'dec', idColumn: 'coadd_object_id' },
      ids: { positionsFile: '/ids/positions.csv', queried: stars + 1 },
      outputDir: `${out}/plan`,
    });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({
      name: 'query',
      mountPath: '/query',
      readOnly: true,
      subPath: `byid-ids-${qj.metadata.uid}`,
    });
    expect(pod.volumes).toContainEqual({
      name: 'ids',
      configMap: expect.objectContaining({ name: 'byid-ids' }) as unknown,
    });
    const [planPod] = await runningPods('byid-plan', 1);

    // A restart between the plan and the shards: the plan ends while no operator runs.
    await crash();
    await endPod(planPod!, planReport);
    await start();
    const report = JSON.parse(planReport) as { positions: number; shardSizes: number[] };
    const cm = await eventually(() => get('configmap', 'byid-positions'), {
      timeoutMs: 60_000,
      description: 'the positions ConfigMap',
    });
    expect(cm.metadata.annotations).toMatchObject({
      'skyport.io/positions': String(stars + 3),
      'skyport.io/shard-sizes': report.shardSizes.join(','),
      'skyport.io/settled-failed': '1',
      'skyport.io/settled-unmatched': '1',
      'skyport.io/planned-by': 'plan-job',
    });
    expect(report.shardSizes.reduce((a, b) => a + b, 0)).toBe(stars + 1); // the duplicate cut twice
    const shards = await eventually(() => get('job', 'byid-shards'), { description: 'the shards Job' });
    expect(shards.spec).toMatchObject({ completions: report.shardSizes.length });
    j = await waitFor('cutoutjob', 'byid', 'cutting', (o) => reason(o) === 'Cutting');
    expect(j.status?.['counts']).toMatchObject({ positions: stars + 3, failed: 1, unmatched: 1 });
    expect((await list('jobs', 'app.kubernetes.io/component=plan')).map((x) => x.metadata.uid)).toEqual([
      planJob.metadata.uid,
    ]);
    expect((await list('queryjobs', 'app.kubernetes.io/instance=byid')).map((o) => o.metadata.uid)).toEqual([
      qj.metadata.uid,
    ]);

    for (const p of await runningPods('byid-shards', report.shardSizes.length)) await endPod(p, '{}');
    const [merge] = await runningPods('byid-merge', 1);
    expect((merge!.spec as unknown as PodSpec).containers[0]!.args.slice(0, 3)).toEqual([
      'merge',
      `${out}/plan`,
      out,
    ]);
  });

  it('splits 20,000 IDs over three lookup QueryJobs, waits for all and plans from every result in order', async () => {
    suite.dumpOnFailure();
    const ids = Array.from({ length: 20_000 }, (_, i) => String(2_000_000_000 + i));
    await apply(cutout('many', ['COADD_OBJECT_ID', ...ids, ''].join('\n')));
    const names = ['many-ids', 'many-ids-2', 'many-ids-3'];
    const lookups = await eventually(
      async () => {
        const all = await list('queryjobs', 'app.kubernetes.io/instance=many');
        return all.length === 3 && all;
      },
      { timeoutMs: 60_000, description: 'three lookup QueryJobs' },
    );
    expect(lookups.map((o) => o.metadata.name).sort()).toEqual(names);
    const byName = new Map(lookups.map((o) => [o.metadata.name, o]));
    // Each query holds the next IDs in input order; together every ID exactly once.
    const held = names.map(
      (n) => /ANY\('\{([^}]*)\}'/.exec(String(byName.get(n)!.spec?.['query']))?.[1]?.split(',') ?? [],
    );
    expect(held.flat()).toEqual(ids);
    expect(held[0]!.length).toBeGreaterThan(8000);
    expect((await get('configmap', 'many-ids')).metadata.annotations).toMatchObject({
      'skyport.io/ids-queried': '20000',
      'skyport.io/ids-lookups': '3',
    });
    const done = (rows: number) => ({
      phase: 'COMPLETED',
      rows,
      results: [{ name: 'result.csv', format: 'text/csv; header=present', rows, bytes: 9, sha256: SHA }],
    });
    await patchStatus('queryjob', 'many-ids', done(held[0]!.length));
    await patchStatus('queryjob', 'many-ids-3', done(held[2]!.length));
    await patchStatus('queryjob', 'many-ids-2', { phase: 'EXECUTING' });
    await waitFor('cutoutjob', 'many', 'one lookup left', (o) =>
      (o.status?.message ?? '').endsWith('1 of 3 lookups to finish; QueryJob many-ids-2 is EXECUTING'),
    );
    expect(await list('jobs', 'app.kubernetes.io/instance=many')).toEqual([]);
    // A restart while one lookup runs: the same three QueryJobs.
    await crash();
    await start();
    await patchStatus('queryjob', 'many-ids-2', done(held[1]!.length));
    const planJob = await eventually(() => get('job', 'many-plan'), { description: 'the plan Job' });
    expect(
      (await list('queryjobs', 'app.kubernetes.io/instance=many')).map((o) => o.metadata.uid).sort(),
    ).toEqual(lookups.map((o) => o.metadata.uid).sort());
    const pod = (planJob.spec?.['template'] as { spec: PodSpec }).spec;
    expect(JSON.parse(pod.containers[0]!.args[1]!)).toMatchObject({
      inputs: ['/query/result.csv', '/query-2/result.csv', '/query-3/result.csv'],
      ids: { positionsFile: '/ids/positions.csv', queried: 20_000 },
    });
    expect(pod.containers[0]!.volumeMounts.filter((m) => m['name'] === 'query')).toEqual(
      names.map((n, k) => ({
        name: 'query',
        mountPath: k === 0 ? '/query' : `/query-${k + 1}`,
        readOnly: true,
        subPath: `${n}-${byName.get(n)!.metadata.uid}`,
      })),
    );
    expect(pod.volumes.filter((v) => v['name'] === 'query')).toHaveLength(1);
  });

  it('ends ERROR when the lookup fails, and ABORT aborts a lookup still running', async () => {
    suite.dumpOnFailure();
    await apply(cutout('sad', 'COADD_OBJECT_ID\n1\n'));
    await eventually(() => get('queryjob', 'sad-ids'), { description: 'the lookup QueryJob' });
    await patchStatus('queryjob', 'sad-ids', {
      phase: 'ERROR',
      error: { type: 'fatal', code: 'QueryFailed', message: 'relation "y6.Gold" does not exist' },
    });
    const e = await waitFor('cutoutjob', 'sad', 'ERROR', (o) => o.status?.phase === 'ERROR');
    expect(reason(e)).toBe('QueryJobNotAvailable');
    expect(e.status?.message).toBe(
      'spec.positions (COADD_OBJECT_ID lookup): QueryJob sad-ids is ERROR: QueryFailed: relation "y6.Gold" does not exist',
    );
    expect(await list('jobs', 'app.kubernetes.io/instance=sad')).toEqual([]);

    await apply(cutout('stopped', 'COADD_OBJECT_ID\n2\n'));
    await eventually(() => get('queryjob', 'stopped-ids'), { description: 'the lookup QueryJob' });
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
    await waitFor('queryjob', 'stopped-ids', 'aborted', (o) => o.spec?.['phase'] === 'ABORT');
  });
});

// Golden files of every child a CutoutJob makes, and the plan behind them: rows refused with the runner's reasons,
// positions outside every footprint unmatched, the rest sharded by whole tiles.
// Regenerate the golden files with UPDATE_GOLDEN=1 after an intended change, and review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { KubeObject } from '../../api/object.js';
import { indexJob } from '../imagecollection/build.js';
import {
  cleanJob,
  idsConfigMap,
  IDS_LOOKUPS_ANNOTATION,
  IDS_QUERIED_ANNOTATION,
  idsLookupName,
  idsQueryJob,
  mergeJob,
  planJob,
  plannedByJob,
  plannedConfigMap,
  positionsConfigMap,
  shardSpec,
  shardsJob,
} from './build.js';
import { OUT_OF_FOOTPRINT, planShards, tileOf } from './plan.js';
import { planRecord } from './status.js';
import { collection, cutout, FOOTPRINTS } from './fixtures.test-util.js';

function golden(dir: string, name: string, objs: readonly KubeObject[]): void {
  const path = fileURLToPath(new URL(`../${dir}/__golden__/${name}.yaml`, import.meta.url));
  const docs = objs.map((o) => stringify(o, { sortMapEntries: false })).join('---\n');
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, docs);
  expect(docs).toBe(readFileSync(path, 'utf8'));
}

const CSV = [
  '\uFEFFRA,DEC,ID,XSIZE',
  '0.01,-30.0,a,',
  '359.99,-30.0,b,0.5',
  '',
  '0.11,-30.11,c,',
  'x,-30,bad-ra,',
  '10,10,far,',
  '0.012,-29.99,"d, quoted",',
  '0.02,-30.0,big,13',
].join('\r\n');

describe('planShards', () => {
  it('settles bad rows and unmatched positions with the runner reasons and shards the rest by whole tiles', () => {
    const plan = planShards({
      csv: CSV,
      spec: { size: { shape: 'box', xsize: 1, unit: 'arcmin' }, parallelism: { shards: 2 } },
      limits: collection().spec.limits,
      footprints: FOOTPRINTS,
    });
    expect(plan.positions).toBe(7);
    expect(plan.settled).toEqual([
      {
        row: 4,
        id: 'bad-ra',
        ra: '',
        dec: '',
        status: 'failed',
        reason: 'line 6: RA "x" is not in [0, 360]',
      },
      { row: 5, id: 'far', ra: 10, dec: 10, status: 'unmatched', reason: OUT_OF_FOOTPRINT },
      {
        row: 7,
        id: 'big',
        ra: '',
        dec: '',
        status: 'failed',
        reason: 'line 9: XSIZE "13": outside 0.1–12 arcmin',
      },
    ]);
    // a (0.01), b (359.99, across RA 0) and d are in T11; c in T20: two shards, each tile in one.
    expect(plan.shards.map((s) => ({ rows: s.rows, tiles: s.tiles }))).toEqual([
      { rows: [1, 2, 6], tiles: ['T11'] },
      { rows: [3], tiles: ['T20'] },
    ]);
    expect(plan.shards[0]!.csv).toBe(
      'RA,DEC,XSIZE,YSIZE,COLORS_FITS,ID\n0.01,-30,1,1,,a\n359.99,-30,0.5,1,,b\n0.012,-29.99,1,1,,"d, quoted"\n',
    );
  });

  it('never makes more shards than tiles, and shards by input order without footprints', () => {
    const spec = {
      size: { shape: 'box' as const, xsize: 1, unit: 'arcmin' as const },
      parallelism: { shards: 8 },
    };
    const limits = collection().spec.limits;
    expect(planShards({ csv: CSV, spec, limits, footprints: FOOTPRINTS }).shards).toHaveLength(2);
    const blind = planShards({
      csv: CSV,
      spec: { ...spec, parallelism: { shards: 2 } },
      limits,
      footprints: undefined,
    });
    expect(blind.shards.map((s) => s.rows)).toEqual([
      [1, 2, 3],
      [5, 6],
    ]);
    expect(blind.settled.map((r) => r.status)).toEqual(['failed', 'failed']);
  });

  it('plans a circle as the runner cuts it: XSIZE is the diameter, a YSIZE is not read', () => {
    const csv = 'RA,DEC,ID,XSIZE,YSIZE\n0.01,-30,a,0.5,13\n0.01,-30,b,13,0.5\n';
    const limits = collection().spec.limits;
    const size = { xsize: 1, unit: 'arcmin' as const };
    const circle = planShards({
      csv,
      spec: { size: { shape: 'circle', ...size }, parallelism: { shards: 1 } },
      limits,
      footprints: FOOTPRINTS,
    });
    expect(circle.shards[0]?.csv).toBe('RA,DEC,XSIZE,YSIZE,COLORS_FITS,ID\n0.01,-30,0.5,0.5,,a\n');
    expect(circle.settled.map((r) => [r.id, r.reason])).toEqual([
      ['b', 'line 3: XSIZE "13": outside 0.1–12 arcmin'],
    ]);
    const box = planShards({
      csv,
      spec: { size: { shape: 'box', ...size }, parallelism: { shards: 1 } },
      limits,
      footprints: FOOTPRINTS,
    });
    expect(box.settled.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('picks the tile whose centre is nearest among those containing a position, across RA 0', () => {
    expect(tileOf(FOOTPRINTS, 359.96, -30.1)).toBe('T10');
    expect(tileOf(FOOTPRINTS, 0.049, -30.0)).toBe('T11');
    expect(tileOf(FOOTPRINTS, 0.051, -30.0)).toBe('T21');
    expect(tileOf(FOOTPRINTS, 0.2, -30.0)).toBeUndefined();
  });
});

describe('golden files', () => {
  const ctx = {
    image: 'localhost/skyport/cutout-runner:dev',
    podAnnotations: { 'e2e.skyport.io/complete-after': '1h' },
  };
  it('CutoutJob: positions ConfigMap, the Indexed Job of the shards, merge and clean-up', () => {
    const c = collection();
    const job = cutout();
    const plan = planShards({ csv: CSV, spec: job.spec, limits: c.spec.limits, footprints: FOOTPRINTS });
    const cm = positionsConfigMap(job, c, plan);
    expect(planRecord(cm)).toEqual({ positions: 7, shardSizes: [3, 1], failed: 2, unmatched: 1 });
    golden('cutoutjob', 'children', [
      cm,
      shardsJob(job, c, 2, ctx),
      mergeJob(job, c, 2, ctx),
      cleanJob(job, c, { image: ctx.image }),
    ]);
  });

  it('CutoutJob from a QueryJob: the plan Job, the positions ConfigMap of its report, shards and merge', () => {
    const c = collection();
    const job = cutout({
      positions: {
        fromQueryJob: { name: 'gold-sample', raColumn: 'ra', decColumn: 'dec', idColumn: 'coadd_object_id' },
      },
      parallelism: { shards: 4 },
    });
    const q = {
      claimName: 'query-results',
      dir: 'gold-sample-0f3c1a2b-1111-2222-3333-444455556666',
      files: ['result.csv.gz'],
    };
    const record = { positions: 12, shardSizes: [4, 3, 2], failed: 2, unmatched: 1 };
    const cm = plannedConfigMap(job, c, record);
    expect(planRecord(cm)).toEqual(record);
    const plan = planJob(job, c, q, ctx);
    const args = (
      (plan['spec'] as { template: { spec: { containers: { args: string[] }[] } } }).template.spec
        .containers[0]?.args ?? []
    ).slice();
    expect(JSON.parse(args[1] ?? '')).toEqual({
      inputs: ['/query/result.csv.gz'],
      columns: { raColumn: 'ra', decColumn: 'dec', idColumn: 'coadd_object_id' },
      index: '/tiles/tiles.json',
      size: { x: 1, y: 1, unit: 'arcmin', shape: 'box' },
      shards: 4,
      limits: { minArcmin: 0.1, maxArcmin: 12, maxPixels: 4096, maxPositions: 10000 },
      outputDir: '/results/cutoutjobs/lens-candidates-abcdef12/plan',
    });
    expect(JSON.parse((cm['data'] as Record<string, string>)['spec.json'] ?? '')).toMatchObject({
      positionsFile: '/results/cutoutjobs/lens-candidates-abcdef12/plan/shard-{index}.csv',
    });
    golden('cutoutjob', 'from-query', [plan, cm, shardsJob(job, c, 3, ctx), mergeJob(job, c, 3, ctx)]);
  });

  it('CutoutJob by COADD_OBJECT_ID: the positions snapshot, the lookup QueryJob, the plan Job mapping rows back', () => {
    const objects = {
      catalogRef: { name: 'des-y6' },
      schema: 'y6',
      table: 'gold',
      idColumn: 'coadd_object_id',
      raColumn: 'ra',
      decColumn: 'dec',
    };
    const base = collection();
    const c = { ...base, spec: { ...base.spec, objects } };
    const text = 'COADD_OBJECT_ID,XSIZE\n1001,0.5\n1002,\n';
    const job = cutout({ positions: { inline: text }, parallelism: { shards: 2 } });
    const snapshot = idsConfigMap(job, text, 2, 1);
    const lookup = idsQueryJob(job, objects, 'SELECT 1');
    expect(lookup['spec']).toEqual({
      owner: job.spec.owner,
      runId: 'cutoutjob/lens-candidates',
      catalogRef: { name: 'des-y6' },
      language: 'SQL',
      query: 'SELECT 1',
      phase: 'RUN',
      output: { format: 'csv', compression: 'none' },
    });
    expect(lookup.metadata?.ownerReferences).toMatchObject([{ kind: 'CutoutJob', uid: job.metadata.uid }]);
    const q = {
      claimName: 'query-results',
      dir: `lens-candidates-ids-${'0'.repeat(8)}`,
      files: ['result.csv'],
    };
    const plan = planJob(job, c, q, ctx, { queried: 2, objects });
    const pod = (
      plan['spec'] as {
        template: { spec: { containers: { args: string[]; volumeMounts: unknown[] }[]; volumes: unknown[] } };
      }
    ).template.spec;
    expect(JSON.parse(pod.containers[0]?.args[1] ?? '')).toMatchObject({
      inputs: ['/query/result.csv'],
      columns: { raColumn: 'ra', decColumn: 'dec', idColumn: 'coadd_object_id' },
      ids: { positionsFile: '/ids/positions.csv', queried: 2, where: 'Catalog des-y6 table "y6"."gold"' },
      outputDir: '/results/cutoutjobs/lens-candidates-abcdef12/plan',
    });
    expect(pod.volumes).toContainEqual({ name: 'ids', configMap: { name: 'lens-candidates-ids' } });
    const cm = plannedConfigMap(job, c, { positions: 2, shardSizes: [1, 1], failed: 0, unmatched: 0 });
    expect(plannedByJob(job, cm)).toBe(true);
    expect(
      plannedByJob(
        job,
        positionsConfigMap(
          job,
          c,
          planShards({ csv: 'RA,DEC\n0,-30', spec: job.spec, limits: c.spec.limits, footprints: FOOTPRINTS }),
        ),
      ),
    ).toBe(false);
    golden('cutoutjob', 'ids', [snapshot, lookup, plan, cm, mergeJob(job, c, 2, ctx, true)]);
  });

  it('CutoutJob by COADD_OBJECT_ID over three lookups: fixed names, one claim volume, every result read in order', () => {
    const objects = {
      catalogRef: { name: 'des-y6' },
      table: 'gold',
      idColumn: 'id',
      raColumn: 'ra',
      decColumn: 'dec',
    };
    const base = collection();
    const c = { ...base, spec: { ...base.spec, objects } };
    const job = cutout({ positions: { inline: 'COADD_OBJECT_ID\n1\n2\n3\n' } });
    expect([0, 1, 2].map((k) => idsLookupName(job, k))).toEqual([
      'lens-candidates-ids',
      'lens-candidates-ids-2',
      'lens-candidates-ids-3',
    ]);
    const second = idsQueryJob(job, objects, 'SELECT 2', 1);
    expect(second.metadata?.name).toBe('lens-candidates-ids-2');
    expect(second.metadata?.labels?.['app.kubernetes.io/component']).toBe('ids');
    expect(second['spec']).toMatchObject({ query: 'SELECT 2', owner: job.spec.owner, phase: 'RUN' });
    expect(idsConfigMap(job, '', 3, 3).metadata?.annotations).toEqual({
      [IDS_QUERIED_ANNOTATION]: '3',
      [IDS_LOOKUPS_ANNOTATION]: '3',
    });
    const results = ['ids', 'ids-2', 'ids-3'].map((n, k) => ({
      claimName: 'query-results',
      dir: `lens-candidates-${n}-${String(k).repeat(8)}`,
      files: k === 1 ? ['result.part-0001.csv', 'result.part-0002.csv'] : ['result.csv'],
    }));
    const pod = (
      planJob(job, c, results, ctx, { queried: 3, objects })['spec'] as {
        template: {
          spec: {
            containers: {
              args: string[];
              volumeMounts: { name: string; mountPath: string; subPath?: string }[];
            }[];
            volumes: { name: string }[];
          };
        };
      }
    ).template.spec;
    expect((JSON.parse(pod.containers[0]?.args[1] ?? '{}') as { inputs: string[] }).inputs).toEqual([
      '/query/result.csv',
      '/query-2/result.part-0001.csv',
      '/query-2/result.part-0002.csv',
      '/query-3/result.csv',
    ]);
    const mounts = pod.containers[0]?.volumeMounts.filter((m) => m.name === 'query');
    expect(mounts).toEqual([
      { name: 'query', mountPath: '/query', readOnly: true, subPath: results[0]?.dir },
      { name: 'query', mountPath: '/query-2', readOnly: true, subPath: results[1]?.dir },
      { name: 'query', mountPath: '/query-3', readOnly: true, subPath: results[2]?.dir },
    ]);
    expect(pod.volumes.filter((v) => v.name === 'query')).toEqual([
      { name: 'query', persistentVolumeClaim: { claimName: 'query-results', readOnly: true } },
    ]);
  });

  it('an aborted job builds a suspended Job; executionDuration is the deadline', () => {
    const job = cutout({ phase: 'ABORT', executionDuration: '90m' });
    const spec = shardsJob(job, collection(), 3, ctx)['spec'] as Record<string, unknown>;
    expect(spec).toMatchObject({
      suspend: true,
      activeDeadlineSeconds: 5400,
      completions: 3,
      parallelism: 3,
      completionMode: 'Indexed',
    });
  });

  it('a circle reaches the runner: size.shape circle, its diameter as x and y', () => {
    const job = cutout({ size: { shape: 'circle', xsize: 30, unit: 'arcsec' } });
    expect(shardSpec(job, collection())['size']).toEqual({ x: 30, y: 30, unit: 'arcsec', shape: 'circle' });
    expect(shardSpec(cutout(), collection())['size']).toMatchObject({ shape: 'box' });
  });

  it('ImageCollection: the indexing Job', () => {
    golden('imagecollection', 'index-job', [indexJob(collection(), ctx.image)]);
  });

  it('a bucket source: the index on the results claim, keys by secretKeyRef, the shards with a scratch emptyDir', () => {
    const base = collection({ indexPath: 'index/tiles.json', largestTileBytes: 40 * 1024 ** 2 });
    const c: typeof base = {
      ...base,
      spec: {
        ...base.spec,
        source: {
          s3: {
            endpoint: 'http://objects.example.org:7070',
            bucket: 'des-tiles',
            prefix: 'dr2/coadd',
            region: 'us-east-1',
            forcePathStyle: true,
            credentialsSecretRef: {
              name: 'des-tiles-s3',
              accessKeyIdKey: 'access',
              secretAccessKeyKey: 'secret',
            },
          },
        },
      },
    };
    const job = cutout();
    const plan = planShards({ csv: CSV, spec: job.spec, limits: c.spec.limits, footprints: FOOTPRINTS });
    const idx = indexJob(c, ctx.image);
    const shards = shardsJob(job, c, 2, ctx);
    golden('imagecollection', 'index-job-s3', [idx, positionsConfigMap(job, c, plan), shards]);
    const spec = shardSpec(job, c);
    expect(spec).toMatchObject({
      root: '/scratch',
      index: '/results/index/tiles.json',
      s3: { endpoint: 'http://objects.example.org:7070', bucket: 'des-tiles', prefix: 'dr2/coadd' },
    });
    // Never a key in the pod specs: only the Secret's name and keys.
    const text = JSON.stringify([idx, shards]);
    expect(text).toContain('"secretKeyRef":{"name":"des-tiles-s3","key":"secret"}');
    expect(text).not.toMatch(/"value":/);
    const pod = (shards['spec'] as { template: { spec: Record<string, unknown> } }).template.spec;
    expect(pod['volumes']).toContainEqual({ name: 'scratch', emptyDir: { sizeLimit: '360Mi' } });
    expect(JSON.stringify(pod['volumes'])).not.toContain('"tiles"');
    // A QueryJob's positions: the plan Job reads the index from the results claim and mounts no tiles.
    const fromQ = cutout({
      positions: { fromQueryJob: { name: 'gold', raColumn: 'ra', decColumn: 'dec' } },
    });
    const planPod = (
      planJob(fromQ, c, { claimName: 'query-results', dir: 'gold-1', files: ['result.csv'] }, ctx)[
        'spec'
      ] as {
        template: { spec: { containers: { args: string[]; env?: unknown }[]; volumes: { name: string }[] } };
      }
    ).template.spec;
    expect(planPod.volumes.map((v) => v.name)).toEqual(['results', 'query']);
    expect(JSON.parse(planPod.containers[0]?.args[1] ?? '{}')).toMatchObject({
      index: '/results/index/tiles.json',
    });
    // An index of an older runner (no largest tile): the fallback limit.
    const { largestTileBytes: _l, ...status } = c.status ?? {};
    const old: typeof c = { ...c, status };
    const oldPod = (shardsJob(job, old, 2, ctx)['spec'] as { template: { spec: Record<string, unknown> } })
      .template.spec;
    expect(oldPod['volumes']).toContainEqual({ name: 'scratch', emptyDir: { sizeLimit: '8192Mi' } });
  });
});

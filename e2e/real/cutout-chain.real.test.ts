// Tier "real": the chain no other cutout service offers, run as real processes on the real node — a Catalog's
// QueryJob (the query runner's image, against a real PostgreSQL on the node bridge's host address) feeding a
// CutoutJob (the cutout runner's image: plan, shards, merge), and a CutoutJob naming its objects by COADD_OBJECT_ID
// whose 12,000 IDs are looked up by two real QueryJobs before the plan Job maps every row back. The operator is
// the chart's, from its image. What the pods wrote is read from the host directories of the claims: the manifest
// (one row per input row, in order, with the object's RA/Dec from the database) and the FITS files it lists.
// Skipped unless the cluster has the real node and `npm run images -- query-runner cutout-runner operator` has run.
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { parseManifest } from '../../services/cutout-runner/src/merge.js';
import { generateSurvey } from '../../services/cutout-runner/src/survey/generate.js';
import { TanWcs } from '../../services/cutout-runner/src/wcs.js';
import {
  createNamespace,
  deleteNamespace,
  dumpDiagnostics,
  eventually,
  kubectl,
  kubectlJson,
  uniqueName,
} from '../cluster/index.js';
import { REAL_NODE_NAME } from '../cluster/node/config.js';
import { importBuiltImages, missingImages } from '../cluster/node/node.js';
import { deployOperator, undeployOperator, type DeployedOperator } from '../operator/deploy.js';
import { hostResultsClaim, podDatabase, realNodeSkipReason, type PodDatabase } from './support.js';

const kubeconfig = process.env.SKYPORT_KUBECONFIG ?? inject('skyportKubeconfig');
const IMAGES = ['query-runner', 'cutout-runner', 'operator'];
const skipReason = (await realNodeSkipReason(kubeconfig)) ?? missingImages(IMAGES);

/** The user of the cutout-runner image (images/cutout-runner/Dockerfile). */
const CUTOUT_UID = 65532;
/** The sample survey: 2 × 2 tiles of 512² pixels in one band on one TAN grid around RA 0, Dec −30. */
const TILE = 512;
const SCALE = 0.263 / 3600;
const GRID = new TanWcs([TILE + 0.5, TILE + 0.5], [0, -30], [-SCALE, 0, 0, SCALE]);
/** Objects in the catalogue table, all inside the survey; more than one lookup QueryJob holds (about 9,000). */
const OBJECTS = 12_000;
const FIRST_ID = 3_000_000_000;
const READER = { user: 'reader', password: 'reader-chain-pw' };

/** Object i: its ID and where it is (1e-7°, inside the survey, at least 30 px from its outer edge). */
function object(i: number): { id: number; ra: number; dec: number } {
  const [ra, dec] = GRID.pixelToWorld(30 + ((i * 37) % 964) + 0.27, 30 + ((i * 53) % 964) + 0.61);
  return { id: FIRST_ID + i, ra: Number(ra.toFixed(7)), dec: Number(dec.toFixed(7)) };
}

interface Obj {
  metadata: { name: string; uid: string; ownerReferences?: { kind: string; name: string }[] };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown> & { phase?: string };
}
interface PodView {
  metadata: { name: string };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

describe.skipIf(skipReason !== undefined)(
  `QueryJob → CutoutJob on the real node${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const run = uniqueName('chain');
    let ns = '';
    let pdb: PodDatabase | undefined;
    let op: DeployedOperator | undefined;
    let queryDir = '';
    let resultsDir = '';
    const database = run.replace(/-/g, '_');
    const t0 = Date.now();
    const log = (m: string) =>
      console.log(`[cutout-chain.real] ${((Date.now() - t0) / 1000).toFixed(1)} s ${m}`);
    const k = (args: string[]) => kubectl(args, { kubeconfig });
    const apply = (obj: object) => kubectl(['apply', '-f', '-'], { kubeconfig, input: JSON.stringify(obj) });
    const get = (kind: string, name: string) =>
      kubectlJson<Obj>(['get', kind, name, '-n', ns], { kubeconfig });
    const list = async (kind: string, selector: string) =>
      (await kubectlJson<{ items: Obj[] }>(['get', kind, '-n', ns, '-l', selector], { kubeconfig })).items;

    /** The host directory a claim the local provisioner bound is. */
    async function hostDirOf(claim: string): Promise<string> {
      const pv = await eventually(
        async () => {
          const name = await k(['get', 'pvc', claim, '-n', ns, '-o', 'jsonpath={.spec.volumeName}']);
          if (name === '') throw new Error(`claim ${claim} not bound yet`);
          return name;
        },
        { description: `claim ${claim} bound` },
      );
      return k(['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}']);
    }

    function phase(kind: string, name: string, want: string, timeoutMs = 120_000): Promise<Obj> {
      return eventually(
        async () => {
          const o = await get(kind, name);
          if (o.status?.phase === 'ERROR' && want !== 'ERROR')
            throw new Error(`${kind}/${name} ended ERROR: ${String(o.status?.['message'])}`);
          if (o.status?.phase !== want) throw new Error(`${kind}/${name}: ${JSON.stringify(o.status)}`);
          return o;
        },
        { timeoutMs, intervalMs: 500, description: `${kind}/${name} ${want}` },
      );
    }

    function dumpOnFailure(): void {
      onTestFailed(async () => {
        console.error(await dumpDiagnostics(ns, [], { kubeconfig }));
        for (const args of [
          ['logs', '-n', op?.namespace ?? '', `deploy/${op?.name ?? ''}`, '--tail=80'],
          ['get', 'cutoutjobs,queryjobs,imagecollections,jobs', '-n', ns, '-o', 'yaml'],
        ])
          console.error(await k(args).catch((e: unknown) => String(e)));
      });
    }

    /** The merged manifest of a job, its rows 1…n exactly once and in input order. */
    function manifestOf(j: Obj, n: number) {
      const out = join(resultsDir, 'cutoutjobs', `${j.metadata.name}-${j.metadata.uid.slice(0, 8)}`);
      const rows = parseManifest(readFileSync(join(out, 'manifest.csv'), 'utf8'));
      expect(rows.map((r) => r.row)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      for (const r of rows) for (const f of r.files) expect(existsSync(join(out, f)), f).toBe(true);
      return rows;
    }

    beforeAll(async () => {
      await importBuiltImages(dirname(kubeconfig), ['query-runner', 'cutout-runner']);
      // PostgreSQL on loopback (the operator's quote) and the bridge's host address (the runner pods).
      pdb = await podDatabase(database, READER);
      const c = new pg.Client({ connectionString: pdb.url });
      await c.connect();
      await c.query(
        'CREATE TABLE objects (coadd_object_id bigint PRIMARY KEY, ra double precision, dec double precision)',
      );
      const values = Array.from({ length: OBJECTS }, (_, i) => object(i));
      for (let i = 0; i < values.length; i += 2000) {
        const chunk = values.slice(i, i + 2000);
        await c.query(`INSERT INTO objects SELECT * FROM unnest($1::bigint[], $2::float8[], $3::float8[])`, [
          chunk.map((o) => o.id),
          chunk.map((o) => o.ra),
          chunk.map((o) => o.dec),
        ]);
      }
      await c.query(`GRANT SELECT ON objects TO ${READER.user}`);
      await c.end();

      op = await deployOperator({
        kubeconfig,
        clusterDir: dirname(kubeconfig),
        release: `${run}-op`,
        namespace: `${run}-system`,
        helmArgs: ['--set', 'replicaCount=1'],
        log,
      });
      ns = await createNamespace('chain', { kubeconfig });
      await apply(pdb.readerSecret(ns, 'des-reader'));
      queryDir = await hostResultsClaim(apply, run, ns, 'skyport-chain-results-');
      await apply({
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'Catalog',
        metadata: { name: run },
        spec: {
          release: 'Y6A2',
          database: pdb.catalogDatabase('des-reader'),
          results: { claimName: 'query-results' },
          limits: { maxConcurrentJobsPerUser: 2 },
        },
      });
      for (const claim of ['des-tiles', 'des-cutouts'])
        await apply({
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: claim, namespace: ns },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        });
      const tilesDir = await hostDirOf('des-tiles');
      resultsDir = await hostDirOf('des-cutouts');
      const coadd = join(tilesDir, 'coadd');
      mkdirSync(coadd);
      const survey = generateSurvey({
        dir: coadd,
        tileSize: TILE,
        tilesPerSide: 2,
        bands: ['g'],
        starsPerTile: 3,
      });
      for (const f of ['', ...survey.files]) chownSync(join(coadd, f), CUTOUT_UID, CUTOUT_UID);
      await apply({
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'ImageCollection',
        metadata: { name: 'des', namespace: ns },
        spec: {
          source: { persistentVolumeClaim: { claimName: 'des-tiles', path: 'coadd' } },
          results: { persistentVolumeClaim: { claimName: 'des-cutouts' } },
          objects: { catalogRef: { name: run }, table: 'objects' },
        },
      });
      await phase('imagecollection', 'des', 'Ready', 120_000);
      log('Catalog, ImageCollection Ready');
    });

    afterAll(async () => {
      if (ns) {
        await k(['delete', 'cutoutjobs', '--all', '-n', ns, '--timeout=60s']).catch(() => undefined);
        await deleteNamespace(ns, { kubeconfig });
      }
      if (op !== undefined) await undeployOperator(kubeconfig, op);
      await k(['delete', 'catalog', run, '--ignore-not-found', '--wait=false']).catch(() => undefined);
      await k(['delete', 'pv', run, '--ignore-not-found', '--wait=false']).catch(() => undefined);
      await pdb?.db.stop({ removeData: true });
      if (queryDir) rmSync(queryDir, { recursive: true, force: true });
      log('Cleaned up');
    });

    it("a QueryJob's result feeds a CutoutJob: the runner pods of both ran on the node; each row is cut where the database says", async () => {
      dumpOnFailure();
      const picked = [5, 17, 400, 4_321, 11_999];
      await apply({
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'QueryJob',
        metadata: { name: 'pick', namespace: ns },
        spec: {
          owner: 'alice',
          catalogRef: { name: run },
          language: 'SQL',
          query:
            'SELECT coadd_object_id AS "ID", ra AS "RA", dec AS "DEC" FROM objects ' +
            `WHERE coadd_object_id IN (${picked.map((i) => FIRST_ID + i).join(',')}) ORDER BY coadd_object_id`,
          phase: 'RUN',
          output: { format: 'csv' },
        },
      });
      await apply({
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'CutoutJob',
        metadata: { name: 'from-query', namespace: ns },
        spec: {
          owner: 'alice',
          imageCollection: 'des',
          positions: { fromQueryJob: { name: 'pick', idColumn: 'ID' } },
          size: { xsize: 10, unit: 'arcsec' },
          parallelism: { shards: 2 },
        },
      });
      const qj = await phase('queryjob', 'pick', 'COMPLETED');
      expect(qj.status?.['rows']).toBe(picked.length);
      const done = await phase('cutoutjob', 'from-query', 'COMPLETED', 180_000);
      log('CutoutJob from a QueryJob COMPLETED');
      expect(done.status?.['counts']).toMatchObject({
        positions: picked.length,
        ok: picked.length,
        failed: 0,
      });
      const rows = manifestOf(done, picked.length);
      expect(rows.map((r) => [r.id, Number(r.ra), Number(r.dec), r.status, r.files.length])).toEqual(
        picked.map((i) => {
          const o = object(i);
          return [String(o.id), o.ra, o.dec, 'ok', 1];
        }),
      );
      expect(qj.status?.['attempts']).toBe(1);
      for (const job of ['from-query-plan', 'from-query-shards', 'from-query-merge']) {
        const pods = (
          await kubectlJson<{ items: PodView[] }>(
            ['get', 'pods', '-n', ns, '-l', `batch.kubernetes.io/job-name=${job}`],
            { kubeconfig },
          )
        ).items;
        expect(pods.length, job).toBeGreaterThan(0);
        for (const p of pods) {
          expect(p.spec?.nodeName, p.metadata.name).toBe(REAL_NODE_NAME);
          expect(p.status?.phase, p.metadata.name).toBe('Succeeded');
        }
      }
    });

    it('12,000 COADD_OBJECT_IDs: two real lookup QueryJobs, one plan Job, every row mapped back by ID', async () => {
      dumpOnFailure();
      const ids = Array.from({ length: OBJECTS }, (_, i) => object(i).id);
      const text = ['COADD_OBJECT_ID', ...ids.map(String), '77', 'not-an-id', ''].join('\n');
      await apply({
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'CutoutJob',
        metadata: { name: 'by-id', namespace: ns },
        spec: {
          owner: 'alice',
          imageCollection: 'des',
          positions: { inline: text },
          size: { xsize: 10, unit: 'arcsec' },
          parallelism: { shards: 2 },
          executionDuration: '10m',
        },
      });
      const done = await phase('cutoutjob', 'by-id', 'COMPLETED', 420_000);
      log('CutoutJob by COADD_OBJECT_ID COMPLETED');
      const lookups = await list('queryjobs', 'app.kubernetes.io/instance=by-id');
      expect(lookups.map((q) => q.metadata.name).sort()).toEqual(['by-id-ids', 'by-id-ids-2']);
      for (const q of lookups) {
        expect(q.status?.phase).toBe('COMPLETED');
        expect(q.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CutoutJob', name: 'by-id' });
      }
      // Together the lookups returned every object once.
      expect(lookups.reduce((n, q) => n + Number(q.status?.['rows'] ?? 0), 0)).toBe(OBJECTS);
      expect(done.status?.['counts']).toMatchObject({
        positions: OBJECTS + 2,
        ok: OBJECTS,
        unmatched: 1,
        failed: 1,
      });
      const rows = manifestOf(done, OBJECTS + 2);
      for (const [i, r] of rows.slice(0, OBJECTS).entries()) {
        const o = object(i);
        if (r.id !== String(o.id) || Number(r.ra) !== o.ra || Number(r.dec) !== o.dec || r.status !== 'ok')
          expect(r, `row ${i + 1}`).toMatchObject({ id: String(o.id), ra: o.ra, dec: o.dec, status: 'ok' });
      }
      expect(rows[OBJECTS]).toMatchObject({ status: 'unmatched' });
      expect(rows[OBJECTS]?.reason).toContain('COADD_OBJECT_ID 77 is not in Catalog');
      expect(rows[OBJECTS + 1]).toMatchObject({ status: 'failed' });
    });
  },
);

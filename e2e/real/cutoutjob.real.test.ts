// Tier "real": an ImageCollection's indexing Job and a CutoutJob's shards, merge and clean-up Jobs run the cutout
// runner's image as real processes on the real node (containerd + runc + kubelet), under the chart's operator from its
// image. A small sample survey (2 × 2 tiles of 512², bands g and r, one tile Rice-compressed) sits on a claim the
// local provisioner binds to a host directory, so the test reads what the pods wrote: the index, the manifest (one row
// per input row, in order), every FITS through astropy (checksums, shape, WCS centre against astropy's Cutout2D of
// the source tile) and the sha256 of the results in status. A shard SIGKILLed mid-run is retried by its index and the
// merged manifest neither loses nor repeats a row; ABORT stops running shards; deleting a CutoutJob deletes its files.
// The collection's results server (spec.results.serve: the runner image's `serve`) runs as a real pod too: a completed
// job's status.resultsUrl, asked through the Service's ClusterIP, lists the job to its owner with signed URLs that
// download the volume's bytes (manifest and summary with the sha256 in status); another user 404, no token 401.
// Skipped unless the cluster has the real node and `npm run images -- cutout-runner operator` has built the images.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed, onTestFinished } from 'vitest';
import { sidePixels } from '../../services/cutout-runner/src/cutout/positions.js';
import { parseManifest } from '../../services/cutout-runner/src/merge.js';
import type { ManifestRow, Status } from '../../services/cutout-runner/src/runner.js';
import { generateSurvey } from '../../services/cutout-runner/src/survey/generate.js';
import type { TileIndex } from '../../services/cutout-runner/src/survey/tile-index.js';
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
import { nodeDirs, REAL_NODE_NAME } from '../cluster/node/config.js';
import { importBuiltImages, missingImages } from '../cluster/node/node.js';
import { nodeCacheDir } from '../cluster/paths.js';
import { deployOperator, undeployOperator, type DeployedOperator } from '../operator/deploy.js';
import { astropyChecker } from './cutout-astropy.js';
import { expectServedToOwnerOnly, resultsServerSecret, TOKENS } from './cutout-results.js';
import { realNodeSkipReason } from './support.js';

const execFileP = promisify(execFile);
const kubeconfig = process.env.SKYPORT_KUBECONFIG ?? inject('skyportKubeconfig');
const skipReason = (await realNodeSkipReason(kubeconfig)) ?? missingImages(['cutout-runner', 'operator']);

/** The user of the cutout-runner image (images/cutout-runner/Dockerfile). */
const RUNNER_UID = 65532;
/** The sample survey: TILES × TILES tiles of TILE² pixels on one TAN grid around RA 0, Dec −30. */
const TILE = 512;
const TILES = 2;
const BANDS = ['g', 'r'];
const SCALE = 0.263 / 3600;
const GRID = new TanWcs(
  [(TILE * TILES) / 2 + 0.5, (TILE * TILES) / 2 + 0.5],
  [0, -30],
  [-SCALE, 0, 0, SCALE],
);
/** Cutout side (arcsec) and its pixels on the survey's grid. */
const SIDE = 10;
const SIDE_PX = sidePixels(SIDE, 'arcsec', SCALE);
/** Positions of the job whose shard is killed mid-run (two shards of seconds each), and of the one aborted. */
const BIG = 2000;
const ABORTED = 6000;

/** "RA,DEC" of the grid's 0-based pixel, 1e-7° (0.001 px) as written in the CSV. */
function at(x: number, y: number): [number, number] {
  const [ra, dec] = GRID.pixelToWorld(x, y);
  return [Number(ra.toFixed(7)), Number(dec.toFixed(7))];
}

interface Row {
  id: string;
  line: string;
  status: Status;
  ra?: number;
  dec?: number;
}

/** The small job's 20 rows and the status each must end with. */
function smallRows(): Row[] {
  const rows: Row[] = [];
  const add = (id: string, status: Status, x: number, y: number) => {
    const [ra, dec] = at(x, y);
    rows.push({ id, status, ra, dec, line: `${ra},${dec},${id}` });
  };
  // Three or four well inside each tile (≥ 40 px from any edge of the survey).
  const inside: [number, number][] = [
    [100, 100],
    [300, 220],
    [420, 430],
    [650, 90],
    [800, 300],
    [960, 470],
    [70, 600],
    [260, 980],
    [450, 800],
    [600, 600],
    [700, 950],
    [880, 760],
    [980, 980],
  ];
  inside.forEach(([x, y], i) => add(`in${i}`, 'ok', x + 0.27, y + 0.61)); // off pixel centres: no rounding ties
  add('ra0-edge', 'ok', 511.5, 300); // on RA 0, the edge of T00 and T10: a mosaic of both
  add('corner', 'ok', 511.5, 511.5); // the corner of all four tiles
  add('survey-edge', 'partial', 6, 700); // the box leaves the survey: NaN-padded
  add('west', 'unmatched', -150, 500);
  add('north', 'unmatched', 500, TILE * TILES + 150);
  rows.push({ id: 'far', status: 'unmatched', ra: 20, dec: 20, line: '20,20,far' });
  rows.push({ id: 'bad-ra', status: 'failed', line: 'abc,-30,bad-ra' });
  return rows;
}

/** `n` positions, all well inside the survey (every one `ok`). */
function bigCsv(n: number): string {
  const lines = ['RA,DEC'];
  for (let i = 0; i < n; i++) lines.push(at(30 + ((i * 37) % 964), 30 + ((i * 53) % 964)).join(','));
  return lines.join('\n') + '\n';
}

interface Obj {
  metadata: { name: string; uid: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown> & { phase?: string };
}
interface PodView {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    containerStatuses?: {
      ready?: boolean;
      containerID?: string;
      state?: { running?: unknown; terminated?: { exitCode?: number } };
    }[];
  };
}
/** The real node's containerd CLI (namespace k8s.io). */
const ctr = (...args: string[]) =>
  execFileP(join(nodeCacheDir(), 'bin', 'ctr'), [
    '--address',
    nodeDirs(dirname(kubeconfig)).containerdSocket,
    '-n',
    'k8s.io',
    ...args,
  ]);

const sha256Of = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every file under `dir` (relative paths). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe.skipIf(skipReason !== undefined)(
  `CutoutJob on the real node${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const run = uniqueName('cjreal');
    let ns = '';
    let op: DeployedOperator | undefined;
    /** Host directories of the source and results claims. */
    let tilesDir = '';
    let resultsDir = '';
    const t0 = Date.now();
    const log = (m: string) =>
      console.log(`[cutoutjob.real] ${((Date.now() - t0) / 1000).toFixed(1)} s ${m}`);
    const apply = (obj: object) => kubectl(['apply', '-f', '-'], { kubeconfig, input: JSON.stringify(obj) });
    const get = (kind: string, name: string) =>
      kubectlJson<Obj>(['get', kind, name, '-n', ns], { kubeconfig });
    const pods = async (selector: string) =>
      (await kubectlJson<{ items: PodView[] }>(['get', 'pods', '-n', ns, '-l', selector], { kubeconfig }))
        .items;
    const patchPhase = (name: string, phase: string) =>
      kubectl(
        ['patch', 'cutoutjob', name, '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { phase } })],
        { kubeconfig },
      );

    /** The host directory a bound claim's volume is. */
    async function hostDirOf(claim: string): Promise<string> {
      const pv = await eventually(
        async () => {
          const name = await kubectl(['get', 'pvc', claim, '-n', ns, '-o', 'jsonpath={.spec.volumeName}'], {
            kubeconfig,
          });
          if (name === '') throw new Error(`claim ${claim} not bound yet`);
          return name;
        },
        { description: `claim ${claim} bound` },
      );
      return kubectl(['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}'], { kubeconfig });
    }

    beforeAll(async () => {
      const [runner = ''] = await importBuiltImages(dirname(kubeconfig), ['cutout-runner']);
      op = await deployOperator({
        kubeconfig,
        clusterDir: dirname(kubeconfig),
        release: `${run}-op`,
        namespace: `${run}-system`,
        helmArgs: ['--set', 'replicaCount=1'], // one is enough here (2 CPUs), and starts sooner
        log,
      });
      log(`Operator ready; runner image ${runner}`);
      ns = await createNamespace('cjreal', { kubeconfig });
      for (const claim of ['des-tiles', 'des-cutouts'])
        await apply({
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: claim, namespace: ns },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        });
      await apply(resultsServerSecret(ns, 'des-results-server'));
      tilesDir = await hostDirOf('des-tiles');
      resultsDir = await hostDirOf('des-cutouts');
      // The survey on the source volume, owned by the runner's user (the indexing Job writes tiles.json beside it).
      const coadd = join(tilesDir, 'coadd');
      mkdirSync(coadd);
      const survey = generateSurvey({
        dir: coadd,
        tileSize: TILE,
        tilesPerSide: TILES,
        bands: BANDS,
        starsPerTile: 5,
        compressed: ['T00'],
      });
      for (const f of ['', ...survey.files]) chownSync(join(coadd, f), RUNNER_UID, RUNNER_UID);
      log(`Wrote the survey (${survey.files.length} files)`);
    });

    afterAll(async () => {
      // CutoutJobs left by a failed test still hold their finalizer: the operator must be there to release them.
      if (ns) {
        await kubectl(['delete', 'cutoutjobs', '--all', '-n', ns, '--timeout=60s'], { kubeconfig }).catch(
          () => undefined,
        );
        await deleteNamespace(ns, { kubeconfig });
      }
      if (op !== undefined) await undeployOperator(kubeconfig, op);
      log('Cleaned up');
    });

    function dumpOnFailure(): void {
      onTestFailed(async () => {
        console.error(await dumpDiagnostics(ns, [], { kubeconfig }));
        for (const args of [
          ['logs', '-n', op?.namespace ?? '', `deploy/${op?.name ?? ''}`, '--tail=60'],
          ['get', 'cutoutjobs,imagecollections,jobs', '-n', ns, '-o', 'yaml'],
        ])
          console.error(await kubectl(args, { kubeconfig }).catch((e: unknown) => String(e)));
      });
    }

    function phase(kind: string, name: string, want: string, timeoutMs = 60_000): Promise<Obj> {
      return eventually(
        async () => {
          const o = await get(kind, name);
          if (o.status?.phase !== want) throw new Error(`${kind}/${name}: ${JSON.stringify(o.status)}`);
          return o;
        },
        { timeoutMs, intervalMs: 300, description: `${kind}/${name} ${want}` },
      );
    }

    /** Creates a CutoutJob of alice's on the collection; resolves with it as created (its uid names its outputs). */
    function submit(name: string, positions: string, spec: Record<string, unknown> = {}): Promise<Obj> {
      const job = {
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'CutoutJob',
        metadata: { name, namespace: ns },
        spec: {
          owner: 'alice',
          imageCollection: 'des',
          positions: { inline: positions },
          size: { xsize: SIDE, unit: 'arcsec' },
          parallelism: { shards: 2 },
          ...spec,
        },
      };
      return kubectlJson<Obj>(['create', '-f', '-'], { kubeconfig, input: JSON.stringify(job) });
    }

    /** The host directory of a job's outputs (the operator's `cutoutjobs/<name>-<uid8>`). */
    const outputDir = (j: Obj) =>
      join(resultsDir, 'cutoutjobs', `${j.metadata.name}-${j.metadata.uid.slice(0, 8)}`);

    /** The merged manifest, checked to hold rows 1…n exactly once, in input order. */
    function manifestOf(j: Obj, n: number): ManifestRow[] {
      const rows = parseManifest(readFileSync(join(outputDir(j), 'manifest.csv'), 'utf8'));
      expect(rows.map((r) => r.row)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      return rows;
    }

    /** The results in status are the files on the volume, byte for byte. */
    function expectResultsMatch(j: Obj): void {
      const results = (j.status?.['results'] ?? []) as {
        id: string;
        path: string;
        size: number;
        sha256: string;
      }[];
      expect(results.map((r) => r.id).sort()).toEqual(['manifest', 'summary']);
      for (const r of results) {
        const path = join(resultsDir, r.path);
        expect(sha256Of(path), r.path).toBe(r.sha256);
        expect(statSync(path).size, r.path).toBe(r.size);
      }
    }

    it('indexes the survey in a real pod: tiles.json on the volume, status Ready with tiles, bands and coverage', async () => {
      dumpOnFailure();
      await apply({
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'ImageCollection',
        metadata: { name: 'des', namespace: ns },
        spec: {
          source: { persistentVolumeClaim: { claimName: 'des-tiles', path: 'coadd' } },
          results: {
            persistentVolumeClaim: { claimName: 'des-cutouts' },
            serve: { secretName: 'des-results-server' },
          },
          limits: { maxConcurrentJobsPerOwner: 3 },
        },
      });
      const ready = await phase('imagecollection', 'des', 'Ready', 90_000);
      log('ImageCollection Ready');
      expect(ready.status).toMatchObject({ tiles: 4, bands: BANDS, skipped: 0, indexPath: 'tiles.json' });
      expect((ready.status?.['footprints'] as unknown[]).length).toBe(4);
      // The union of the tiles is the grid's outer pixel edges, across RA 0.
      const edge = [-0.5, TILE * TILES - 0.5];
      const pts: [number, number][] = [];
      for (let i = 0; i <= TILE * TILES; i++)
        for (const e of edge) pts.push(GRID.pixelToWorld(i - 0.5, e), GRID.pixelToWorld(e, i - 0.5));
      const signedRa = pts.map(([ra]) => (ra > 180 ? ra - 360 : ra));
      const decs = pts.map(([, dec]) => dec);
      const coverage = ready.status?.['coverage'] as Record<string, number | boolean>;
      expect(coverage['crossRa0']).toBe(true);
      expect(coverage['raMin']).toBeCloseTo(360 + Math.min(...signedRa), 4);
      expect(coverage['raMax']).toBeCloseTo(Math.max(...signedRa), 4);
      expect(coverage['decMin']).toBeCloseTo(Math.min(...decs), 4);
      expect(coverage['decMax']).toBeCloseTo(Math.max(...decs), 4);
      // The runner in the pod wrote the full index next to the tiles, as its own user.
      const indexFile = join(tilesDir, 'coadd', 'tiles.json');
      expect(statSync(indexFile).uid).toBe(RUNNER_UID);
      const index = JSON.parse(readFileSync(indexFile, 'utf8')) as TileIndex;
      expect(index.tiles.map((t) => t.tile).sort()).toEqual(['T00', 'T01', 'T10', 'T11']);
      expect(index.tiles.flatMap((t) => t.files.map((f) => f.path)).filter((p) => p.endsWith('.fz'))).toEqual(
        ['T00_g.fits.fz', 'T00_r.fits.fz'],
      );
    });

    it('cuts 20 positions in two real shards and a merge: counts, manifest rows, FITS read by astropy, sha256', async () => {
      dumpOnFailure();
      const rows = smallRows();
      const astropy = astropyChecker();
      onTestFinished(astropy.close);
      const j = await submit('small', ['RA,DEC,ID', ...rows.map((r) => r.line)].join('\n') + '\n', {
        fits: { hdus: ['SCI', 'MSK'] },
      });
      const done = await phase('cutoutjob', 'small', 'COMPLETED', 90_000);
      log('Small CutoutJob COMPLETED');
      const want = (s: Status) => rows.filter((r) => r.status === s).length;
      expect(done.status?.['counts']).toEqual({
        positions: rows.length,
        done: rows.length,
        ok: want('ok'),
        partial: want('partial'),
        unmatched: want('unmatched'),
        failed: want('failed'),
      });
      expect(want('ok')).toBe(15);
      const shards = await get('job', 'small-shards');
      expect(shards.status).toMatchObject({ succeeded: 2 });
      expect(shards.status?.['failed'] ?? 0).toBe(0);

      const manifest = manifestOf(j, rows.length);
      expect(manifest.map((m) => [m.id, m.status])).toEqual(rows.map((r) => [r.id, r.status]));
      expect(manifest.find((m) => m.id === 'bad-ra')?.reason).toMatch(/RA "abc" is not in \[0, 360\]/);
      // Every FITS the manifest lists is on the volume, one per band for each row that was cut.
      const out = outputDir(j);
      const listed = manifest.flatMap((m) => m.files);
      expect(listed.length).toBe((want('ok') + want('partial')) * BANDS.length);
      expect(done.status?.['files']).toBe(listed.length);
      expect(
        filesUnder(out)
          .filter((f) => f.endsWith('.fits'))
          .sort(),
      ).toEqual([...listed].sort());

      // astropy reads every cutout: checksums, shape, and the requested RA/Dec where Cutout2D of the tile puts it.
      const index = JSON.parse(readFileSync(join(tilesDir, 'coadd', 'tiles.json'), 'utf8')) as TileIndex;
      const tileFile = (tile: string, band: string) =>
        join(
          tilesDir,
          'coadd',
          index.tiles.find((t) => t.tile === tile)?.files.find((f) => f.band === band)?.path ?? '',
        );
      const byPath = new Map<string, Row>();
      const request = manifest.flatMap((m, i) =>
        m.files.map((f) => {
          const row = rows[i] as Row;
          byPath.set(join(out, f), row);
          const band = /_([a-z])\.fits$/.exec(f)?.[1] ?? '';
          return { path: join(out, f), tile: tileFile(m.tile, band), ra: row.ra ?? NaN, dec: row.dec ?? NaN };
        }),
      );
      const checked = await astropy.check(request);
      expect(checked.length).toBe(listed.length);
      let worst = 0;
      let compared = 0;
      for (const c of checked) {
        const row = byPath.get(c.path);
        expect(
          c.hdus.map((h) => h.name),
          c.path,
        ).toEqual(['SCI', 'MSK']);
        for (const h of c.hdus) {
          const what = `${c.path} ${h.name}`;
          expect(h.shape, what).toEqual([SIDE_PX, SIDE_PX]);
          const off = Math.max(Math.abs(h.pixel[0] - h.reference[0]), Math.abs(h.pixel[1] - h.reference[1]));
          worst = Math.max(worst, off);
          // The box is on the tile's pixel grid: the position is within half a pixel of its geometric centre.
          expect(Math.abs(h.pixel[0] - (SIDE_PX - 1) / 2), what).toBeLessThanOrEqual(0.5);
          expect(Math.abs(h.pixel[1] - (SIDE_PX - 1) / 2), what).toBeLessThanOrEqual(0.5);
          // Only the row off the survey is padded; the mosaics across RA 0 and the corner are filled.
          if (h.name === 'SCI') expect(h.nan > 0, what).toBe(row?.status === 'partial');
          if (h.same !== null) {
            expect(h.same, `${what}: pixels equal astropy's Cutout2D`).toBe(true);
            compared++;
          }
        }
      }
      expect(worst).toBeLessThan(0.01);
      // Rows inside one tile compare pixel for pixel; the edge, corner and padded rows (mosaics) do not.
      expect(compared).toBe((want('ok') - 2) * BANDS.length * 2);
      log(`astropy checked ${checked.length} FITS, worst WCS centre offset ${worst.toExponential(2)} px`);
      expectResultsMatch(done);
    });

    it("the results server pod serves the job's resultsUrl to its owner: signed URLs, sha256; 404 for bob, 401 without a token", async () => {
      dumpOnFailure();
      const [server, ...more] = await eventually(
        async () => {
          const ps = await pods('app.kubernetes.io/component=results');
          if (!ps.some((p) => p.status?.containerStatuses?.[0]?.ready === true))
            throw new Error('no results server pod Ready');
          return ps;
        },
        { timeoutMs: 90_000, intervalMs: 500, description: 'the results server Ready' },
      );
      expect(more).toEqual([]);
      expect(server?.spec?.nodeName).toBe(REAL_NODE_NAME);
      const collection = await get('imagecollection', 'des');
      expect(collection.status?.['results']).toMatchObject({ url: `http://des-results.${ns}.svc:8080` });
      const j = await get('cutoutjob', 'small');
      const n = await expectServedToOwnerOnly({
        kubeconfig,
        namespace: ns,
        service: 'des-results',
        job: j,
        dir: outputDir(j),
        files: filesUnder(outputDir(j)),
        owner: { user: 'alice', token: TOKENS.alice },
        other: { token: TOKENS.bob },
      });
      log(`Results server: ${n} files downloaded by signed URL, each equal to the volume's`);
    });

    it('a shard SIGKILLed mid-run is retried by its index: the merged manifest has every row once', async () => {
      dumpOnFailure();
      const j = await submit('killed', bigCsv(BIG));
      const shard0 = join(outputDir(j), 'shard-0');
      const containerId = await eventually(
        async () => {
          const [p] = await pods(
            'batch.kubernetes.io/job-name=killed-shards,batch.kubernetes.io/job-completion-index=0',
          );
          const cs = p?.status?.containerStatuses?.[0];
          if (cs?.state?.running === undefined || cs.containerID === undefined)
            throw new Error('not running yet');
          return cs.containerID.replace(/^containerd:\/\//, '');
        },
        { timeoutMs: 60_000, intervalMs: 100, description: 'shard 0 runs' },
      );
      // Kill it once it has written cutouts but not its manifest.
      const written = await eventually(
        () => {
          const fits = filesUnder(shard0).filter((f) => f.endsWith('.fits')).length;
          return fits > 0 ? fits : false;
        },
        { timeoutMs: 30_000, intervalMs: 20, description: 'shard 0 writes cutouts' },
      );
      await ctr('tasks', 'kill', '--signal', 'SIGKILL', containerId);
      expect(existsSync(join(shard0, 'manifest.csv')), 'killed before it finished').toBe(false);
      log(`Killed shard 0 after ${written} FITS`);
      const done = await phase('cutoutjob', 'killed', 'COMPLETED', 120_000);
      log('Killed CutoutJob COMPLETED');
      const index0 = await pods(
        'batch.kubernetes.io/job-name=killed-shards,batch.kubernetes.io/job-completion-index=0',
      );
      expect(
        index0
          .map((p) => [p.status?.phase, p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode])
          .sort(),
      ).toEqual([
        ['Failed', 137],
        ['Succeeded', 0],
      ]);
      expect((await get('job', 'killed-shards')).status).toMatchObject({ succeeded: 2, failed: 1 });
      expect(done.status?.['counts']).toEqual({
        positions: BIG,
        done: BIG,
        ok: BIG,
        partial: 0,
        unmatched: 0,
        failed: 0,
      });
      const manifest = manifestOf(j, BIG);
      expect(manifest.every((m) => m.status === 'ok' && m.files.length === BANDS.length)).toBe(true);
      // The retry overwrote what the killed run wrote: no temporary left, no file the manifest does not list.
      const listed = manifest.flatMap((m) => m.files);
      expect(new Set(listed).size).toBe(BIG * BANDS.length);
      const onDisk = filesUnder(outputDir(j)).filter(
        (f) => !/^(manifest\.csv|summary\.json|shard-\d+\/(manifest\.csv|summary\.json))$/.test(f),
      );
      expect(onDisk.sort()).toEqual([...listed].sort());
      expect(done.status?.['files']).toBe(listed.length);
      expectResultsMatch(done);
    });

    it('ABORT of a running job stops its shard pods and their processes', async () => {
      dumpOnFailure();
      const j = await submit('aborted', bigCsv(ABORTED));
      const selector = 'batch.kubernetes.io/job-name=aborted-shards';
      const ids = await eventually(
        async () => {
          const running = (await pods(selector)).flatMap((p) =>
            (p.status?.containerStatuses ?? []).filter(
              (c) => c.state?.running !== undefined && c.containerID,
            ),
          );
          if (running.length < 2) throw new Error(`${running.length} of 2 shards running`);
          return running.map((c) => (c.containerID ?? '').replace(/^containerd:\/\//, ''));
        },
        { timeoutMs: 60_000, intervalMs: 100, description: 'both shards run' },
      );
      await eventually(() => filesUnder(outputDir(j)).some((f) => f.endsWith('.fits')), {
        timeoutMs: 30_000,
        intervalMs: 20,
        description: 'the shards write cutouts',
      });
      const abortedAt = Date.now();
      await patchPhase('aborted', 'ABORT');
      const aborted = await phase('cutoutjob', 'aborted', 'ABORTED', 30_000);
      expect(aborted.status?.['message']).toMatch(/shards stopped/);
      expect((await get('job', 'aborted-shards')).spec?.['suspend']).toBe(true);
      // Well within the pods' 30 s grace period: the runner stops on SIGTERM.
      await eventually(async () => (await pods(selector)).length === 0, {
        timeoutMs: 20_000,
        description: 'the aborted shards pods gone',
      });
      const stoppedMs = Date.now() - abortedAt;
      // Nothing of theirs runs on the node any more, and neither shard got to its manifest.
      const tasks = (await ctr('tasks', 'ls')).stdout;
      for (const id of ids) expect(tasks.includes(id), id).toBe(false);
      for (const i of [0, 1])
        expect(existsSync(join(outputDir(j), `shard-${i}`, 'manifest.csv'))).toBe(false);
      log(`Aborted CutoutJob: its pods gone ${stoppedMs} ms after ABORT`);
    });

    it('deleting CutoutJobs runs their clean-up Jobs: the results directories leave the volume', async () => {
      dumpOnFailure();
      const jobs = await Promise.all(['small', 'killed', 'aborted'].map((n) => get('cutoutjob', n)));
      for (const j of jobs) expect(existsSync(outputDir(j)), j.metadata.name).toBe(true);
      await kubectl(['delete', 'cutoutjobs', '--all', '-n', ns, '--wait=false'], { kubeconfig });
      await eventually(
        async () =>
          (await kubectlJson<{ items: unknown[] }>(['get', 'cutoutjobs', '-n', ns], { kubeconfig })).items
            .length === 0,
        { timeoutMs: 90_000, intervalMs: 300, description: 'the CutoutJobs gone' },
      );
      for (const j of jobs) expect(existsSync(outputDir(j)), j.metadata.name).toBe(false);
      // Only the jobs' own directories went: the results volume and the survey stay.
      expect(readdirSync(join(resultsDir, 'cutoutjobs'))).toEqual([]);
      expect(existsSync(join(tilesDir, 'coadd', 'tiles.json'))).toBe(true);
      log('CutoutJobs deleted, results directories gone');
    });
  },
);

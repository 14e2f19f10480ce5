// Tier "real": an ImageCollection whose tiles are in an S3-compatible bucket (docs/adr/0016-s3-tile-source.md), run as
// real processes on the real node — versitygw on the node bridge's host address holds a small sample survey (2 × 2
// tiles of 512², bands g and r, T00 Rice-compressed); the chart's operator makes the indexing Job, whose pod reads the
// headers by ranged GETs and writes the index to the results claim, and a CutoutJob's shard pods download their
// tiles into a scratch emptyDir with the key pair from the Secret. The test reads what the pods wrote on the claim's
// host directory: the index (the directory's, byte for byte), the shards' staging reports, the merged manifest and
// the FITS files it lists (sha256 equal to the same cutouts made here from the directory).
// Skipped unless the cluster has the real node and `npm run images -- cutout-runner operator` has run.
import { createHash } from 'node:crypto';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { startS3, type S3Server } from '../../packages/s3/test/support/s3server.js';
import { parseManifest } from '../../services/cutout-runner/src/merge.js';
import { runShard } from '../../services/cutout-runner/src/runner.js';
import { generateSurvey, type Survey } from '../../services/cutout-runner/src/survey/generate.js';
import { buildIndex, type TileIndex } from '../../services/cutout-runner/src/survey/tile-index.js';
import {
  createNamespace,
  deleteNamespace,
  dumpDiagnostics,
  eventually,
  kubectl,
  kubectlJson,
  uniqueName,
} from '../cluster/index.js';
import { REAL_NODE_NAME, REAL_NODE_NETWORK } from '../cluster/node/config.js';
import { importBuiltImages, missingImages } from '../cluster/node/node.js';
import { deployOperator, undeployOperator, type DeployedOperator } from '../operator/deploy.js';
import { realNodeSkipReason } from './support.js';

const kubeconfig = process.env.SKYPORT_KUBECONFIG ?? inject('skyportKubeconfig');
const IMAGES = ['cutout-runner', 'operator'];
const skipReason = (await realNodeSkipReason(kubeconfig)) ?? missingImages(IMAGES);

/** The user of the cutout-runner image (images/cutout-runner/Dockerfile). */
const CUTOUT_UID = 65532;
const PREFIX = 'y6/coadd';

interface Obj {
  metadata: { name: string; uid: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown> & { phase?: string };
}
interface PodView {
  metadata: { name: string };
  spec?: { nodeName?: string; containers?: { env?: unknown[] }[]; volumes?: Record<string, unknown>[] };
}

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe.skipIf(skipReason !== undefined)(
  `ImageCollection over a bucket on the real node${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const run = uniqueName('s3src');
    const work = mkdtempSync(join(tmpdir(), 'skyport-s3src-real-'));
    let ns = '';
    let op: DeployedOperator | undefined;
    let s3: S3Server | undefined;
    let resultsDir = '';
    let survey: Survey;
    let local: TileIndex;
    const t0 = Date.now();
    const log = (m: string) =>
      console.log(`[cutout-s3.real] ${((Date.now() - t0) / 1000).toFixed(1)} s ${m}`);
    const k = (args: string[]) => kubectl(args, { kubeconfig });
    const apply = (obj: object) => kubectl(['apply', '-f', '-'], { kubeconfig, input: JSON.stringify(obj) });
    const get = (kind: string, name: string) =>
      kubectlJson<Obj>(['get', kind, name, '-n', ns], { kubeconfig });

    function phase(kind: string, name: string, want: string, timeoutMs = 180_000): Promise<Obj> {
      return eventually(
        async () => {
          const o = await get(kind, name);
          if (['ERROR', 'Failed'].includes(o.status?.phase ?? '') && o.status?.phase !== want)
            throw new Error(`${kind}/${name} ended ${o.status?.phase}: ${String(o.status?.['message'])}`);
          if (o.status?.phase !== want) throw new Error(`${kind}/${name}: ${JSON.stringify(o.status)}`);
          return o;
        },
        { timeoutMs, intervalMs: 500, description: `${kind}/${name} ${want}` },
      );
    }

    beforeAll(async () => {
      await importBuiltImages(dirname(kubeconfig), ['cutout-runner']);
      // The bucket where the pods reach it: the node bridge's host address (a network made here).
      s3 = await startS3('des-tiles', { host: REAL_NODE_NETWORK.hostIP });
      survey = generateSurvey({
        dir: join(work, 'tiles'),
        tileSize: 512,
        tilesPerSide: 2,
        bands: ['g', 'r'],
        starsPerTile: 4,
        compressed: ['T00'],
      });
      local = buildIndex(join(work, 'tiles'));
      const c = s3.client();
      for (const f of survey.files) await c.put(`${PREFIX}/${f}`, readFileSync(join(work, 'tiles', f)));
      op = await deployOperator({
        kubeconfig,
        clusterDir: dirname(kubeconfig),
        release: `${run}-op`,
        namespace: `${run}-system`,
        helmArgs: ['--set', 'replicaCount=1'],
        log,
      });
      ns = await createNamespace('s3src', { kubeconfig });
      await apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'des-tiles-s3', namespace: ns },
        stringData: {
          AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        },
      });
      await apply({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'des-cutouts', namespace: ns },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      });
      const pv = await eventually(
        async () => {
          const name = await k(['get', 'pvc', 'des-cutouts', '-n', ns, '-o', 'jsonpath={.spec.volumeName}']);
          if (name === '') throw new Error('claim des-cutouts not bound yet');
          return name;
        },
        { description: 'claim des-cutouts bound' },
      );
      resultsDir = await k(['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}']);
      chownSync(resultsDir, CUTOUT_UID, CUTOUT_UID);
      log('Bucket filled, operator deployed');
    }, 600_000);

    afterAll(async () => {
      if (ns) {
        await k(['delete', 'cutoutjobs', '--all', '-n', ns, '--timeout=60s']).catch(() => undefined);
        await deleteNamespace(ns, { kubeconfig });
      }
      if (op !== undefined) await undeployOperator(kubeconfig, op);
      await s3?.stop();
      rmSync(work, { recursive: true, force: true });
      log('Cleaned up');
    });

    it('indexes the bucket and cuts from it in real pods: the same index and the same FITS bytes as from a directory', async () => {
      onTestFailed(async () => {
        console.error(await dumpDiagnostics(ns, [], { kubeconfig }));
        console.error(
          await k(['get', 'imagecollections,cutoutjobs,jobs,pods', '-n', ns, '-o', 'yaml']).catch(String),
        );
      });
      await apply({
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'ImageCollection',
        metadata: { name: 'des', namespace: ns },
        spec: {
          source: {
            s3: {
              endpoint: s3?.endpoint ?? '',
              bucket: 'des-tiles',
              prefix: PREFIX,
              forcePathStyle: true,
              credentialsSecretRef: { name: 'des-tiles-s3' },
            },
          },
          results: { persistentVolumeClaim: { claimName: 'des-cutouts' } },
        },
      });
      const ready = await phase('imagecollection', 'des', 'Ready');
      log('ImageCollection Ready');
      expect(ready.status).toMatchObject({ tiles: 4, bands: ['g', 'r'], indexPath: 'index/tiles.json' });
      expect(readFileSync(join(resultsDir, 'index', 'tiles.json'), 'utf8')).toBe(
        JSON.stringify(local, null, 1) + '\n',
      );

      const positions = ['RA,DEC,ID', ...survey.stars.map((s) => `${s.ra},${s.dec},${s.id}`), '20,20,far'];
      await apply({
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'CutoutJob',
        metadata: { name: 'stars', namespace: ns },
        spec: {
          owner: 'alice',
          imageCollection: 'des',
          positions: { inline: positions.join('\n') + '\n' },
          size: { xsize: 10, unit: 'arcsec' },
          fits: { hdus: ['SCI', 'WGT'] },
          parallelism: { shards: 2 },
        },
      });
      const done = await phase('cutoutjob', 'stars', 'COMPLETED', 240_000);
      log('CutoutJob COMPLETED');
      const pods = (
        await kubectlJson<{ items: PodView[] }>(
          ['get', 'pods', '-n', ns, '-l', 'batch.kubernetes.io/job-name=stars-shards'],
          { kubeconfig },
        )
      ).items;
      expect(pods.length).toBeGreaterThanOrEqual(2);
      for (const p of pods) {
        expect(p.spec?.nodeName).toBe(REAL_NODE_NAME);
        expect(JSON.stringify(p.spec)).not.toContain(s3?.credentials.secretAccessKey ?? '?');
        expect(p.spec?.volumes?.some((v) => v['name'] === 'scratch' && v['emptyDir'] !== undefined)).toBe(
          true,
        );
      }
      const out = join(resultsDir, 'cutoutjobs', `stars-${done.metadata.uid.slice(0, 8)}`);
      for (const i of [0, 1]) {
        const summary = JSON.parse(readFileSync(join(out, `shard-${i}`, 'summary.json'), 'utf8')) as {
          staging?: { downloads: number; failed: number };
        };
        expect(summary.staging?.downloads).toBeGreaterThan(0);
        expect(summary.staging?.failed).toBe(0);
      }
      const rows = parseManifest(readFileSync(join(out, 'manifest.csv'), 'utf8'));
      expect(rows).toHaveLength(survey.stars.length + 1);
      expect(rows.filter((r) => r.status === 'unmatched').map((r) => r.id)).toEqual(['far']);
      expect(rows.filter((r) => r.status === 'failed')).toEqual([]);
      // The same cutouts made here from the directory: the same bytes.
      const here = runShard({
        positions: positions.join('\n') + '\n',
        root: join(work, 'tiles'),
        index: local,
        outputDir: join(work, 'out'),
        size: { x: 10, y: 10, unit: 'arcsec', shape: 'box' },
        hdus: ['SCI', 'WGT'],
      });
      let compared = 0;
      // The merged manifest names files under their shard's folder (shard-<i>/<tile>/<name>).
      for (const r of rows)
        for (const f of r.files) {
          expect(sha(join(out, f)), f).toBe(sha(join(work, 'out', f.replace(/^shard-\d+\//, ''))));
          compared++;
        }
      expect(compared).toBe(here.summary.files);
      log(`${compared} files byte-identical`);
    });
  },
);

// Tier "real": a QueryJob's runner pod really runs on the real node (containerd + runc + kubelet) against a real
// PostgreSQL reached on the node bridge's host address, writes its result to the results volume, and reports its
// files through the termination message (the chart's operator, from its image, runs on the real node too); a runner killed mid-query is retried and writes the same bytes.
// Skipped unless the cluster has the real node and `npm run images -- query-runner` has built the image.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { loadSample } from '../../services/query-runner/src/sample/load.js';
import {
  createNamespace,
  deleteNamespace,
  dumpDiagnostics,
  eventually,
  kubectl,
  kubectlJson,
  uniqueName,
} from '../cluster/index.js';
import { nodeDirs } from '../cluster/node/config.js';
import { importImage, missingImages } from '../cluster/node/node.js';
import { nodeCacheDir } from '../cluster/paths.js';
import { readIndex } from '../images/build.js';
import { deployOperator, undeployOperator, type DeployedOperator } from '../operator/deploy.js';
import { hostResultsClaim, podDatabase, realNodeSkipReason, type PodDatabase } from './support.js';

const execFileP = promisify(execFile);
const kubeconfig = process.env.SKYPORT_KUBECONFIG ?? inject('skyportKubeconfig');
const runnerImage = readIndex()['query-runner'];
const skipReason = (await realNodeSkipReason(kubeconfig)) ?? missingImages(['query-runner', 'operator']);

/** Rows of the sample: enough that a runner is still streaming a couple of seconds after it starts. */
const ROWS = 300_000;
const READER = { user: 'reader', password: 'reader-real-pw' };
const QUERY = 'SELECT * FROM des_sample ORDER BY coadd_object_id';

interface QJ {
  metadata: { uid: string };
  status?: {
    phase?: string;
    rows?: number;
    attempts?: number;
    error?: unknown;
    results?: { name: string; bytes: number; sha256: string }[];
  };
}

describe.skipIf(skipReason !== undefined)(
  `QueryJob on the real node${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const run = uniqueName('qjreal');
    let ns = '';
    let pdb: PodDatabase | undefined;
    let resultsDir = '';
    let op: DeployedOperator | undefined;
    const database = run.replace(/-/g, '_');
    const k = (args: string[]) => kubectl(args, { kubeconfig });
    const apply = (obj: object) => kubectl(['apply', '-f', '-'], { kubeconfig, input: JSON.stringify(obj) });
    const get = (name: string) => kubectlJson<QJ>(['get', 'queryjob', name, '-n', ns], { kubeconfig });

    beforeAll(async () => {
      // The chart's operator runs on the real node (kwok nodes are tainted while it runs), from the built image.
      await importImage(dirname(kubeconfig), runnerImage?.archive ?? '');
      // PostgreSQL on loopback (the operator's quote) and on the bridge's host address (the pods), password-checked
      // for the pod subnet so the mounted Secret is what lets the runner in.
      pdb = await podDatabase(database, READER);
      const c = new pg.Client({ connectionString: pdb.url });
      await c.connect();
      await loadSample(c, { table: 'des_sample', rows: ROWS });
      await c.query(`GRANT SELECT ON des_sample TO ${READER.user}`);
      await c.end();

      // The chart with the built operator image, in a release of this file's own (the chart's default image is a
      // registry one the node cannot pull).
      op = await deployOperator({
        kubeconfig,
        clusterDir: dirname(kubeconfig),
        release: `${run}-op`,
        namespace: `${run}-system`,
        log: (m) => console.log(`[queryjob.real] ${m}`),
      });
      await k(['wait', '--for=condition=Established', '--timeout=60s', 'crd/queryjobs.skyport.io']);
      ns = await createNamespace('qjreal', { kubeconfig });
      await apply(pdb.readerSecret(ns, 'des-reader'));
      resultsDir = await hostResultsClaim(apply, run, ns, 'skyport-qj-results-');
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
    });

    afterAll(async () => {
      if (ns) await deleteNamespace(ns, { kubeconfig });
      if (op !== undefined) await undeployOperator(kubeconfig, op);
      await k(['delete', 'catalog', run, '--ignore-not-found', '--wait=false']).catch(() => undefined);
      await k(['delete', 'pv', run, '--ignore-not-found', '--wait=false']).catch(() => undefined);
      await pdb?.db.stop({ removeData: true });
      if (resultsDir) rmSync(resultsDir, { recursive: true, force: true });
    });

    function dumpOnFailure(): void {
      onTestFailed(async () => {
        console.error(await dumpDiagnostics(ns, [], { kubeconfig }));
        console.error(
          await k(['logs', '-n', op?.namespace ?? '', `deploy/${op?.name ?? ''}`, '--tail=60']).catch(
            (e: unknown) => String(e),
          ),
        );
        console.error(await k(['get', 'queryjobs', '-n', ns, '-o', 'yaml']).catch((e: unknown) => String(e)));
      });
    }

    async function submit(name: string): Promise<QJ> {
      await apply({
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'QueryJob',
        metadata: { name, namespace: ns },
        spec: {
          owner: 'jsmith',
          catalogRef: { name: run },
          query: QUERY,
          phase: 'RUN',
          output: { format: 'csv' },
        },
      });
      return eventually(async () => {
        const q = await get(name);
        if (q.status?.phase === undefined) throw new Error('no phase yet');
        return q;
      });
    }

    function completed(name: string): Promise<QJ> {
      return eventually(
        async () => {
          const q = await get(name);
          if (q.status?.phase !== 'COMPLETED') throw new Error(JSON.stringify(q.status));
          return q;
        },
        { timeoutMs: 240_000, intervalMs: 1000, description: `${name} COMPLETED` },
      );
    }

    function sha256Of(path: string): string {
      return createHash('sha256').update(readFileSync(path)).digest('hex');
    }

    let firstSha = '';

    it('runs the query in a real pod: the CSV on the volume matches the sha256 and rows in status', async () => {
      dumpOnFailure();
      const q = await submit('full');
      const done = await completed('full');
      expect(done.status?.rows).toBe(ROWS);
      expect(done.status?.attempts).toBe(1);
      const csv = done.status?.results?.find((r) => r.name === 'result.csv');
      expect(csv).toBeDefined();
      const path = join(resultsDir, `full-${q.metadata.uid}`, 'result.csv');
      firstSha = sha256Of(path);
      expect(firstSha).toBe(csv?.sha256);
      expect(readFileSync(path).length).toBe(csv?.bytes);
      const lines = readFileSync(path, 'utf8').split('\r\n');
      expect(lines[0]?.startsWith('coadd_object_id,ra,dec')).toBe(true);
      expect(lines.length).toBe(ROWS + 2); // header, rows, the empty string after the last CRLF
      const manifest = done.status?.results?.find((r) => r.name === 'result.provenance.json');
      expect(manifest?.sha256).toBe(
        sha256Of(join(resultsDir, `full-${q.metadata.uid}`, 'result.provenance.json')),
      );
    });

    it('a runner killed mid-query (SIGKILL) is retried once and writes identical bytes', async () => {
      dumpOnFailure();
      const q = await submit('killed');
      const containerId = await eventually(
        async () => {
          const pods = await kubectlJson<{
            items: {
              status?: { containerStatuses?: { containerID?: string; state?: { running?: unknown } }[] };
            }[];
          }>(['get', 'pods', '-n', ns, '-l', `skyport.io/owner-uid=${q.metadata.uid}`], { kubeconfig });
          const cs = pods.items[0]?.status?.containerStatuses?.[0];
          if (cs?.state?.running === undefined || cs.containerID === undefined)
            throw new Error('not running yet');
          return cs.containerID.replace(/^containerd:\/\//, '');
        },
        { timeoutMs: 120_000, intervalMs: 200, description: 'the runner container runs' },
      );
      // Catch it streaming: its result's `.partial` file has bytes. The CSV path (PostgreSQL formats, the runner
      // moves bytes) writes 300k rows in about a second, so freeze the container at once (cgroup freezer), check
      // it is still mid-stream, then kill it as an OOM or a lost node would; the kill lands when it is thawed.
      const dir = join(resultsDir, `killed-${q.metadata.uid}`);
      const streaming = (): boolean =>
        existsSync(dir) &&
        readdirSync(dir).some((f) => f.endsWith('.partial') && statSync(join(dir, f)).size > 0);
      const ctr = (...args: string[]) =>
        execFileP(join(nodeCacheDir(), 'bin', 'ctr'), [
          '--address',
          nodeDirs(dirname(kubeconfig)).containerdSocket,
          '-n',
          'k8s.io',
          'tasks',
          ...args,
        ]);
      await eventually(() => Promise.resolve(streaming()), {
        timeoutMs: 120_000,
        intervalMs: 10,
        description: 'bytes written',
      });
      await ctr('pause', containerId);
      expect(existsSync(join(dir, 'result.csv')), 'the run ended before the freeze').toBe(false);
      expect(streaming()).toBe(true);
      await ctr('kill', '--signal', 'SIGKILL', containerId);
      await ctr('resume', containerId).catch(() => undefined); // gone already when the kill landed at once
      const done = await completed('killed');
      expect(done.status?.attempts, 'the kill happened before the run ended').toBe(2);
      expect(done.status?.rows).toBe(ROWS);
      const path = join(resultsDir, `killed-${q.metadata.uid}`, 'result.csv');
      expect(sha256Of(path)).toBe(firstSha);
      expect(done.status?.results?.find((r) => r.name === 'result.csv')?.sha256).toBe(firstSha);
    });
  },
);

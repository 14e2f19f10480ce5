// Tier "real": a Catalog with spec.tap runs its TAP service (images/tap) as a real pod on the real node, under the
// chart's operator from its image; its async jobs are QueryJobs whose runner pods (images/query-runner) really run
// there too. PostgreSQL listens on the node bridge's host address (password-checked for the pod subnet); the test
// reaches the TAP Service at its ClusterIP (kube-proxy's rules are in this host's netns) and drives it with pyvo
// (e2e/real/tap_pyvo.py in the TAP compat venv): a sync cone and an async job return the rows PostgreSQL has, the
// async job's QueryJob ran its runner pod once, another user's token gets 404 for it and no token 401; the TAP pod
// killed while pyvo blocks in WAIT is replaced by a new pod and the job completes once.
// Skipped unless the cluster has the real node and `npm run images -- tap query-runner operator` has built the images.
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
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
  repoRoot,
  uniqueName,
} from '../cluster/index.js';
import { nodeDirs, REAL_NODE_NAME } from '../cluster/node/config.js';
import { importBuiltImages, missingImages } from '../cluster/node/node.js';
import { nodeCacheDir } from '../cluster/paths.js';
import { deployOperator, undeployOperator, type DeployedOperator } from '../operator/deploy.js';
import { hostResultsClaim, podDatabase, realNodeSkipReason, type PodDatabase } from './support.js';

const execFileP = promisify(execFile);
const kubeconfig = process.env.SKYPORT_KUBECONFIG ?? inject('skyportKubeconfig');
const skipReason =
  (await realNodeSkipReason(kubeconfig)) ?? missingImages(['tap', 'query-runner', 'operator']);

/** Rows of the sample catalog: small, and enough for a self-join that keeps a runner busy for seconds. */
const ROWS = 20_000;
const READER = { user: 'reader', password: 'reader-real-pw' };
/** The TAP users (services/tap: `user token` lines, tokens of 16+ characters). */
const TOKENS = { alice: 'alice-real-token-0123456789', bob: 'bob-real-token-9876543210' };
const SIGNING_KEY = 'real-tier-signing-key-of-at-least-32-bytes';
/** The query runner's uid (images/query-runner), which owns the results volume; the TAP pod reads it as the same uid. */

/** What tap_pyvo.py prints. */
interface PyvoOut {
  columns: string[];
  rows: (string | number | null)[][];
  job?: string;
  phase?: string;
}
/** A line tap_pyvo.py logs on stderr. */
interface PyvoEvent {
  event: 'start' | 'end' | 'job';
  method?: string;
  url?: string;
  wait?: string | null;
  status?: number;
  error?: string;
  id?: string;
  /** Wall clock, seconds. */
  t: number;
}
interface QJ {
  metadata: { name: string; uid: string };
  spec: { owner: string };
  status?: {
    phase?: string;
    rows?: number;
    attempts?: number;
    startTime?: string;
    endTime?: string;
    results?: { name: string; sha256: string }[];
  };
}
interface PodView {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      containerID?: string;
      state?: { running?: unknown; terminated?: { exitCode?: number } };
    }[];
  };
}

/** The compat venv of services/tap (pyvo 1.10, pinned), made once and cached. */
async function pyvoPython(): Promise<string> {
  const { stdout } = await execFileP('bash', [
    join(repoRoot, 'scripts', 'compat-venv.sh'),
    join(repoRoot, 'services', 'tap', 'test', 'support', 'requirements-compat.txt'),
  ]);
  return join(stdout.trim(), 'bin', 'python');
}

/** tap_pyvo.py running: its stderr events as they come, and its JSON once it exits. */
function pyvo(
  python: string,
  base: string,
  token: string,
  mode: 'sync' | 'async',
  lang: 'ADQL' | 'PG-SQL',
  query: string,
): { events: PyvoEvent[]; done: Promise<PyvoOut> } {
  const child = spawn(python, [join(import.meta.dirname, 'tap_pyvo.py'), base, token, mode, lang, query]);
  const events: PyvoEvent[] = [];
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('{')) events.push(JSON.parse(l) as PyvoEvent);
  });
  const done = new Promise<PyvoOut>((resolve, reject) => {
    const timer = setTimeout(() => child.kill(), 360_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`tap_pyvo.py ${mode} exited ${code}: ${stderr.slice(-3000)}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as PyvoOut);
    });
  });
  return { events, done };
}

describe.skipIf(skipReason !== undefined)(
  `Catalog spec.tap on the real node${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const run = uniqueName('tapreal');
    let ns = '';
    let pdb: PodDatabase | undefined;
    let dbUrl = '';
    let resultsDir = '';
    let op: DeployedOperator | undefined;
    let python = '';
    /** http://<ClusterIP>:8080/tap */
    let base = '';
    const database = run.replace(/-/g, '_');
    const tapName = `${run}-tap`;
    const t0 = Date.now();
    const log = (m: string) =>
      console.log(`[catalog-tap.real] ${((Date.now() - t0) / 1000).toFixed(1)} s ${m}`);
    const k = (args: string[]) => kubectl(args, { kubeconfig });
    const apply = (obj: object) => kubectl(['apply', '-f', '-'], { kubeconfig, input: JSON.stringify(obj) });
    const tapPods = async () =>
      (
        await kubectlJson<{ items: PodView[] }>(
          ['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/component=tap'],
          { kubeconfig },
        )
      ).items;
    const ready = (p: PodView) =>
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

    /** Rows of the database for `sql`, as tap_pyvo.py prints them (ids as text). */
    async function dbRows(sql: string): Promise<(string | number | null)[][]> {
      const c = new pg.Client({ connectionString: dbUrl });
      await c.connect();
      try {
        const r = await c.query({ text: sql, rowMode: 'array' });
        return (r.rows as unknown[][]).map((row) =>
          row.map((v, i) => (r.fields[i]?.dataTypeID === 20 ? String(v) : (v as number | null))),
        );
      } finally {
        await c.end();
      }
    }

    beforeAll(async () => {
      const refs = await importBuiltImages(dirname(kubeconfig), ['tap', 'query-runner']);
      python = await pyvoPython();
      // PostgreSQL on loopback (the test's own reads) and on the bridge's host address (the operator's quote, the
      // TAP pod and the runner pods), password-checked for the pod subnet.
      pdb = await podDatabase(database, READER);
      dbUrl = pdb.url;
      const c = new pg.Client({ connectionString: dbUrl });
      await c.connect();
      await loadSample(c, { table: 'des_sample', rows: ROWS });
      await c.query(`GRANT SELECT ON des_sample TO ${READER.user}`);
      await c.end();
      log(`PostgreSQL ready with ${ROWS} rows; images ${refs.join(', ')}`);

      op = await deployOperator({
        kubeconfig,
        clusterDir: dirname(kubeconfig),
        release: `${run}-op`,
        namespace: `${run}-system`,
        helmArgs: ['--set', 'replicaCount=1'],
        log,
      });
      await k(['wait', '--for=condition=Established', '--timeout=60s', 'crd/catalogs.skyport.io']);
      ns = await createNamespace('tapreal', { kubeconfig });
      await apply(pdb.readerSecret(ns, 'des-reader'));
      await apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'des-tap', namespace: ns },
        stringData: { tokens: `alice ${TOKENS.alice}\nbob ${TOKENS.bob}\n`, 'signing-key': SIGNING_KEY },
      });
      resultsDir = await hostResultsClaim(apply, run, ns, 'skyport-tap-results-');
      await apply({
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'Catalog',
        metadata: { name: run },
        spec: {
          release: 'Y6A2',
          database: pdb.catalogDatabase('des-reader'),
          tables: ['public.des_sample'],
          results: { claimName: 'query-results' },
          limits: { maxConcurrentJobsPerUser: 2 },
          tap: { namespace: ns, secretName: 'des-tap' },
        },
      });
    });

    afterAll(async () => {
      // QueryJobs hold a finalizer the operator releases: delete them while it runs.
      if (ns) {
        await k(['delete', 'queryjobs', '--all', '-n', ns, '--timeout=60s']).catch(() => undefined);
        await deleteNamespace(ns, { kubeconfig });
      }
      await k(['delete', 'catalog', run, '--ignore-not-found', '--timeout=60s']).catch(() => undefined);
      if (op !== undefined) await undeployOperator(kubeconfig, op);
      await k(['delete', 'pv', run, '--ignore-not-found', '--wait=false']).catch(() => undefined);
      await pdb?.db.stop({ removeData: true });
      if (resultsDir) rmSync(resultsDir, { recursive: true, force: true });
      log('Cleaned up');
    });

    function dumpOnFailure(): void {
      onTestFailed(async () => {
        console.error(await dumpDiagnostics(ns, [], { kubeconfig }));
        for (const args of [
          ['logs', '-n', op?.namespace ?? '', `deploy/${op?.name ?? ''}`, '--tail=60'],
          ['logs', '-n', ns, `deploy/${tapName}`, '--tail=60'],
          ['get', 'catalog', run, '-o', 'yaml'],
          ['get', 'queryjobs,jobs', '-n', ns, '-o', 'yaml'],
        ])
          console.error(await k(args).catch((e: unknown) => String(e)));
      });
    }

    const getQJ = (name: string) => kubectlJson<QJ>(['get', 'queryjob', name, '-n', ns], { kubeconfig });
    const runnerPods = async (qj: QJ) =>
      (
        await kubectlJson<{ items: PodView[] }>(
          ['get', 'pods', '-n', ns, '-l', `skyport.io/owner-uid=${qj.metadata.uid}`],
          { kubeconfig },
        )
      ).items;

    it('the TAP pod runs Ready on the real node; the Catalog reports it; VOSI answers through the ClusterIP', async () => {
      dumpOnFailure();
      const catalog = await eventually(
        async () => {
          const c = await kubectlJson<{
            status?: {
              tap?: { url?: string; readyReplicas?: number };
              conditions?: { type: string; status: string }[];
            };
          }>(['get', 'catalog', run], { kubeconfig });
          const cond = c.status?.conditions?.find((x) => x.type === 'TapReady');
          if (cond?.status !== 'True') throw new Error(JSON.stringify(c.status));
          return c;
        },
        { timeoutMs: 180_000, intervalMs: 1000, description: 'TapReady' },
      );
      log('Catalog TapReady');
      expect(catalog.status?.tap).toMatchObject({
        url: `http://${tapName}.${ns}.svc:8080/tap`,
        readyReplicas: 1,
      });
      const [pod, ...others] = await tapPods();
      expect(others).toEqual([]);
      expect(pod?.spec.nodeName).toBe(REAL_NODE_NAME);
      expect(pod !== undefined && ready(pod)).toBe(true);
      const ip = await k(['get', 'service', tapName, '-n', ns, '-o', 'jsonpath={.spec.clusterIP}']);
      base = `http://${ip}:8080/tap`;
      const avail = await fetch(`${base}/availability`);
      expect(avail.status).toBe(200);
      expect(await avail.text()).toMatch(/<(\w+:)?available>true</);
      const tables = await (await fetch(`${base}/tables`)).text();
      expect(tables).toContain('des_sample');
    });

    it('pyvo: a sync cone and an async job return the rows PostgreSQL has; the job is a QueryJob whose runner pod ran once', async () => {
      dumpOnFailure();
      expect(base, 'the TAP Service was found').not.toBe('');
      const [centre] = await dbRows('SELECT ra, dec FROM des_sample ORDER BY coadd_object_id LIMIT 1');
      const [ra, dec] = centre as [number, number];
      const cone = `CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', ${ra}, ${dec}, 10)) = 1`;
      const adql = `SELECT TOP 50 coadd_object_id, ra, dec FROM des_sample WHERE ${cone} ORDER BY coadd_object_id`;
      const want = await dbRows(
        `SELECT coadd_object_id, ra, dec FROM des_sample
          WHERE degrees(2 * asin(sqrt(sin(radians(dec - ${dec}) / 2) ^ 2
                + cos(radians(dec)) * cos(radians(${dec})) * sin(radians(ra - ${ra}) / 2) ^ 2))) <= 10
          ORDER BY coadd_object_id LIMIT 50`,
      );
      expect(want.length).toBe(50);

      const sync = await pyvo(python, base, TOKENS.alice, 'sync', 'ADQL', adql).done;
      expect(sync.columns).toEqual(['coadd_object_id', 'ra', 'dec']);
      expect(sync.rows).toEqual(want);
      log('pyvo run_sync: 50 rows equal to the database');

      const before = new Set(
        (await kubectlJson<{ items: QJ[] }>(['get', 'queryjobs', '-n', ns], { kubeconfig })).items.map(
          (q) => q.metadata.name,
        ),
      );
      const job = await pyvo(python, base, TOKENS.alice, 'async', 'ADQL', adql).done;
      expect(job.phase).toBe('COMPLETED');
      expect(job.rows).toEqual(want);
      log(`pyvo async job ${job.job ?? ''}: 50 rows equal to the database`);

      // The job is the QueryJob of its id, alice's; it is the only one pyvo created.
      const after = (
        await kubectlJson<{ items: QJ[] }>(['get', 'queryjobs', '-n', ns], { kubeconfig })
      ).items.filter((q) => !before.has(q.metadata.name));
      expect(after.map((q) => q.metadata.name)).toEqual([job.job]);
      const qj = await getQJ(job.job ?? '');
      expect(qj.spec.owner).toBe('alice');
      expect(qj.status).toMatchObject({ phase: 'COMPLETED', rows: 50, attempts: 1 });
      // Its runner really ran on the real node: one pod, exit 0.
      const pods = await runnerPods(qj);
      expect(
        pods.map((p) => [
          p.spec.nodeName,
          p.status?.phase,
          p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode,
        ]),
      ).toEqual([[REAL_NODE_NAME, 'Succeeded', 0]]);
    });

    it("another user's token gets 404 for the job and its result; no token gets 401", async () => {
      dumpOnFailure();
      const jobs = (await kubectlJson<{ items: QJ[] }>(['get', 'queryjobs', '-n', ns], { kubeconfig })).items;
      const job = jobs.find((q) => q.status?.phase === 'COMPLETED');
      expect(job, 'a completed job of the previous test').toBeDefined();
      const id = job?.metadata.name ?? '';
      const as = (token: string | undefined, path: string) =>
        fetch(`${base}/async/${id}${path}`, {
          redirect: 'manual',
          headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
        });
      // The owner sees it, and her result redirects to a signed URL that serves the file without a token.
      const mine = await as(TOKENS.alice, '');
      expect(mine.status).toBe(200);
      expect(await mine.text()).toMatch(/<uws:phase>COMPLETED<\/uws:phase>/);
      const redirect = await as(TOKENS.alice, '/results/result');
      expect(redirect.status).toBe(303);
      const signed = redirect.headers.get('location') ?? '';
      expect(signed).toMatch(/\/files\/.+\?expires=\d+&sig=/);
      const file = await fetch(new URL(signed, base));
      expect(file.status).toBe(200);
      expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(0);
      for (const path of ['', '/phase', '/results', '/results/result']) {
        expect([path, (await as(TOKENS.bob, path)).status]).toEqual([path, 404]);
        expect([path, (await as(undefined, path)).status]).toEqual([path, 401]);
      }
      const bobsList = await (
        await fetch(`${base}/async`, { headers: { Authorization: `Bearer ${TOKENS.bob}` } })
      ).text();
      expect(bobsList).not.toContain(id);
    });

    it('the TAP pod killed while pyvo blocks in WAIT: a new pod answers and the job completes once', async () => {
      dumpOnFailure();
      const [old] = await tapPods();
      expect(old, 'one TAP pod').toBeDefined();
      // A count over a self-join: one row, seconds of runner time on the real node.
      const sql =
        'SELECT count(*) AS n FROM des_sample a, des_sample b WHERE a.coadd_object_id % 20 = 0 AND a.ra < b.ra';
      const p = pyvo(python, base, TOKENS.alice, 'async', 'PG-SQL', sql);
      const id = await eventually(() => p.events.find((e) => e.event === 'job')?.id ?? false, {
        timeoutMs: 60_000,
        description: 'pyvo created the job',
      });
      await eventually(async () => (await getQJ(id)).status?.phase === 'EXECUTING', {
        timeoutMs: 120_000,
        intervalMs: 200,
        description: `${id} EXECUTING`,
      });
      // pyvo's wait() is in a blocking WAIT on the old pod: its last request started and has not ended.
      const inWait = await eventually(
        () => {
          const last = p.events.at(-1);
          return last?.event === 'start' && last.wait !== null && last.wait !== undefined ? last : false;
        },
        { timeoutMs: 30_000, intervalMs: 50, description: 'pyvo blocks in WAIT' },
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(p.events.at(-1), 'still in that WAIT').toBe(inWait);
      expect((await getQJ(id)).status?.phase, 'the job still runs').toBe('EXECUTING');
      // Killed as a lost node or an OOM would: the process at once, then the pod object.
      const container =
        old?.status?.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '') ?? '';
      await execFileP(join(nodeCacheDir(), 'bin', 'ctr'), [
        '--address',
        nodeDirs(dirname(kubeconfig)).containerdSocket,
        '-n',
        'k8s.io',
        'tasks',
        'kill',
        '--signal',
        'SIGKILL',
        container,
      ]);
      await k([
        'delete',
        'pod',
        old?.metadata.name ?? '',
        '-n',
        ns,
        '--grace-period=0',
        '--force',
        '--wait=false',
      ]);
      const killedAt = Date.now();
      log(`Killed TAP pod ${old?.metadata.name ?? ''} while pyvo waited on ${id}`);
      // The database's own count, while the TAP pod comes back.
      const want = dbRows(sql);
      const fresh = await eventually(
        async () => {
          const pods = (await tapPods()).filter((x) => x.metadata.uid !== old?.metadata.uid && ready(x));
          return pods[0] ?? false;
        },
        { timeoutMs: 120_000, intervalMs: 500, description: 'a new TAP pod Ready' },
      );
      log(
        `New TAP pod ${fresh.metadata.name} Ready ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`,
      );
      const out = await p.done;
      log(`pyvo's job ${id} ended ${out.phase ?? ''}`);
      // What pyvo saw: the WAIT in flight failed with a connection error, and a later request succeeded.
      const i = p.events.indexOf(inWait);
      const ended = p.events.slice(i + 1).find((e) => e.event === 'end' && e.url === inWait.url);
      expect(ended?.error, 'the WAIT in flight failed when the pod died').toMatch(
        /ConnectionError|ChunkedEncoding/,
      );
      const after = p.events.filter((e) => e.event === 'end' && e.t * 1000 > killedAt);
      log(
        'pyvo after the kill: ' +
          p.events
            .filter((e) => e.t * 1000 > killedAt - 2000)
            .map(
              (e) =>
                `${(e.t - killedAt / 1000).toFixed(1)} ${e.event} ${e.method ?? ''} WAIT=${e.wait ?? ''} ${e.status ?? e.error ?? ''}`,
            )
            .join('; '),
      );
      const since = (t: number | undefined) =>
        t === undefined ? '-' : `${(t - killedAt / 1000).toFixed(1)} s`;
      log(
        `pyvo: the WAIT in flight ended ${since(ended?.t)} after the kill; ${after.filter((e) => e.error).length} failed ` +
          `requests, the first answer ${since(after.find((e) => e.status !== undefined)?.t)} after it`,
      );
      expect(out.phase).toBe('COMPLETED');
      expect(out.rows).toEqual(await want);
      // Once: one QueryJob for the id, one attempt, one runner pod.
      const qj = await getQJ(id);
      expect(qj.status).toMatchObject({ phase: 'COMPLETED', rows: 1, attempts: 1 });
      const ms = (iso?: string) => (iso === undefined ? NaN : Date.parse(iso));
      log(
        `QueryJob ${id}: runner Job ${((ms(qj.status?.endTime) - ms(qj.status?.startTime)) / 1000).toFixed(0)} s, ` +
          `ended ${((ms(qj.status?.endTime) - killedAt) / 1000).toFixed(0)} s after the kill`,
      );
      expect((await runnerPods(qj)).map((x) => x.status?.phase)).toEqual(['Succeeded']);
      expect(fresh.spec.nodeName).toBe(REAL_NODE_NAME);
    });
  },
);

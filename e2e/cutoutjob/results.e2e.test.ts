// An ImageCollection's results server (spec.results.serve) on the real local control plane: the operator makes its
// Deployment, Service, ServiceAccount, Role and RoleBinding owned by the collection under restricted Pod Security,
// reports status.results.url, gives a COMPLETED CutoutJob its resultsUrl (the test plays the kubelet for the runner
// pods, as cutoutjob.e2e.test.ts), and the server itself — `main.ts serve` run as a process on the host, with a token
// of the ServiceAccount the operator made — reads the job's owner through the apiserver with only the Role the
// operator granted.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, kubectl, repoRoot, serviceAccountToken, ToolError } from '../cluster/index.js';
import { operatorSuite } from '../operator/suite.js';
import { cutoutKit } from './support.js';

const TOKENS = { alice: 'alice-token-0123456789abcdef', bob: 'bob-token-0123456789abcdef0' } as const;
const KEY = 'k'.repeat(40);

const suite = operatorSuite({
  namespace: 'cutout-results',
  profiles: [],
  setUp: async (ns) => {
    // The apiserver's PodSecurity admission refuses any pod of this namespace that is not "restricted".
    await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
    for (const claim of ['des-tiles', 'des-cutouts'])
      await apply({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: claim, namespace: ns },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      });
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'des-results-server', namespace: ns },
      stringData: {
        tokens: Object.entries(TOKENS)
          .map(([u, t]) => `${u} ${t}`)
          .join('\n'),
        'signing-key': KEY,
      },
    });
  },
});
const HOLD = { 'e2e.skyport.io/complete-after': '1h' };
const { apply, get, list, waitFor, endPod, runningPods } = cutoutKit(() => suite.ns());

/**
 * Runs `main.ts serve` (through tsx) as its own process with `env`; resolves once it listens, with its port and a
 * stop that sends SIGTERM and resolves with the exit code.
 */
async function startServeProcess(
  env: Record<string, string>,
): Promise<{ port: number; stop: () => Promise<number | string> }> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'services/cutout-runner/src/main.ts'), 'serve'],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killOnExit = (): void => void proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | string>((resolve) =>
    proc.on('exit', (code, signal) => {
      process.removeListener('exit', killOnExit);
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
      const m = /"port":(\d+)/.exec(line);
      if (m?.[1] !== undefined) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`serve exited ${code} before listening: ${stderr}`)));
  });
  return {
    port,
    stop: () => {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

const serve = (enabled = true) => ({
  apiVersion: 'skyport.io/v1alpha1',
  kind: 'ImageCollection',
  metadata: { name: 'des', namespace: suite.ns() },
  spec: {
    source: { persistentVolumeClaim: { claimName: 'des-tiles', path: 'coadd' } },
    results: {
      persistentVolumeClaim: { claimName: 'des-cutouts', path: 'out' },
      serve: { enabled, secretName: 'des-results-server' },
    },
  },
});

const KINDS = ['deployment', 'service', 'serviceaccount', 'role', 'rolebinding'] as const;
let indexReport = '';
const manifest = 'ROW,ID,RA,DEC,STATUS,TILENAME,FILES,COVERAGE,REASON\n1,centre,0,-30,ok,T11,,1.000000,\n';
let work = '';

beforeAll(async () => {
  const survey = mkdtempSync(join(tmpdir(), 'skyport-e2e-survey-'));
  work = mkdtempSync(join(tmpdir(), 'skyport-e2e-results-'));
  const gen = (await import(
    pathToFileURL(join(repoRoot, 'services/cutout-runner/src/survey/generate.ts')).href
  )) as { generateSurvey: (o: Record<string, unknown>) => unknown };
  const idx = (await import(
    pathToFileURL(join(repoRoot, 'services/cutout-runner/src/survey/tile-index.ts')).href
  )) as { buildIndex: (dir: string) => unknown };
  const main = (await import(pathToFileURL(join(repoRoot, 'services/cutout-runner/src/main.ts')).href)) as {
    indexSummary: (index: unknown, path: string) => string;
  };
  gen.generateSurvey({ dir: survey, tileSize: 256, bands: ['g', 'r', 'i'], starsPerTile: 1 });
  indexReport = main.indexSummary(idx.buildIndex(survey), '/tiles/tiles.json');
  rmSync(survey, { recursive: true, force: true });
  await suite.start({
    args: ['--controllers=imagecollection,cutoutjob'],
    env: { SKYPORT_CUTOUT_POD_ANNOTATION_PREFIXES: 'e2e.skyport.io/' },
  });
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('ImageCollection spec.results.serve', () => {
  let url = '';

  it('makes the results server children, owned by the collection, restricted, and status.results.url', async () => {
    suite.dumpOnFailure();
    await apply(serve());
    const c = await waitFor('imagecollection', 'des', 'serving', (o) => o.status?.['results'] !== undefined);
    url = `http://des-results.${suite.ns()}.svc:8080`;
    expect(c.status?.['results']).toMatchObject({ url, replicas: 1 });
    for (const kind of KINDS) {
      const o = await get(kind, 'des-results');
      expect(o.metadata.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'ImageCollection',
          name: 'des',
          uid: c.metadata.uid,
          controller: true,
        }),
      ]);
    }
    const d = await get('deployment', 'des-results');
    const pod = (d.spec?.['template'] as { spec: Record<string, unknown> }).spec;
    expect(pod['securityContext']).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const [ctr] = pod['containers'] as Record<string, unknown>[];
    expect(ctr?.['args']).toEqual(['serve']);
    expect(ctr?.['securityContext']).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(ctr?.['volumeMounts']).toContainEqual({
      name: 'results',
      mountPath: '/results',
      readOnly: true,
      subPath: 'out',
    });
    expect((await get('role', 'des-results')).rules).toEqual([
      { apiGroups: ['skyport.io'], resources: ['cutoutjobs'], verbs: ['get', 'list'] },
    ]);
    expect((await get('rolebinding', 'des-results')).subjects).toEqual([
      { kind: 'ServiceAccount', name: 'des-results', namespace: suite.ns() },
    ]);
    // The Deployment controller makes the pod (admitted as "restricted") and kwok runs it: the collection reports
    // it ready.
    await waitFor(
      'imagecollection',
      'des',
      'with a ready results server',
      (o) => (o.status?.['results'] as { readyReplicas?: number }).readyReplicas === 1,
    );
  });

  let uid8 = '';
  it('gives a COMPLETED CutoutJob its resultsUrl', async () => {
    suite.dumpOnFailure();
    // kwok ends the indexing pod without a report (no runner ran); the test gives it the runner's.
    const c = await waitFor('imagecollection', 'des', 'Failed', (o) => o.status?.phase === 'Failed');
    const [ip] = await list('pods', `batch.kubernetes.io/job-name=${String(c.status?.['indexJob'])}`);
    await endPod(ip!, indexReport);
    await waitFor('imagecollection', 'des', 'Ready', (o) => o.status?.phase === 'Ready');
    await apply({
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'CutoutJob',
      metadata: { name: 'lens', namespace: suite.ns(), annotations: HOLD },
      spec: {
        owner: 'alice',
        imageCollection: 'des',
        positions: { inline: 'RA,DEC,ID\n0.0,-30.0,centre\n' },
        size: { xsize: 10, unit: 'arcsec' },
      },
    });
    const [shard] = await runningPods('lens-shards', 1);
    const j = await get('cutoutjob', 'lens');
    expect(j.status?.['resultsUrl']).toBeUndefined();
    uid8 = j.metadata.uid.slice(0, 8);
    await endPod(shard!, '{}');
    const [merge] = await runningPods('lens-merge', 1);
    const sha = createHash('sha256').update(manifest).digest('hex');
    await endPod(
      merge!,
      JSON.stringify({
        positions: 1,
        counts: { ok: 1, partial: 0, unmatched: 0, failed: 0 },
        files: 0,
        bytes: 0,
        missingShards: [],
        results: [{ id: 'manifest', path: 'manifest.csv', size: manifest.length, sha256: sha }],
      }),
    );
    const done = await waitFor('cutoutjob', 'lens', 'COMPLETED', (o) => o.status?.phase === 'COMPLETED');
    expect(done.status?.['resultsUrl']).toBe(`${url}/cutoutjobs/lens`);
    expect(done.status?.['outputPath']).toBe(`out/cutoutjobs/lens-${uid8}`);
  });

  it('serves the job to its owner only, as the ServiceAccount the operator made (its Role, nothing more)', async () => {
    suite.dumpOnFailure();
    // The results volume as the server's pod mounts it (subPath `out`): cutoutjobs/<name>-<uid8>/.
    const results = join(work, 'results');
    mkdirSync(join(results, 'cutoutjobs', `lens-${uid8}`), { recursive: true });
    writeFileSync(join(results, 'cutoutjobs', `lens-${uid8}`, 'manifest.csv'), manifest);
    writeFileSync(
      join(work, 'tokens'),
      Object.entries(TOKENS)
        .map(([u, t]) => `${u} ${t}\n`)
        .join(''),
    );
    writeFileSync(join(work, 'key'), KEY);
    writeFileSync(join(work, 'sa-token'), await serviceAccountToken(suite.ns(), 'des-results'));
    const kc = readFileSync(process.env['SKYPORT_KUBECONFIG'] ?? '', 'utf8');
    const server = /server:\s*(\S+)/.exec(kc)?.[1];
    const caData = /certificate-authority-data:\s*(\S+)/.exec(kc)?.[1];
    if (server === undefined || caData === undefined) throw new Error('no server or CA in the kubeconfig');
    writeFileSync(join(work, 'ca.crt'), Buffer.from(caData, 'base64'));
    const s = await startServeProcess({
      CUTOUT_SERVE_PORT: '0',
      CUTOUT_SERVE_HOST: '127.0.0.1',
      CUTOUT_SERVE_RESULTS_DIR: results,
      CUTOUT_SERVE_COLLECTION: 'des',
      CUTOUT_SERVE_TOKENS_FILE: join(work, 'tokens'),
      CUTOUT_SERVE_SIGNING_KEY_FILE: join(work, 'key'),
      CUTOUT_SERVE_NAMESPACE: suite.ns(),
      CUTOUT_SERVE_APISERVER: server,
      CUTOUT_SERVE_APISERVER_TOKEN_FILE: join(work, 'sa-token'),
      CUTOUT_SERVE_APISERVER_CA_FILE: join(work, 'ca.crt'),
    });
    try {
      const base = `http://127.0.0.1:${s.port}`;
      const as = (u: keyof typeof TOKENS) => ({ headers: { Authorization: `Bearer ${TOKENS[u]}` } });
      const res = await fetch(`${base}/cutoutjobs/lens`, as('alice'));
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        phase: string;
        files: { name: string; bytes: number; sha256?: string; url: string }[];
      };
      expect(body.phase).toBe('COMPLETED');
      expect(body.files.map((f) => [f.name, f.bytes, f.sha256])).toEqual([
        ['manifest.csv', manifest.length, createHash('sha256').update(manifest).digest('hex')],
      ]);
      const file = await fetch(body.files[0]?.url ?? '');
      expect(file.status).toBe(200);
      expect(await file.text()).toBe(manifest);
      expect((await fetch(`${base}/cutoutjobs/lens`, as('bob'))).status).toBe(404);
      expect((await fetch(`${base}/cutoutjobs/nosuch`, as('alice'))).status).toBe(404);
      expect((await fetch(`${base}/cutoutjobs/lens`)).status).toBe(401);
      // The Role is all the ServiceAccount holds: it may not read Secrets or write CutoutJobs.
      for (const [verb, what] of [
        ['get', 'secrets'],
        ['patch', 'cutoutjobs.skyport.io'],
      ] as const)
        expect(
          (
            await kubectl([
              'auth',
              'can-i',
              verb,
              what,
              '-n',
              suite.ns(),
              `--as=system:serviceaccount:${suite.ns()}:des-results`,
            ]).catch((e: unknown) => (e instanceof ToolError ? e.stdout : String(e)))
          ).trim(),
        ).toBe('no');
    } finally {
      // SIGTERM: it stops accepting and exits 0.
      expect(await s.stop()).toBe(0);
    }
  });

  it('removes the children, status.results and the resultsUrl when serving is disabled', async () => {
    suite.dumpOnFailure();
    await apply(serve(false));
    await waitFor('imagecollection', 'des', 'not serving', (o) => o.status?.['results'] === undefined);
    await eventually(
      async () => {
        for (const kind of KINDS)
          if ((await list(kind, 'app.kubernetes.io/component=results')).length > 0)
            throw new Error(`a ${kind} is left`);
      },
      { timeoutMs: 60_000, description: 'the results children deleted' },
    );
    await waitFor('cutoutjob', 'lens', 'without resultsUrl', (o) => o.status?.['resultsUrl'] === undefined);
  });
});

// After `helm uninstall` (issue 9, item 11) labs being deleted wait forever on the skyport.io/home-volume
// finalizer, which only the operator removes; scripts/release-labs.sh releases them, keeping every home PVC.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  binDir,
  createNamespace,
  deleteNamespace,
  dumpDiagnostics,
  eventually,
  helm,
  kubeconfigForToken,
  kubectl,
  kubectlJson,
  repoRoot,
  serviceAccountToken,
  uniqueName,
} from '../cluster/index.js';
import { profile } from '../notebooklab/support.js';
import { startOperator, type OperatorProcess } from '../operator/support.js';

const CHART = join(repoRoot, 'charts', 'skyport');
const FINALIZER = 'skyport.io/home-volume';
const run = uniqueName('uninst');
const P = { retain: `${run}-retain`, del: `${run}-delete` };
let relNs = '';
let labNs = '';
let release = '';
let op: OperatorProcess | undefined;

interface Meta {
  metadata: { name: string; uid: string; deletionTimestamp?: string; finalizers?: string[] };
}

/** Runs scripts/release-labs.sh with the cluster's kubectl and admin kubeconfig. */
function releaseLabs(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((ok) => {
    execFile(
      'bash',
      [join(repoRoot, 'scripts', 'release-labs.sh'), ...args],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          KUBECTL: join(binDir(), 'kubectl'),
          KUBECONFIG: process.env['SKYPORT_KUBECONFIG'] ?? '',
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        ok({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }),
    );
  });
}

async function names(kind: string, ns: string, selector: string): Promise<string[]> {
  const l = await kubectlJson<{ items: Meta[] }>(['get', kind, '-n', ns, '-l', selector]);
  return l.items.map((i) => i.metadata.name).sort();
}

beforeAll(async () => {
  relNs = await createNamespace('uninst-rel');
  labNs = await createNamespace('uninst-labs');
  release = uniqueName('sky');
  await helm(
    ['install', release, CHART, '-n', relNs, '--set', 'replicaCount=1', '--wait', '--timeout', '120s'],
    {
      timeoutMs: 150_000,
    },
  );
  // The operator runs as a local process with the release's ServiceAccount, as run-local does.
  const token = await serviceAccountToken(relNs, `${release}-skyport`);
  const kubeconfig = kubeconfigForToken(token, { userName: 'skyport-operator' });
  await kubectl(['apply', '-f', '-'], {
    input: [profile(P.retain), profile(P.del, { home: { size: '1Gi', retainPolicy: 'Delete' } })]
      .map((p) => JSON.stringify(p))
      .join('\n'),
  });
  op = await startOperator({
    kubeconfig,
    identity: `${run}-op`,
    args: [`--lease-name=${run}`, `--lease-namespace=${relNs}`, `--namespaces=${labNs}`],
  });
});

afterAll(async () => {
  await op?.stop('SIGKILL');
  if (release !== '') await helm(['uninstall', release, '-n', relNs]).catch(() => undefined);
  for (const ns of [labNs, relNs]) if (ns !== '') await deleteNamespace(ns);
  for (const p of Object.values(P))
    await kubectl(['delete', 'notebookprofile', p, '--ignore-not-found', '--wait=false']).catch(
      () => undefined,
    );
});

describe('helm uninstall with labs left', () => {
  it('labs hang on the home finalizer; release-labs.sh releases them and keeps every home PVC', async () => {
    onTestFailed(async () => {
      console.error(await dumpDiagnostics(labNs, op === undefined ? [] : [op.logFile]));
    });
    const labs = { keep: P.retain, gone: P.del };
    await kubectl(['apply', '-f', '-'], {
      input: Object.entries(labs)
        .map(([name, p]) =>
          JSON.stringify({
            apiVersion: 'skyport.io/v1alpha1',
            kind: 'NotebookLab',
            metadata: { name, namespace: labNs },
            spec: { owner: name, profile: p },
          }),
        )
        .join('\n'),
    });
    await kubectl([
      'wait',
      '--for=jsonpath={.status.phase}=Running',
      '--timeout=90s',
      '-n',
      labNs,
      'notebooklab',
      'keep',
      'gone',
    ]);
    const homes = await kubectlJson<{ items: Meta[] }>(['get', 'pvc', '-n', labNs]);
    expect(homes.items.map((p) => p.metadata.name).sort()).toEqual(['gone-home', 'keep-home']);

    // Uninstall: the operator stops and the release goes (the CRDs stay, and so do the labs).
    await op?.stop();
    op = undefined;
    await helm(['uninstall', release, '-n', relNs, '--wait', '--timeout', '60s']);
    release = '';
    await kubectl(['delete', 'notebooklab', 'keep', 'gone', '-n', labNs, '--wait=false']);
    // Nothing is left to remove the finalizer: the labs stay, being deleted, with their Pods.
    const stuck = await kubectlJson<{ items: Meta[] }>(['get', 'notebooklabs', '-n', labNs]);
    expect(stuck.items).toHaveLength(2);
    for (const l of stuck.items) {
      expect(l.metadata.deletionTimestamp, l.metadata.name).toBeDefined();
      expect(l.metadata.finalizers, l.metadata.name).toContain(FINALIZER);
    }
    expect(await names('pods', labNs, 'app.kubernetes.io/component=lab')).toEqual(['gone-lab', 'keep-lab']);

    const dry = await releaseLabs(['-n', labNs, '--dry-run']);
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out).toContain(`Would release ${labNs}/gone; home kept: gone-home`);
    expect((await kubectlJson<{ items: Meta[] }>(['get', 'notebooklabs', '-n', labNs])).items).toHaveLength(
      2,
    );

    const out = await releaseLabs(['-n', labNs]);
    expect(out.code, out.out).toBe(0);
    expect(out.out).toContain(`Released ${labNs}/keep; home kept: keep-home`);
    expect(out.out).toContain(`Released ${labNs}/gone; home kept: gone-home`);
    await eventually(
      async () =>
        (await kubectlJson<{ items: Meta[] }>(['get', 'notebooklabs', '-n', labNs])).items.length === 0,
      { timeoutMs: 30_000, description: 'labs deleted' },
    );
    // The garbage collector deletes what the labs owned; every home stays, the Delete-policy one too, unchanged.
    await eventually(
      async () =>
        (await names('pods,services,secrets,networkpolicies', labNs, 'app.kubernetes.io/name=notebooklab'))
          .length === 0,
      { timeoutMs: 60_000, description: 'owned children collected' },
    );
    const after = await kubectlJson<{ items: Meta[] }>(['get', 'pvc', '-n', labNs]);
    expect(after.items.map((p) => [p.metadata.name, p.metadata.uid]).sort()).toEqual(
      homes.items.map((p) => [p.metadata.name, p.metadata.uid]).sort(),
    );
    expect(after.items.every((p) => p.metadata.deletionTimestamp === undefined)).toBe(true);
    // Nothing else is waiting: a second run finds no lab.
    const again = await releaseLabs(['-n', labNs]);
    expect(again).toEqual({ code: 0, out: `No NotebookLab is waiting on the ${FINALIZER} finalizer\n` });
  });
});

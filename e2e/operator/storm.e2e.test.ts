// The start storm of issue 9's "Done when": N labs created at once while the operator is kill -9'd twice end with
// exactly one Pod, PVC, Service, Secret and NetworkPolicy per lab and nothing else of ours in the namespace.
// N is SKYPORT_STORM_LABS (default 200, the number; about a minute here, see the test's log line).
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  createNamespace,
  deleteNamespace,
  dumpDiagnostics,
  eventually,
  kubectl,
  kubectlJson,
  uniqueName,
} from '../cluster/index.js';
import { profile } from '../notebooklab/support.js';
import { installChartOnce, startOperator, type OperatorProcess } from './support.js';

const N = Number(process.env['SKYPORT_STORM_LABS'] ?? 200);
const KINDS = ['pods', 'persistentvolumeclaims', 'services', 'secrets', 'networkpolicies'] as const;
const run = uniqueName('storm');
const PROFILE = `${run}-p`;
let kubeconfig = '';
let ns = '';
const started: OperatorProcess[] = [];

interface Item {
  metadata: { name: string; uid: string; labels?: Record<string, string> };
  status?: { phase?: string };
}

async function list(kind: string, selector?: string): Promise<Item[]> {
  const sel = selector === undefined ? [] : ['-l', selector];
  return (await kubectlJson<{ items: Item[] }>(['get', kind, '-n', ns, ...sel])).items;
}

/** A fresh operator process on this namespace; leader election off, so a restart takes over at once. */
async function operator(i: number): Promise<OperatorProcess> {
  const op = await startOperator({
    kubeconfig,
    identity: `${run}-${i}`,
    args: ['--no-leader-elect', `--namespaces=${ns}`, '--workers=4'],
  });
  started.push(op);
  return op;
}

const podsCreated = (op: OperatorProcess): number => op.log().match(/Created lab Pod/g)?.length ?? 0;

beforeAll(async () => {
  kubeconfig = await installChartOnce();
  ns = await createNamespace('storm');
  const small = { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } };
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify(
      profile(PROFILE, {
        sizes: [{ name: 'small', ...small }],
        home: { size: '1Gi', retainPolicy: 'Delete' },
        quota: { maxLabs: 10 },
      }),
    ),
  });
});

afterAll(async () => {
  for (const op of started) await op.stop('SIGKILL');
  if (ns !== '') await deleteNamespace(ns);
  await kubectl(['delete', 'notebookprofile', PROFILE, '--ignore-not-found', '--wait=false']).catch(
    () => undefined,
  );
});

describe('start storm', () => {
  it(`${N} labs through two kill -9 of the operator: exactly one of each child per lab, no orphans`, async () => {
    onTestFailed(async () => {
      console.error(
        await dumpDiagnostics(
          ns,
          started.map((o) => o.logFile),
        ),
      );
    });
    const t0 = performance.now();
    const first = await operator(1);
    const docs = Array.from({ length: N }, (_, i) =>
      JSON.stringify({
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'NotebookLab',
        metadata: { name: `s${i}`, namespace: ns },
        spec: { owner: `u${i}`, profile: PROFILE },
      }),
    );
    await kubectl(['apply', '-f', '-'], { input: docs.join('\n'), timeoutMs: 120_000 });
    // Kill each operator mid-storm, once it has created a tenth of the Pods: others are half done.
    const step = Math.max(1, Math.floor(N / 10));
    await eventually(() => podsCreated(first) >= step, {
      timeoutMs: 60_000,
      intervalMs: 50,
      description: 'first Pods',
    });
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    const second = await operator(2);
    await eventually(() => podsCreated(second) >= step, {
      timeoutMs: 60_000,
      intervalMs: 50,
      description: 'more Pods',
    });
    expect(await second.stop('SIGKILL')).toBe('SIGKILL');
    const notDone = (await list('notebooklabs')).filter((l) => l.status?.phase !== 'Running').length;
    expect(notDone, 'labs still starting at the second kill').toBeGreaterThan(0);

    const third = await operator(3);
    await eventually(async () => (await list('notebooklabs')).every((l) => l.status?.phase === 'Running'), {
      timeoutMs: 180_000,
      intervalMs: 1_000,
      description: 'every lab Running',
    });
    const labs = await list('notebooklabs');
    expect(labs).toHaveLength(N);
    const uids = new Set(labs.map((l) => l.metadata.uid));
    for (const kind of KINDS) {
      // Everything of ours in the namespace, whichever lab (or none) it belongs to.
      const items = await list(kind, 'app.kubernetes.io/managed-by=skyport-operator');
      const per = new Map<string, number>();
      for (const o of items) {
        const uid = o.metadata.labels?.['skyport.io/owner-uid'] ?? '(none)';
        per.set(uid, (per.get(uid) ?? 0) + 1);
      }
      const orphans = [...per.keys()].filter((u) => !uids.has(u));
      expect(orphans, `${kind} of no lab`).toEqual([]);
      const dup = [...per.entries()].filter(([, n]) => n !== 1);
      expect(dup, `${kind}: more than one per lab`).toEqual([]);
      expect(items, kind).toHaveLength(N);
    }
    const secs = (performance.now() - t0) / 1000;
    console.log(`storm: ${N} labs, two kill -9, all Running and exact in ${secs.toFixed(1)} s`);
    await third.stop();
  }, 300_000);
});

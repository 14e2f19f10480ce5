// `npm run bench:requests`: what one write of each kind the NotebookLab operator makes costs kube-apiserver and etcd
// in CPU, each beside its alternative, on a fresh local control plane. The numbers behind two choices: the lab Pod is
// created by POST rather than by a server-side apply that creates it, and a status write costs by its size (the
// reason progress-only changes are coalesced; see operator/src/controllers/notebooklab/README.md).
//
// Flags: --n=N requests per measurement (default 400), --concurrency=N in flight (default 8).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kubectl, repoRoot, startCluster } from '../cluster/index.js';
import { MiniClient, cpuSeconds, flag, pool } from './support.js';

const N = flag('n', 400);
const CONCURRENCY = flag('concurrency', 8);
const APPLY = 'application/apply-patch+yaml';
const LABS = '/apis/skyport.io/v1alpha1/namespaces/labs/notebooklabs';
type Obj = { kind: string; metadata: Record<string, unknown>; spec?: Record<string, unknown> };

/** The builder's children of one lab (its golden file), without ownerReferences, renamed per request. */
function children(): Map<string, Obj> {
  const file = join(repoRoot, 'operator/src/controllers/notebooklab/__golden__/default.yaml');
  const out = new Map<string, Obj>();
  for (const d of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const o = d.toJSON() as Obj;
    delete o.metadata['ownerReferences'];
    out.set(o.kind, o);
  }
  // What other components do in reaction (schedule and run a Pod, provision and bind a claim, keep a Service's
  // endpoints) would land in the next measurement: measure the request alone. A gated Pod is never scheduled; a
  // Service without a selector gets no endpoints; a claim of a class nothing provisions stays Pending (measured
  // last: kube-controller-manager re-checks pending claims every 15 s and records an Event each time).
  const pod = out.get('Pod');
  if (pod?.spec !== undefined) pod.spec['schedulingGates'] = [{ name: 'skyport.io/bench' }];
  const svc = out.get('Service');
  if (svc?.spec !== undefined) delete svc.spec['selector'];
  const pvc = out.get('PersistentVolumeClaim');
  if (pvc?.spec !== undefined) pvc.spec['storageClassName'] = 'bench-none';
  return out;
}

const renamed = (o: Obj, ns: string, i: number): Obj => ({
  ...o,
  metadata: { ...o.metadata, name: `x${i}`, namespace: ns },
});

/** A lab status of the given size: `steps` progress steps and the three conditions (or none). */
function status(phase: string, steps: number, conditions: boolean, tag: number): Record<string, unknown> {
  const now = new Date().toISOString();
  const names = ['Admitted', 'HomeVolume', 'Secret', 'Service', 'NetworkPolicy', 'Pod', 'Scheduled'];
  const all = [...names, 'ImagePulled', 'ServerReady'];
  return {
    phase,
    observedGeneration: 1,
    ...(conditions
      ? {
          url: 'http://x0-lab.labs.svc:8888/user/alice/x0/lab',
          conditions: ['Ready', 'Progressing', 'Degraded'].map((type) => ({
            type,
            status: type === 'Degraded' ? 'False' : 'True',
            reason: phase,
            message: `Lab is ${phase.toLowerCase()} (${tag})`,
            lastTransitionTime: now,
            observedGeneration: 1,
          })),
        }
      : {}),
    ...(steps === 0
      ? {}
      : {
          progress: all.slice(0, steps).map((name) => ({
            name,
            state: 'Succeeded',
            startedAt: now,
            finishedAt: now,
          })),
        }),
  };
}

async function main(): Promise<void> {
  const cluster = await startCluster({ log: () => undefined });
  const client = new MiniClient(cluster.kubeconfigPath, CONCURRENCY);
  try {
    await kubectl(['apply', '--server-side', '-f', join(repoRoot, 'crds')], {
      kubeconfig: cluster.kubeconfigPath,
    });
    for (const ns of ['posted', 'applied', 'labs'])
      await client.request('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    // The CRD's resource must be served before the first lab.
    for (let i = 0; (await client.request('GET', LABS)).status !== 200; i++) {
      if (i > 100) throw new Error(`${LABS} is not served`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const objs = children();
    const results: { what: string; apiserver: number; etcd: number }[] = [];
    /** Runs N requests; apiserver and etcd CPU per request (ms), including 2 s for watchers to catch up. */
    const measure = async (
      what: string,
      req: (i: number) => Promise<{ status: number; text: string }>,
    ): Promise<number> => {
      const before = cpuSeconds();
      const failures: string[] = [];
      await pool(
        Array.from({ length: N }, (_, i) => i),
        CONCURRENCY,
        async (i) => {
          const r = await req(i);
          if (r.status >= 300) failures.push(`${r.status} ${r.text.slice(0, 200)}`);
        },
      );
      if (failures.length > 0) throw new Error(`${what}: ${failures.length} failed, e.g. ${failures[0]}`);
      await new Promise((r) => setTimeout(r, 2000));
      const after = cpuSeconds();
      const per = (k: string): number => (((after.get(k) ?? 0) - (before.get(k) ?? 0)) * 1000) / N;
      results.push({ what, apiserver: per('kube-apiserver'), etcd: per('etcd') });
      return per('kube-apiserver');
    };
    const pairs: string[] = [];
    /** POST, an apply that creates, and an apply that changes nothing, of one child kind. */
    const child = async (kind: string, path: string): Promise<void> => {
      const o = objs.get(kind);
      if (o === undefined) throw new Error(`no ${kind} in the golden file`);
      const base = (ns: string): string =>
        kind === 'NetworkPolicy'
          ? `/apis/networking.k8s.io/v1/namespaces/${ns}/${path}`
          : `/api/v1/namespaces/${ns}/${path}`;
      const post = await measure(`POST ${kind}`, (i) =>
        client.request('POST', base('posted'), renamed(o, 'posted', i)),
      );
      const applyUrl = (i: number): string => `${base('applied')}/x${i}?fieldManager=bench&force=true`;
      const apply = await measure(`APPLY ${kind} (creates)`, (i) =>
        client.request('PATCH', applyUrl(i), renamed(o, 'applied', i), APPLY),
      );
      await measure(`APPLY ${kind} (unchanged)`, (i) =>
        client.request('PATCH', applyUrl(i), renamed(o, 'applied', i), APPLY),
      );
      pairs.push(`${kind}: an apply that creates costs ${(apply / post).toFixed(2)}× a POST`);
    };
    await child('Pod', 'pods');
    await child('Service', 'services');
    await child('NetworkPolicy', 'networkpolicies');
    await measure('POST Event', (i) =>
      client.request('POST', '/api/v1/namespaces/labs/events', {
        metadata: { name: `e${i}`, namespace: 'labs' },
        involvedObject: { kind: 'NotebookLab', name: `x${i}`, namespace: 'labs' },
        reason: 'Ready',
        message: `Lab is ready at http://x${i}`,
        type: 'Normal',
        source: { component: 'skyport-operator' },
        count: 1,
      }),
    );
    const lab = (i: number): unknown => ({
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'NotebookLab',
      metadata: { name: `x${i}`, namespace: 'labs' },
      spec: { owner: 'alice', profile: 'default' },
    });
    await measure('POST NotebookLab', (i) => client.request('POST', LABS, lab(i)));
    const list = JSON.parse((await client.request('GET', LABS)).text) as {
      items: { metadata: { name: string; resourceVersion: string } }[];
    };
    const rv = new Map(list.items.map((l) => [l.metadata.name, l.metadata.resourceVersion]));
    await measure('PATCH NotebookLab finalizer', (i) =>
      client.request(
        'PATCH',
        `${LABS}/x${i}`,
        { metadata: { resourceVersion: rv.get(`x${i}`), finalizers: ['skyport.io/home-volume'] } },
        'application/merge-patch+json',
      ),
    );
    const writeStatus = (s: (i: number) => unknown) => (i: number) =>
      client.request(
        'PATCH',
        `${LABS}/x${i}/status?fieldManager=bench&force=true`,
        {
          apiVersion: 'skyport.io/v1alpha1',
          kind: 'NotebookLab',
          metadata: { name: `x${i}`, namespace: 'labs' },
          status: s(i),
        },
        APPLY,
      );
    const small = await measure(
      'APPLY status: phase only',
      writeStatus(() => status('Pending', 0, false, 0)),
    );
    await measure(
      'APPLY status: + 3 conditions',
      writeStatus((i) => status('Pending', 0, true, i)),
    );
    await measure(
      'APPLY status: + 6 progress steps',
      writeStatus((i) => status('Pending', 6, true, i + 1)),
    );
    const full = await measure(
      'APPLY status: Running, 9 steps',
      writeStatus((i) => status('Running', 9, true, i + 2)),
    );
    // The same Running status as a JSON merge patch (an Update to the field manager, no apply merge).
    const merged = await measure('MERGE status: Running, 9 steps', (i) =>
      client.request(
        'PATCH',
        `${LABS}/x${i}/status?fieldManager=bench`,
        { status: status('Running', 9, true, i + 3) },
        'application/merge-patch+json',
      ),
    );
    pairs.push(
      `NotebookLab status: a Running lab's status write costs ${(full / small).toFixed(2)}× a phase-only one`,
      `NotebookLab status: a merge patch of the Running status costs ${(merged / full).toFixed(2)}× its apply`,
    );
    await child('PersistentVolumeClaim', 'persistentvolumeclaims');

    console.log(
      `\nkube-apiserver and etcd CPU per request (${N} requests, ${CONCURRENCY} in flight, 2-core machine)`,
    );
    for (const r of results)
      console.log(
        `  ${r.what.padEnd(34)} apiserver ${r.apiserver.toFixed(2).padStart(5)} ms   etcd ${r.etcd.toFixed(2)} ms`,
      );
    console.log('');
    for (const p of pairs) console.log(`  ${p}`);
  } finally {
    client.close();
    await cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[bench:requests] Failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

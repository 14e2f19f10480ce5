// `npm run bench:operator`: 1,000 NotebookLabs on the local control plane through the operator, against the same
// children written directly by a minimal keep-alive client (the apiserver's own limit on this machine).
// Reports time until all Ready, reconcile p50/p99 from /metrics, operator peak RSS and the ratio of the two.
//
// Flags: --labs=N (default 1000), --workers=N (operator workers, default the operator's own), --concurrency=N (client writes in
// flight, default 32), --skip-direct, --direct-eager (baseline Pods written at once, not as claims bind), --rounds=N, --no-tuning, --pprof=FILE [--pprof-delay=S], --cpu-prof=DIR. SKYPORT_KUBECONFIG reuses a running cluster instead of starting one.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { eventually, kubectl, repoRoot, startCluster, type ClusterHandle } from '../cluster/index.js';
import { DEFAULT_WORKERS } from '../../operator/src/config.js';
import { installChartOnce, startOperator, type OperatorProcess } from '../operator/support.js';
import {
  MiniClient,
  apiserverRequests,
  cpuLine,
  cpuSeconds,
  flag,
  gaugeMb,
  histogramQuantile,
  pool,
  procMemMb,
  requestLines,
} from './support.js';

const LABS = flag('labs', 1000);
const WORKERS = flag('workers', DEFAULT_WORKERS);
const CONCURRENCY = flag('concurrency', 32);
const SKIP_DIRECT = process.argv.includes('--skip-direct');
/**
 * The baseline writes each Pod once its claim is bound, as the operator does: on this machine that is the faster
 * direct client (57.5 s against 74.0 s; Pods written at once sit in the scheduler's back-off and cost it thousands
 * of FailedScheduling writes). --direct-eager writes every Pod at once instead.
 */
const DIRECT_HOLD = !process.argv.includes('--direct-eager');
/** --rounds=N: N direct + operator pairs, each on fresh control planes; the verdicts use the medians. */
const ROUNDS = flag('rounds', 1);
/**
 * Memory settings for the operator process, as a Deployment would set them in its env: fewer glibc malloc arenas
 * (TLS and HTTP parsing on several threads fragment the default per-thread arenas) and a smaller young generation.
 * `--no-tuning` runs the operator with Node's defaults.
 */
const CPU_PROF = process.argv.find((a) => a.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length);
/** `--node-args="..."`: extra arguments to node for the operator (V8 flags NODE_OPTIONS refuses, e.g. GC tuning). */
const NODE_ARGS = (process.argv.find((a) => a.startsWith('--node-args='))?.slice('--node-args='.length) ?? '')
  .split(' ')
  .filter((a) => a !== '');
const OPERATOR_ENV: Record<string, string> = process.argv.includes('--no-tuning')
  ? {}
  : { MALLOC_ARENA_MAX: '2', NODE_OPTIONS: '--max-semi-space-size=8' };
const log = (m: string): void => console.log(`[bench:operator] ${m}`);

const PROFILE = 'bench';
const profile = {
  apiVersion: 'skyport.io/v1alpha1',
  kind: 'NotebookProfile',
  metadata: { name: PROFILE },
  spec: {
    images: { aliases: [{ name: 'recommended', image: 'quay.io/jupyter/scipy-notebook:2025-06-02' }] },
    // Tiny requests so 1,000 labs fit on the three fake nodes.
    sizes: [
      { name: 'tiny', requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
    ],
    defaultSize: 'tiny',
    home: { size: '1Gi', retainPolicy: 'Delete' },
    culling: { enabled: false, idleTimeout: '24h', maxLifetime: '168h', warnBefore: '30m' },
    quota: { maxLabs: 10 },
    network: { enabled: true, ingressNamespaces: ['skyport-proxy'] },
  },
};

/** The children the builder makes for one lab (its golden file), renamed for lab `i`, without ownerReferences. */
function directChildren(ns: string, i: number): { path: string; body: Record<string, unknown> }[] {
  const golden = readFileSync(
    join(repoRoot, 'operator', 'src', 'controllers', 'notebooklab', '__golden__', 'default.yaml'),
    'utf8',
  );
  const name = `d${i}`;
  const uid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const text = golden
    .replaceAll('alice-default', name)
    .replaceAll('6f1c2b9e-0000-4000-8000-000000000001', uid)
    .replaceAll('nb-alice', ns);
  const paths: Record<string, string> = {
    PersistentVolumeClaim: `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
    Secret: `/api/v1/namespaces/${ns}/secrets`,
    Service: `/api/v1/namespaces/${ns}/services`,
    NetworkPolicy: `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`,
    Pod: `/api/v1/namespaces/${ns}/pods`,
  };
  return parseAllDocuments(text).map((d) => {
    const body = d.toJS() as {
      kind: string;
      metadata: Record<string, unknown>;
      spec?: Record<string, unknown>;
    };
    // Owned by a lab that does not exist, the garbage collector would delete them.
    delete body.metadata['ownerReferences'];
    if (body.kind === 'PersistentVolumeClaim' && body.spec !== undefined) {
      delete body.spec['storageClassName'];
      body.spec['resources'] = { requests: { storage: profile.spec.home.size } };
    }
    if (body.kind === 'Pod' && body.spec !== undefined) {
      // The bench profile's size, as the operator would set it.
      const [ctr] = body.spec['containers'] as { resources: unknown }[];
      if (ctr !== undefined)
        ctr.resources = { requests: profile.spec.sizes[0]?.requests, limits: profile.spec.sizes[0]?.limits };
    }
    return { path: paths[body.kind] ?? '', body };
  });
}

interface PodLite {
  metadata?: { name?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

interface LabLite {
  metadata?: { name?: string };
  status?: { phase?: string };
}

/**
 * Counts the objects of a collection (at `path`) and those for which `ok` holds, following a watch from one list:
 * the measurement puts no periodic list load on the apiserver it measures (a list of 1,000 Pods every 10 s would).
 * A closed stream starts over from a new list.
 */
class Tally<T extends { metadata?: { name?: string } }> {
  readonly seen = new Set<string>();
  readonly passing = new Set<string>();
  private readonly passed = new Set<string>();
  private stopped = false;
  private stream: { done: Promise<void>; stop: () => void } | undefined;
  private wake: () => void = () => undefined;
  /** Settles when the tally stops; rejects if a list fails. */
  readonly running: Promise<void>;

  constructor(
    private readonly client: MiniClient,
    private readonly path: string,
    private readonly ok: (o: T) => boolean,
    /** Called once per name when it first passes. */
    private readonly onPass?: (name: string) => void,
  ) {
    this.running = this.follow();
    // Handled here for tallies nobody awaits; `waitAll` still races on it and sees a failed list.
    this.running.catch(() => undefined);
  }

  /** Resolves once `n` objects pass (or the tally stops). */
  until(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.passing.size >= n || this.stopped) resolve();
        else this.wake = check;
      };
      check();
    });
  }

  stop(): void {
    this.stopped = true;
    this.stream?.stop();
    this.wake();
  }

  private note(type: string, o: T): void {
    const name = o.metadata?.name ?? '';
    if (type === 'DELETED') {
      this.seen.delete(name);
      this.passing.delete(name);
    } else {
      this.seen.add(name);
      if (!this.ok(o)) this.passing.delete(name);
      else if (!this.passing.has(name)) {
        this.passing.add(name);
        if (this.onPass !== undefined && !this.passed.has(name)) {
          this.passed.add(name);
          this.onPass(name);
        }
      }
    }
    this.wake();
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      const r = await this.client.request('GET', this.path);
      if (r.status !== 200) throw new Error(`GET ${this.path} → ${r.status}: ${r.text.slice(0, 300)}`);
      const list = JSON.parse(r.text) as { items: T[]; metadata: { resourceVersion: string } };
      this.seen.clear();
      this.passing.clear();
      for (const o of list.items) this.note('ADDED', o);
      if (this.stopped) break;
      const q = `watch=1&allowWatchBookmarks=true&resourceVersion=${list.metadata.resourceVersion}`;
      this.stream = this.client.watch(`${this.path}?${q}`, (type, obj) => {
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.note(type, obj as T);
      });
      await this.stream.done.catch(() => undefined);
    }
  }
}

/** Waits until `ok` holds for `total` objects at `path`; `tick` runs every 10 s with the count. */
async function waitAll<T extends { metadata?: { name?: string } }>(
  client: MiniClient,
  what: string,
  path: string,
  ok: (o: T) => boolean,
  total: number,
  timeoutMs: number,
  tick: (n: number) => Promise<void> = (n) => {
    log(`  ${what}: ${n}/${total}`);
    return Promise.resolve();
  },
): Promise<void> {
  const tally = new Tally(client, path, ok);
  // A tick still reading when the wait ends must finish (or fail quietly) before the caller closes the client.
  let ticking = Promise.resolve();
  const timer = setInterval(() => {
    ticking = tick(tally.passing.size).catch((err: unknown) =>
      log(`  (progress line skipped: ${err instanceof Error ? err.message : String(err)})`),
    );
  }, 10_000);
  let timeout: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => (timeout = setTimeout(resolve, timeoutMs)));
  try {
    await Promise.race([tally.until(total), expired, tally.running]);
  } finally {
    clearInterval(timer);
    clearTimeout(timeout);
    tally.stop();
    await ticking;
  }
  if (tally.passing.size < total)
    throw new Error(`${what}: only ${tally.passing.size}/${total} after ${timeoutMs} ms`);
  log(`  ${what}: ${tally.passing.size}/${total}`);
}

const podReady = (p: PodLite): boolean =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

async function namespace(name: string): Promise<void> {
  await kubectl(['delete', 'namespace', name, '--ignore-not-found', '--wait=true', '--timeout=300s'], {
    timeoutMs: 320_000,
  });
  await kubectl(['create', 'namespace', name]);
}

/**
 * Baseline: the same 5 children per lab POSTed directly, then wait until every Pod is Ready. Each Pod is written
 * once its claim is bound (the operator's order); with --direct-eager at once, and the scheduler retries it until
 * the claim binds.
 */
async function direct(
  client: MiniClient,
  cleanUp: boolean,
): Promise<{ writeMs: number; readyMs: number; objects: number }> {
  const ns = 'bench-direct';
  await namespace(ns);
  const labs = Array.from({ length: LABS }, (_, i) => i);
  const before = await apiserverRequests(client);
  const cpu0 = cpuSeconds();
  const children = labs.map((i) => directChildren(ns, i));
  const isPod = (c: { body: Record<string, unknown> }): boolean => c.body['kind'] === 'Pod';
  const held = new Map<string, { path: string; body: unknown }>();
  const podWrites: Promise<void>[] = [];
  const bound = DIRECT_HOLD
    ? new Tally<{ metadata?: { name?: string }; status?: { phase?: string } }>(
        client,
        `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
        (c) => c.status?.phase === 'Bound',
        (claim) => {
          const pod = held.get(claim);
          if (pod !== undefined) podWrites.push(client.create(pod.path, pod.body));
        },
      )
    : undefined;
  if (DIRECT_HOLD)
    for (const [i, cs] of children.entries()) {
      const pod = cs.find(isPod);
      if (pod !== undefined) held.set(`d${i}-home`, pod);
    }
  const t0 = Date.now();
  // Children of one lab in the operator's order (PVC, Secret, Service, NetworkPolicy, Pod); labs in parallel.
  await pool(labs, CONCURRENCY, async (i) => {
    for (const c of children[i] ?? []) if (!DIRECT_HOLD || !isPod(c)) await client.create(c.path, c.body);
  });
  const writeMs = Date.now() - t0;
  log(
    `  direct: wrote ${LABS * (DIRECT_HOLD ? 4 : 5)} objects in ${writeMs} ms${DIRECT_HOLD ? ', Pods as claims bind' : ''}`,
  );
  await waitAll(client, 'direct pods Ready', `/api/v1/namespaces/${ns}/pods`, podReady, LABS, 600_000);
  const readyMs = Date.now() - t0;
  bound?.stop();
  await Promise.all(podWrites);
  log(`  direct ${cpuLine(cpu0, cpuSeconds(), readyMs)}`);
  log(`  direct apiserver ${requestLines(before, await apiserverRequests(client))}`);
  // On a shared cluster, leave it as found (a fresh one is thrown away instead).
  if (cleanUp)
    await kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=300s'], { timeoutMs: 320_000 });
  return { writeMs, readyMs, objects: LABS * 5 };
}

/** The operator run: create N NotebookLabs, wait until every one reports phase Running. */
async function throughOperator(
  client: MiniClient,
  kubeconfig: string,
): Promise<{
  readyMs: number;
  p50: number;
  p99: number;
  rssMb: number;
  reconciles: number;
  op: OperatorProcess;
}> {
  const ns = 'bench-operator';
  await namespace(ns);
  const op = await startOperator({
    kubeconfig,
    identity: 'bench',
    built: true,
    env: OPERATOR_ENV,
    // --cpu-prof=DIR: a V8 CPU profile of the operator, written to DIR when it exits (Chrome DevTools opens it).
    nodeArgs: [...NODE_ARGS, ...(CPU_PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`])],
    args: [`--workers=${WORKERS}`, '--log-level=warn', '--lease-name=bench'],
  });
  log(
    `  operator pid ${op.pid} (built JS), ${WORKERS} workers, env ${JSON.stringify(OPERATOR_ENV)}${NODE_ARGS.length > 0 ? `, node ${NODE_ARGS.join(' ')}` : ''}`,
  );
  await eventually(async () => (await op.probe('/readyz')) === 200, {
    timeoutMs: 60_000,
    description: 'operator ready',
  });
  const labs = Array.from({ length: LABS }, (_, i) => i);
  const before = await apiserverRequests(client);
  const cpu0 = cpuSeconds(op.pid);
  let cpuPrev = cpu0;
  let tPrev = Date.now();
  // Where the labs are, for the progress lines: followed by watch from the start (no lists every 10 s).
  const pods = new Tally<PodLite>(client, `/api/v1/namespaces/${ns}/pods`, podReady);
  const claims = new Tally<{ metadata?: { name?: string }; status?: { phase?: string } }>(
    client,
    `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
    (c) => c.status?.phase === 'Bound',
  );
  const t0 = Date.now();
  await pool(labs, CONCURRENCY, async (i) => {
    await client.create(`/apis/skyport.io/v1alpha1/namespaces/${ns}/notebooklabs`, {
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'NotebookLab',
      metadata: { name: `l${i}` },
      // One owner per lab: the per-owner quota is not what this measures.
      spec: { owner: `user${i}`, profile: PROFILE },
    });
  });
  log(`  created ${LABS} NotebookLabs in ${Date.now() - t0} ms`);
  // --pprof=FILE: a 30 s CPU profile of kube-apiserver during the start storm (`go tool pprof -top FILE`); the
  // cluster must run with SKYPORT_APISERVER_PROFILING=1.
  const pprof = process.argv.find((a) => a.startsWith('--pprof='))?.slice('--pprof='.length);
  const profiled =
    pprof === undefined
      ? Promise.resolve()
      : new Promise((r) => setTimeout(r, flag('pprof-delay', 1) * 1000 - 1000))
          .then(() => client.requestBytes('GET', '/debug/pprof/profile?seconds=30'))
          .then((r) => {
            writeFileSync(pprof, r.bytes);
            log(`  wrote a kube-apiserver CPU profile (HTTP ${r.status}) to ${pprof}`);
          });
  await waitAll<LabLite>(
    client,
    'NotebookLabs Running',
    `/apis/skyport.io/v1alpha1/namespaces/${ns}/notebooklabs`,
    (l) => l.status?.phase === 'Running',
    LABS,
    600_000,
    // Where the labs are: Pods not yet written, written but not Ready, or Ready but not yet reported.
    async (running) => {
      const cpuNow = cpuSeconds(op.pid);
      const cpuTick = cpuLine(cpuPrev, cpuNow, Date.now() - tPrev);
      cpuPrev = cpuNow;
      tPrev = Date.now();
      // A one-item page and the server's count of the rest: no full list of every volume every 10 s.
      const page = JSON.parse((await client.request('GET', '/api/v1/persistentvolumes?limit=1')).text) as {
        items: unknown[];
        metadata: { remainingItemCount?: number };
      };
      const volumes = page.items.length + (page.metadata.remainingItemCount ?? 0);
      const m = await op.metrics();
      const depth = /^workqueue_depth\{[^}]*name="notebooklab"[^}]*\} (\S+)$/m.exec(m)?.[1] ?? '?';
      const heap = (n: string): string => gaugeMb(m, n);
      const kb = (k: string): string => procMemMb(op.pid, k).toFixed(0);
      log(
        `  at ${((Date.now() - t0) / 1000).toFixed(0)} s: ${claims.seen.size} claims (${volumes} volumes, ${claims.passing.size} bound), ${pods.seen.size} Pods, ${pods.passing.size} Ready, ${running} labs Running; operator queue ${depth}, RSS ${kb('VmRSS')} MB (peak ${kb('VmHWM')}), heap ${heap('nodejs_heap_size_used_bytes')}/${heap('nodejs_heap_size_total_bytes')} MB`,
      );
      log(`    ${cpuTick}`);
    },
  );
  const readyMs = Date.now() - t0;
  pods.stop();
  claims.stop();
  await profiled;
  log(`  operator ${cpuLine(cpu0, cpuSeconds(op.pid), readyMs)}`);
  log(`  operator apiserver ${requestLines(before, await apiserverRequests(client))}`);
  const metrics = await op.metrics();
  const sel = 'controller="notebooklab"';
  const p50 = histogramQuantile(metrics, 'controller_runtime_reconcile_time_seconds', sel, 0.5);
  const p99 = histogramQuantile(metrics, 'controller_runtime_reconcile_time_seconds', sel, 0.99);
  const reconciles = Number(
    /controller_runtime_reconcile_time_seconds_count\{[^}]*controller="notebooklab"[^}]*\}\s+(\S+)/.exec(
      metrics,
    )?.[1] ?? NaN,
  );
  const rssMb = procMemMb(op.pid, 'VmHWM');
  const mb = (n: string): string => gaugeMb(metrics, n);
  log(
    `  operator memory now: RSS ${mb('process_resident_memory_bytes')} MB, heap used ${mb('nodejs_heap_size_used_bytes')} MB of ${mb('nodejs_heap_size_total_bytes')} MB, external ${mb('nodejs_external_memory_bytes')} MB`,
  );
  return { readyMs, p50, p99, rssMb, reconciles, op };
}

/** The closing lines: with several rounds, each round's numbers and the median checked against the targets. */
function summary(
  rounds: {
    d?: { objects: number; writeMs: number; readyMs: number };
    o: { readyMs: number; rssMb: number; reconciles: number; p50: number; p99: number };
  }[],
): void {
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const mark = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
  const median = (xs: number[]): number => {
    const v = [...xs].sort((a, b) => a - b);
    const m = Math.floor(v.length / 2);
    return v.length % 2 === 1 ? (v[m] ?? NaN) : ((v[m - 1] ?? NaN) + (v[m] ?? NaN)) / 2;
  };
  const all = (f: (r: (typeof rounds)[number]) => number | undefined, fmt: (n: number) => string): string =>
    rounds.length < 2
      ? ''
      : `  [${rounds
          .map((r) => {
            const v = f(r);
            return v === undefined ? '-' : fmt(v);
          })
          .join(', ')}]`;
  const readyMs = median(rounds.map((r) => r.o.readyMs));
  const rssMb = median(rounds.map((r) => r.o.rssMb));
  const last = rounds[rounds.length - 1];
  if (last === undefined) return;
  const what = rounds.length > 1 ? `median of ${rounds.length} rounds, ` : '';
  console.log('');
  console.log(
    `NotebookLab operator benchmark (${LABS} labs, ${what}2-core machine, local control plane with kwok nodes)`,
  );
  console.log(
    `  operator: all Ready in ${s(readyMs)}  (${((LABS / readyMs) * 1000).toFixed(1)} labs/s)   target ≤ 60 s: ${mark(readyMs <= 60_000)}${all((r) => r.o.readyMs, s)}`,
  );
  console.log(
    `  reconcile: ${last.o.reconciles} runs, p50 ${(last.o.p50 * 1000).toFixed(1)} ms, p99 ${(last.o.p99 * 1000).toFixed(1)} ms (last round, from /metrics histogram)`,
  );
  console.log(
    `  operator peak RSS: ${rssMb.toFixed(0)} MB   target ≤ 200 MB: ${mark(rssMb <= 200)}${all(
      (r) => r.o.rssMb,
      (n) => `${n.toFixed(0)} MB`,
    )}`,
  );
  const withDirect = rounds.filter((r) => r.d !== undefined);
  if (withDirect.length === rounds.length && last.d !== undefined) {
    const dReady = median(rounds.map((r) => r.d?.readyMs ?? NaN));
    console.log(
      `  direct client: ${last.d.objects} objects written in ${s(last.d.writeMs)} (last round), all Pods Ready in ${s(dReady)}${all((r) => r.d?.readyMs, s)}`,
    );
    // Each round's ratio is taken within the round (same machine state), then the median.
    const ratio = median(rounds.map((r) => (r.d?.readyMs ?? NaN) / r.o.readyMs));
    console.log(
      `  ratio operator/direct (labs Ready per second): ${ratio.toFixed(2)}   target ≥ 0.5: ${mark(ratio >= 0.5)}${all(
        (r) => (r.d === undefined ? undefined : r.d.readyMs / r.o.readyMs),
        (n) => n.toFixed(2),
      )}`,
    );
  }
}

async function main(): Promise<void> {
  let cluster: ClusterHandle | undefined;
  let op: OperatorProcess | undefined;
  try {
    // Each run gets a fresh control plane unless SKYPORT_KUBECONFIG names one: the direct run leaves a thousand
    // released volumes, a bigger etcd and watch-cache history behind, which slowed an operator run after it from
    // 59 to 73 s.
    const reuse = process.env['SKYPORT_KUBECONFIG'] !== undefined;
    const fresh = async (what: string): Promise<string> => {
      if (!reuse) {
        log(`Starting a local control plane for the ${what} run`);
        cluster = await startCluster({ log: (m) => log(`  ${m}`) });
        process.env['SKYPORT_KUBECONFIG'] = cluster.kubeconfigPath;
      }
      return process.env['SKYPORT_KUBECONFIG'] ?? '';
    };
    // The operator as shipped: its compiled JS (tsx would add its own compile work and ~150 MB of RSS).
    const t = Date.now();
    execFileSync('npm', ['run', '-s', 'build', '-w', 'operator'], { cwd: repoRoot, stdio: 'inherit' });
    log(`Built the operator (tsc -b) in ${Date.now() - t} ms`);
    log(`${LABS} labs, client concurrency ${CONCURRENCY}, operator workers ${WORKERS}, ${ROUNDS} round(s)`);
    const rounds: {
      d?: Awaited<ReturnType<typeof direct>>;
      o: Awaited<ReturnType<typeof throughOperator>>;
    }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      if (ROUNDS > 1) log(`Round ${round} of ${ROUNDS}`);
      let d: Awaited<ReturnType<typeof direct>> | undefined;
      if (!SKIP_DIRECT) {
        const client = new MiniClient(await fresh('direct'), CONCURRENCY);
        log('Baseline: the same children written directly by a minimal keep-alive client');
        d = await direct(client, reuse);
        client.close();
        await cluster?.stop({ removeDir: true });
        cluster = undefined;
      }
      const kubeconfig = await fresh('operator');
      const client = new MiniClient(kubeconfig, CONCURRENCY);
      const operatorKubeconfig = await installChartOnce({ kubeconfig });
      await kubectl(['apply', '-f', '-'], { input: JSON.stringify(profile) });
      log('Operator: NotebookLabs reconciled by the operator (as the chart ServiceAccount)');
      const o = await throughOperator(client, operatorKubeconfig);
      op = o.op;
      client.close();
      rounds.push(d === undefined ? { o } : { d, o });
      if (round < ROUNDS) {
        await op.stop('SIGTERM');
        op = undefined;
        if (!reuse) {
          await cluster?.stop({ removeDir: true });
          cluster = undefined;
          delete process.env['SKYPORT_KUBECONFIG'];
        }
      }
    }
    summary(rounds);
  } finally {
    await op?.stop('SIGTERM');
    await cluster?.stop({ removeDir: true });
  }
}

main().catch((err: unknown) => {
  console.error(`[bench:operator] Failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

// `npm run bench:spawn`: how long a NotebookLab takes from `kubectl apply` until its JupyterLab answers HTTP on the
// real node, side by side in the same run with (a) a bare `jupyter lab` process on this machine (the limit) and
// (b) JupyterHub + KubeSpawner (from PyPI) spawning the same image on the same node through the Hub's REST API.
// Each start is timed twice, alike for both platforms: until its JupyterLab answers the bench (which polls the Pod
// from the first call on) and until the platform reports it ready (the NotebookLab's Ready condition, seen by a
// watch; the Hub's REST call returning once the Hub saw the server up). Rounds interleave the three so they share
// the machine's load. Needs root and the real node: run it under
// `flock /tmp/skyport-realnode.lock npm run bench:spawn`.
//
// Flags: --labs=N (warm samples of each, default 10), --cold=N (cold-image samples of skyport and the hub,
// default 3), --skip-hub, --timeline (watch each start's objects and print the median time of each step for
// skyport and the hub side by side: timeline.ts). SKYPORT_KUBECONFIG reuses a running cluster that has the real node.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { definitions, crdManifest } from '../../operator/src/api/v1alpha1/index.js';
import {
  cacheRoot,
  freePort,
  kubectl,
  nodeCacheDir,
  startCluster,
  type ClusterHandle,
} from '../cluster/index.js';
import { REAL_NODE_CGROUP_ROOT, REAL_NODE_NETWORK, nodeDirs } from '../cluster/node/config.js';
import { importImage, realNodePreflight } from '../cluster/node/node.js';
import { startOperator } from '../operator/support.js';
import { MiniClient, flag } from './support.js';
import { type Series, table, verdict, verdicts } from './spawn/report.js';
import { ensureVenvs, startHub, type Hub } from './spawn/peers.js';
import { StepLog, isReady, timelineTable, type Obj, type Step } from './spawn/timeline.js';

const LABS = flag('labs', 10);
const COLD = flag('cold', 3);
const SKIP_HUB = process.argv.includes('--skip-hub');
const TIMELINE = process.argv.includes('--timeline');
const log = (m: string): void => console.log(`[bench:spawn] ${new Date().toISOString().slice(11, 19)} ${m}`);
const TOKEN = 'spawn-bench-lab-token';
const LAB_PORT = 8888;
const TIMEOUT_MS = 300_000;
const execFileP = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The jupyterlab image `npm run images` built (reference and archive), from the images index. */
function jupyterlabImage(): { ref: string; archive: string } {
  const file = join(cacheRoot(), 'images', 'index.json');
  let idx: { images?: Record<string, { ref: string; archive: string }> };
  try {
    idx = JSON.parse(readFileSync(file, 'utf8')) as typeof idx;
  } catch {
    throw new Error(`${file} is missing: build the images first (npm run images)`);
  }
  const img = idx.images?.['jupyterlab'];
  if (!img) throw new Error(`${file}: no jupyterlab image; run npm run images`);
  return img;
}

/** HTTP status of GET `url` (1 s timeout), or 0 when nothing answered. */
function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Polls the pod's IP through the API, then `path` on it, until it answers 200; ms since `t0`. */
async function untilAnswers(
  client: MiniClient,
  ns: string,
  pod: string,
  path: (p: PodJson) => string,
  t0: number,
): Promise<number> {
  let ip = '';
  let url = '';
  while (Date.now() - t0 < TIMEOUT_MS) {
    if (!ip) {
      const r = await client.request('GET', `/api/v1/namespaces/${ns}/pods/${pod}`);
      if (r.status === 200) {
        const p = JSON.parse(r.text) as PodJson;
        ip = p.status?.podIP ?? '';
        if (ip) url = `http://${ip}:${LAB_PORT}${path(p)}`;
      }
    }
    if (url && (await status(url)) === 200) return Date.now() - t0;
    await sleep(ip ? 50 : 100);
  }
  throw new Error(`${ns}/${pod} did not answer within ${TIMEOUT_MS / 1000} s`);
}

interface PodJson {
  spec?: { containers?: { readinessProbe?: { httpGet?: { path?: string } } }[] };
  status?: { podIP?: string };
}

/** The lab's own readiness path (`<base_url>api`), as the operator wrote it into the Pod. */
const probePath = (p: PodJson): string => p.spec?.containers?.[0]?.readinessProbe?.httpGet?.path ?? '/api';

/** A bare `jupyter lab` on loopback, same flags as a lab; ms until `/api` answers 200. */
async function bare(venv: string, i: number): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), 'spawn-bench-bare-'));
  const port = await freePort();
  const base = `/user/bench/bare-${i}/`;
  const t0 = Date.now();
  const proc = spawn(
    join(venv, 'bin', 'jupyter'),
    [
      'lab',
      '--no-browser',
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.port=${port}`,
      `--ServerApp.base_url=${base}`,
      `--ServerApp.root_dir=${home}`,
      `--IdentityProvider.token=${TOKEN}`,
      // The bench runs as root (the real node needs it); the lab containers run as uid 1000.
      ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
    ],
    { env: { ...process.env, HOME: home, JUPYTER_PLATFORM_DIRS: '1' }, stdio: 'ignore' },
  );
  try {
    while (Date.now() - t0 < TIMEOUT_MS) {
      if (proc.exitCode !== null) throw new Error(`bare jupyter lab exited with ${proc.exitCode}`);
      if ((await status(`http://127.0.0.1:${port}${base}api`)) === 200) return Date.now() - t0;
      await sleep(50);
    }
    throw new Error('bare jupyter lab did not answer');
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
    rmSync(home, { recursive: true, force: true });
  }
}

const profile = (image: string): object => ({
  apiVersion: 'skyport.io/v1alpha1',
  kind: 'NotebookProfile',
  metadata: { name: 'spawn-bench' },
  spec: {
    images: { aliases: [{ name: 'recommended', image }], pullPolicy: 'IfNotPresent' },
    sizes: [{ name: 'bench', requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '2', memory: '1Gi' } }],
    defaultSize: 'bench',
    // The cluster's default StorageClass: each lab's home claim is provisioned at its first start, as the hub's are.
    home: { size: '1Gi', retainPolicy: 'Retain' },
    culling: { enabled: false, idleTimeout: '24h', maxLifetime: '168h', warnBefore: '30m' },
    quota: { maxLabs: 1000 },
    network: { enabled: true, ingressNamespaces: ['skyport-proxy'] },
  },
});

interface Ctx {
  kubeconfig: string;
  client: MiniClient;
  ns: string;
  image: { ref: string; archive: string };
  clusterDir: string;
  /** With --timeline: what the watches saw, and each warm start's steps per path. */
  steps?: {
    log: StepLog;
    skyport: Partial<Record<Step, number>>[];
    hub: Partial<Record<Step, number>>[];
    cpu: { skyport: PodCpu[]; hub: PodCpu[] };
  };
}

/** CPU a lab Pod used until it answered, from its cgroup (v1 cpuacct and cpu controllers, as the real node runs). */
interface PodCpu {
  usageMs: number;
  throttledMs: number;
  nrThrottled: number;
}

/** Reads the Pod cgroup's CPU counters (the kubelet's cgroupfs layout under the node's cgroup root); undefined if absent. */
function podCpu(uid: string): PodCpu | undefined {
  for (const qos of ['burstable', 'besteffort', '']) {
    const rel = join(REAL_NODE_CGROUP_ROOT, 'kubepods', qos, `pod${uid}`);
    try {
      const usage = Number(readFileSync(join('/sys/fs/cgroup/cpuacct', rel, 'cpuacct.usage'), 'utf8'));
      const stat = readFileSync(join('/sys/fs/cgroup/cpu', rel, 'cpu.stat'), 'utf8');
      const field = (k: string): number => Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(stat)?.[1] ?? NaN);
      return {
        usageMs: usage / 1e6,
        throttledMs: field('throttled_time') / 1e6,
        nrThrottled: field('nr_throttled'),
      };
    } catch {
      // not this QoS class
    }
  }
  return undefined;
}

/** With --timeline: one warm start's steps and its Pod's CPU, read after it answered (outside the timed part). */
async function noteSteps(
  ctx: Ctx,
  path: 'skyport' | 'hub',
  ns: string,
  pod: string,
  keys: string[],
  t0: number,
  start: Start,
): Promise<void> {
  if (!ctx.steps) return;
  ctx.steps[path].push({ ...ctx.steps.log.timeline([...keys, `${ns}/${pod}`], t0), ...start });
  const r = await ctx.client.request('GET', `/api/v1/namespaces/${ns}/pods/${pod}`);
  const uid =
    r.status === 200 ? (JSON.parse(r.text) as { metadata?: { uid?: string } }).metadata?.uid : undefined;
  const cpu = uid === undefined ? undefined : podCpu(uid);
  if (cpu) ctx.steps.cpu[path].push(cpu);
}

/** `name: CPU p50 … ms, throttled …` for the printed summary. */
function cpuLine(name: string, xs: PodCpu[]): string {
  const med = (f: (c: PodCpu) => number): string => {
    const s = xs.map(f).sort((a, b) => a - b);
    return String(Math.round(s[Math.ceil(s.length / 2) - 1] ?? NaN));
  };
  return `${name}: lab Pod CPU until it answered, median ${med((c) => c.usageMs)} ms; throttled median ${med((c) => c.throttledMs)} ms (${med((c) => c.nrThrottled)} periods), n=${xs.length}`;
}

/** Watches the objects a start is made of (--timeline); returns the function that ends the watches. */
function watchSteps(ctx: Ctx, hubNamespace: string): () => void {
  const log = new StepLog();
  ctx.steps = { log, skyport: [], hub: [], cpu: { skyport: [], hub: [] } };
  const paths: [string, string][] = [
    ['NotebookLab', `/apis/skyport.io/v1alpha1/namespaces/${ctx.ns}/notebooklabs`],
    ['PersistentVolume', '/api/v1/persistentvolumes'],
  ];
  for (const ns of [ctx.ns, hubNamespace])
    paths.push(
      ['PersistentVolumeClaim', `/api/v1/namespaces/${ns}/persistentvolumeclaims`],
      ['Pod', `/api/v1/namespaces/${ns}/pods`],
    );
  // Their own connections: a watch holds its socket for the whole run, and the bench's client has only four.
  const client = new MiniClient(ctx.kubeconfig, paths.length);
  let stopped = false;
  const stops = new Set<() => void>();
  // A watch that ends (a CRD's watch can answer 429 in its first moments) is started again until the run ends.
  const follow = (kind: string, path: string): void => {
    if (stopped) return;
    const w = client.watch(`${path}?watch=1&allowWatchBookmarks=false`, (type, obj) => {
      if (type === 'ADDED' || type === 'MODIFIED') log.observe(kind, obj, Date.now());
    });
    stops.add(w.stop);
    void w.done
      .catch(() => undefined)
      .then(() => {
        stops.delete(w.stop);
        setTimeout(() => follow(kind, path), 500);
      });
  };
  for (const [kind, path] of paths) follow(kind, path);
  return () => {
    stopped = true;
    stops.forEach((stop) => stop());
    client.close();
  };
}

/** When a start answered and when its platform reported it ready (ms since its first call). */
interface Start {
  answered: number;
  reported: number;
}

/**
 * Resolves with ms since `t0` once the NotebookLab `name` has condition Ready=True — what `kubectl wait` or a portal
 * waits for — as a watch (opened before the lab exists) shows it.
 */
function labReported(ctx: Ctx, name: string, t0: number): { at: Promise<number>; stop: () => void } {
  const client = new MiniClient(ctx.kubeconfig, 1);
  let resolveAt: (ms: number) => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const at = new Promise<number>((resolve, reject) => {
    resolveAt = resolve;
    timer = setTimeout(
      () => reject(new Error(`${ctx.ns}/${name} was not reported Ready within ${TIMEOUT_MS / 1000} s`)),
      TIMEOUT_MS,
    );
  });
  // A start that fails before it waits for this must not leave a rejection nobody handles.
  void at.catch(() => undefined);
  const w = client.watch(
    `/apis/skyport.io/v1alpha1/namespaces/${ctx.ns}/notebooklabs?watch=1&fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`,
    (_type, obj) => {
      if (isReady(obj as Obj)) resolveAt(Date.now() - t0);
    },
  );
  void w.done.catch(() => undefined);
  return {
    at,
    stop: () => {
      clearTimeout(timer);
      w.stop();
      client.close();
    },
  };
}

/**
 * One NotebookLab through `kubectl apply`: ms until its JupyterLab answers (the bench polls the Pod) and until the lab
 * is reported Ready; then deletes it.
 */
async function skyport(ctx: Ctx, name: string): Promise<Start> {
  const lab = {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'NotebookLab',
    metadata: { name, namespace: ctx.ns },
    spec: { owner: 'bench', profile: 'spawn-bench', state: 'Running' },
  };
  const t0 = Date.now();
  const reported = labReported(ctx, name, t0);
  try {
    await kubectl(['apply', '-f', '-'], { kubeconfig: ctx.kubeconfig, input: stringify(lab) });
    const answered = await untilAnswers(ctx.client, ctx.ns, `${name}-lab`, probePath, t0);
    const start = { answered, reported: await reported.at };
    if (name.startsWith('w'))
      await noteSteps(
        ctx,
        'skyport',
        ctx.ns,
        `${name}-lab`,
        [`${ctx.ns}/${name}`, `${ctx.ns}/${name}-home`],
        t0,
        start,
      );
    return start;
  } finally {
    reported.stop();
    await kubectl(['delete', 'notebooklab', name, '-n', ctx.ns, '--wait=false'], {
      kubeconfig: ctx.kubeconfig,
    });
  }
}

/**
 * One server through the Hub's REST API: ms until its JupyterLab answers (the bench polls the Pod from the call on,
 * as for skyport) and until the Hub reports it ready (the call returns 201: the Hub waited for the server; after a
 * 202 the bench polls the user's server until `ready`); then stops it.
 */
async function hubSpawn(ctx: Ctx, hub: Hub, user: string): Promise<Start> {
  await hub.api('POST', `/users/${user}`).catch(() => undefined); // exists already on a rerun
  const t0 = Date.now();
  const reported = (async (): Promise<number> => {
    const r = await hub.api('POST', `/users/${user}/server`);
    while (r.status !== 201) {
      const u = (await hub.api('GET', `/users/${user}`)).body as {
        servers?: Record<string, { ready?: boolean }>;
      };
      if (u.servers?.['']?.ready === true) break;
      if (Date.now() - t0 > TIMEOUT_MS) throw new Error(`the Hub did not report ${user}'s server ready`);
      await sleep(50);
    }
    return Date.now() - t0;
  })();
  // A failed call ends the start at once instead of after the poll's timeout.
  const failed = reported.then(
    () => new Promise<never>(() => undefined),
    (err: unknown) => Promise.reject(err as Error),
  );
  try {
    const answered = await Promise.race([
      untilAnswers(ctx.client, hub.namespace, `jupyter-${user}`, () => `/user/${user}/api`, t0),
      failed,
    ]);
    const start = { answered, reported: await reported };
    if (user.startsWith('w'))
      await noteSteps(
        ctx,
        'hub',
        hub.namespace,
        `jupyter-${user}`,
        [`${hub.namespace}/claim-${user}`],
        t0,
        start,
      );
    return start;
  } finally {
    await reported.catch(() => undefined);
    await hub.api('DELETE', `/users/${user}/server`).catch(() => undefined);
  }
}

/** Removes the image from the node and imports it again: the next start uses a snapshot never run before. */
async function coldImage(ctx: Ctx): Promise<void> {
  const sock = nodeDirs(ctx.clusterDir).containerdSocket;
  const ctr = join(nodeCacheDir(), 'bin', 'ctr');
  await execFileP(ctr, ['--address', sock, '-n', 'k8s.io', 'images', 'rm', '--sync', ctx.image.ref]).catch(
    () => undefined,
  );
  await importImage(ctx.clusterDir, ctx.image.archive);
}

/** Waits until no Pod is left in `ns` (a cold image must not have a snapshot still in use). */
async function noPods(ctx: Ctx, ns: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = await ctx.client.request('GET', `/api/v1/namespaces/${ns}/pods`);
    if (r.status === 200 && (JSON.parse(r.text) as { items: unknown[] }).items.length === 0) return;
    await sleep(200);
  }
  throw new Error(`pods in ${ns} did not go away`);
}

async function cluster(): Promise<{ kubeconfig: string; clusterDir: string; handle?: ClusterHandle }> {
  const existing = process.env.SKYPORT_KUBECONFIG;
  if (existing) return { kubeconfig: existing, clusterDir: dirname(existing) };
  const why = realNodePreflight();
  if (why) throw new Error(`bench:spawn needs the real node: ${why}`);
  log('Starting the local control plane with the real node');
  const handle = await startCluster({ realNode: true, timeoutMs: 180_000 });
  return { kubeconfig: handle.kubeconfigPath, clusterDir: handle.dir, handle };
}

async function setUp(kubeconfig: string, clusterDir: string): Promise<Ctx> {
  const image = jupyterlabImage();
  const t0 = Date.now();
  await importImage(clusterDir, image.archive);
  log(`Imported ${image.ref} into the node's containerd in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const run = { kubeconfig };
  await kubectl(['apply', '--server-side', '-f', '-'], {
    ...run,
    input: definitions.map((d) => JSON.stringify(crdManifest(d))).join('\n'),
  });
  await kubectl(
    ['wait', '--for=condition=Established', 'crd/notebooklabs.skyport.io', 'crd/notebookprofiles.skyport.io'],
    run,
  );
  const ns = 'spawn-bench';
  for (const n of [ns, 'skyport-system', 'spawn-bench-hub'])
    await kubectl(['create', 'namespace', n], run).catch(() => undefined);
  await kubectl(['apply', '-f', '-'], {
    ...run,
    input: stringify(profile(image.ref)),
  });
  return { kubeconfig, clusterDir, client: new MiniClient(kubeconfig, 4), ns, image };
}

async function main(): Promise<void> {
  const { venvLab, venvHub } = await ensureVenvs(SKIP_HUB, log);
  const { kubeconfig, clusterDir, handle } = await cluster();
  const ctx = await setUp(kubeconfig, clusterDir);
  const op = await startOperator({ kubeconfig, env: { SKYPORT_LOG_LEVEL: 'info' } });
  let hub: Hub | undefined;
  const endWatches = TIMELINE ? watchSteps(ctx, 'spawn-bench-hub') : undefined;
  let cleaned: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaned ??= (async () => {
      endWatches?.();
      await hub?.stop();
      await op.stop();
      if (handle) await handle.stop();
    })());
  // Ctrl-C or a SIGTERM mid-run: the same tear-down as the end (the cluster has no watchdog of its own here).
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      log(`${sig}: tearing down`);
      void cleanUp().finally(() => process.exit(130));
    });
  const series = (name: string): Series => ({ name, ms: [], failed: 0 });
  // Each start gives two times: its JupyterLab answering the bench, and its platform reporting it ready.
  const pair = (name: string): { answered: Series; reported: Series } => ({
    answered: series(`${name}: answered`),
    reported: series(`${name}: reported ready`),
  });
  const s = {
    bare: series('bare jupyter lab (process)'),
    warm: pair('skyport NotebookLab, warm image'),
    cold: pair('skyport NotebookLab, cold image'),
    hubWarm: pair('JupyterHub+KubeSpawner, warm image'),
    hubCold: pair('JupyterHub+KubeSpawner, cold image'),
  };
  const fail = (xs: Series[], err: unknown): void => {
    for (const x of xs) x.failed++;
    log(`${xs[0]?.name ?? ''}: FAILED ${(err as Error).message}`);
  };
  const takeBare = async (i: number): Promise<void> => {
    try {
      const ms = await bare(venvLab, i);
      s.bare.ms.push(ms);
      log(`${s.bare.name}: ${(ms / 1000).toFixed(2)} s`);
    } catch (err) {
      fail([s.bare], err);
    }
  };
  const take = async (
    p: { answered: Series; reported: Series },
    what: () => Promise<Start>,
  ): Promise<void> => {
    try {
      const t = await what();
      p.answered.ms.push(t.answered);
      p.reported.ms.push(t.reported);
      log(
        `${p.answered.name} ${(t.answered / 1000).toFixed(2)} s, reported ready ${(t.reported / 1000).toFixed(2)} s`,
      );
    } catch (err) {
      fail([p.answered, p.reported], err);
    }
  };
  try {
    if (!SKIP_HUB)
      hub = await startHub({
        venv: venvHub,
        kubeconfig,
        image: ctx.image.ref,
        token: TOKEN,
        host: REAL_NODE_NETWORK.hostIP,
        log,
      });
    // Warm-up (not counted): the first start of the image on this node, and of each path's code.
    await skyport(ctx, 'warmup').catch((e: Error) => log(`warm-up lab failed: ${e.message}`));
    for (let i = 0; i < LABS; i++) {
      await takeBare(i);
      await take(s.warm, () => skyport(ctx, `w${i}`));
      if (hub) {
        const h = hub;
        await take(s.hubWarm, () => hubSpawn(ctx, h, `w${i}`));
      }
    }
    for (let i = 0; i < COLD; i++) {
      await noPods(ctx, ctx.ns);
      if (hub) await noPods(ctx, hub.namespace);
      await coldImage(ctx);
      await take(s.cold, () => skyport(ctx, `c${i}`));
      if (hub) {
        const h = hub;
        await noPods(ctx, h.namespace);
        await coldImage(ctx);
        await take(s.hubCold, () => hubSpawn(ctx, h, `c${i}`));
      }
    }
  } finally {
    await cleanUp();
  }
  const both = (p: { answered: Series; reported: Series }): Series[] => [p.answered, p.reported];
  console.log(
    `\n${table([s.bare, ...both(s.warm), ...both(s.cold), ...(hub ? [...both(s.hubWarm), ...both(s.hubCold)] : [])])}\n`,
  );
  // The issue's measure: until the JupyterLab answers HTTP, for both platforms alike.
  const v = verdicts(s.warm.answered, s.bare, hub ? s.hubWarm.answered : undefined);
  // What a user of each platform waits for: the lab's Ready condition, the Hub's REST call (same 0.7 target).
  if (hub) v.push(verdict(s.warm.reported, s.hubWarm.reported, 0.7));
  for (const x of v) console.log(`${x.met ? 'MET    ' : 'NOT MET'} ${x.text}`);
  if (ctx.steps) {
    const paths = [{ name: 'skyport', timelines: ctx.steps.skyport }];
    if (hub) paths.push({ name: 'hub', timelines: ctx.steps.hub });
    console.log(`\nWarm starts, step by step:\n${timelineTable(paths)}`);
    console.log(cpuLine('skyport', ctx.steps.cpu.skyport));
    if (hub) console.log(cpuLine('hub', ctx.steps.cpu.hub));
  }
}

await main();

// Runs the operator as a local process against the local control plane, authenticated as the chart's
// ServiceAccount (so the chart's generated RBAC is what is exercised), plus a loopback Jupyter activity server.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  helm,
  kubeconfigForToken,
  kubectl,
  repoRoot,
  serviceAccountToken,
} from '../cluster/index.js';

/** Namespace and release name the chart is installed with in e2e. */
export const RELEASE = { name: 'skyport', namespace: 'skyport-system' } as const;

let chartInstalled: Promise<string> | undefined;
/** The cluster the chart was installed into (when named): another cluster gets its own install. */
let chartCluster: string | undefined;

/**
 * Installs the chart once per process (CRDs, ServiceAccount, generated RBAC; the Deployment's pods are fake
 * under kwok) and resolves with a kubeconfig that authenticates as the chart's ServiceAccount.
 */
export function installChartOnce(opts: { kubeconfig?: string } = {}): Promise<string> {
  if (opts.kubeconfig !== undefined && opts.kubeconfig !== chartCluster) chartInstalled = undefined;
  chartCluster = opts.kubeconfig;
  chartInstalled ??= (async () => {
    const run = opts.kubeconfig === undefined ? {} : { kubeconfig: opts.kubeconfig };
    // SKYPORT_CHART_DIR: test a chart elsewhere (e.g. a release candidate) with the same suite.
    const chart = process.env['SKYPORT_CHART_DIR'] ?? join(repoRoot, 'charts', 'skyport');
    const installed = await helm(['status', RELEASE.name, '-n', RELEASE.namespace], run).then(
      () => true,
      () => false,
    );
    if (!installed) {
      await helm(
        [
          'install',
          RELEASE.name,
          chart,
          '-n',
          RELEASE.namespace,
          '--create-namespace',
          '--wait',
          '--timeout',
          '120s',
        ],
        {
          ...run,
          timeoutMs: 180_000,
        },
      );
    }
    await kubectl(
      [
        'wait',
        '--for=condition=Established',
        '--timeout=60s',
        'crd/notebooklabs.skyport.io',
        'crd/notebookprofiles.skyport.io',
      ],
      run,
    );
    const token = await serviceAccountToken(RELEASE.namespace, RELEASE.name, {
      ...run,
      durationSeconds: 24 * 3600,
    });
    return kubeconfigForToken(token, {
      ...(opts.kubeconfig === undefined ? {} : { baseKubeconfig: opts.kubeconfig }),
      userName: 'skyport-operator',
    });
  })();
  return chartInstalled;
}

/** A running operator process. */
export interface OperatorProcess {
  proc: ChildProcess;
  pid: number;
  identity: string;
  probePort: number;
  logFile: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** Sends a signal (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  /** The operator's log so far. */
  log(): string;
  /** GET /metrics as text. */
  metrics(): Promise<string>;
  /** GET a probe path; resolves with the HTTP status (0 when unreachable). */
  probe(path: '/healthz' | '/readyz'): Promise<number>;
}

/** Options of {@link startOperator}. */
export interface StartOperatorOptions {
  kubeconfig: string;
  identity?: string;
  /** Extra env (e.g. SKYPORT_ACTIVITY_URL_TEMPLATE). */
  env?: Record<string, string>;
  args?: string[];
  /** Node options before the entry point (e.g. `--cpu-prof`, which NODE_OPTIONS does not allow). */
  nodeArgs?: string[];
  /** Run the built JS (`operator/dist/src/main.js`, from `npm run build`) instead of the TS source through tsx. */
  built?: boolean;
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/**
 * Starts `operator/src/main.ts` (through tsx) as a child process with leader election in the release
 * namespace, probes on a free loopback port and JSON logs to a file.
 */
export async function startOperator(opts: StartOperatorOptions): Promise<OperatorProcess> {
  const probePort = await freePort();
  const identity = opts.identity ?? `op-${probePort}`;
  const dir = mkdtempSync(join(tmpdir(), 'skyport-operator-'));
  const logFile = join(dir, `${identity}.log`);
  const out = createWriteStream(logFile);
  const root = repoRoot;
  const entry =
    opts.built === true
      ? [join(root, 'operator', 'dist', 'src', 'main.js')]
      : ['--import', 'tsx', join(root, 'operator', 'src', 'main.ts')];
  const proc = spawn(
    process.execPath,
    [
      ...(opts.nodeArgs ?? []),
      ...entry,
      `--kubeconfig=${opts.kubeconfig}`,
      `--probe-port=${probePort}`,
      '--probe-host=127.0.0.1',
      `--lease-namespace=${RELEASE.namespace}`,
      `--identity=${identity}`,
      '--log-level=debug',
      ...(opts.args ?? []),
    ],
    { cwd: root, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stdout?.pipe(out, { end: false });
  proc.stderr?.pipe(out, { end: false });
  const exited = new Promise<number | string>((resolve) => {
    proc.on('exit', (code, signal) => {
      // Let the pipes flush what the process wrote last.
      setTimeout(() => {
        out.end();
        resolve(code ?? signal ?? 'unknown');
      }, 100);
    });
  });
  if (proc.pid === undefined) throw new Error('operator process did not start');
  // An operator orphaned by an aborted test run would keep reconciling against the next run: kill it with us.
  const killOnExit = (): void => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));
  const base = `http://127.0.0.1:${probePort}`;
  return {
    proc,
    pid: proc.pid,
    identity,
    probePort,
    logFile,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    metrics: async () => (await httpGet(`${base}/metrics`)).body,
    probe: async (path) => (await httpGet(`${base}${path}`)).status,
  };
}

/** Sum of a Prometheus counter's samples whose labels include all of `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const kv of (m[3] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) got[kv[1] ?? ''] = kv[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(m[4]);
  }
  return sum;
}

/** A real HTTP server on 127.0.0.1 speaking Jupyter's `GET <base_url>api/status` with token auth. */
export interface ActivityServer {
  port: number;
  /** URL template for the operator's SKYPORT_ACTIVITY_URL_TEMPLATE. */
  urlTemplate: string;
  /** Sets what `/api/status` reports as `last_activity` for a lab (unset: 404, as a server not up yet). */
  setActivity(namespace: string, name: string, when: Date): void;
  /** Authorization headers seen per `namespace/name`. */
  seenAuth(namespace: string, name: string): string[];
  close(): Promise<void>;
}

/** Starts the loopback activity server. */
export async function startActivityServer(): Promise<ActivityServer> {
  const activity = new Map<string, Date>();
  const auth = new Map<string, string[]>();
  const server = http.createServer((req, res) => {
    // Path: /<namespace>/<name>/user/<owner>/<lab>/api/status
    const parts = (req.url ?? '').split('/');
    const key = `${decodeURIComponent(parts[1] ?? '')}/${decodeURIComponent(parts[2] ?? '')}`;
    const list = auth.get(key) ?? [];
    list.push(req.headers.authorization ?? '');
    auth.set(key, list);
    const when = activity.get(key);
    if (!(req.url ?? '').endsWith('/api/status') || when === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        started: when.toISOString(),
        last_activity: when.toISOString(),
        connections: 0,
        kernels: 0,
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    urlTemplate: `http://127.0.0.1:${port}/{namespace}/{name}{basePath}api/status`,
    setActivity: (ns, name, when) => activity.set(`${ns}/${name}`, when),
    seenAuth: (ns, name) => auth.get(`${ns}/${name}`) ?? [],
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// The README "run" command: the local control plane with its real node, the operator as a real Deployment
// (`helm install`, image from `npm run images`), the sample profile and two NotebookLabs running real JupyterLab
// servers, each opened through a port-forward on 127.0.0.1 whose URL (with the lab's token) is printed at the end.
// Ctrl-C, SIGTERM, SIGHUP, this process's parent dying, or this process being killed: everything is torn down.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { labNames, TOKEN_KEY } from '../operator/src/controllers/notebooklab/build.js';
import {
  binDir,
  eventually,
  freePort,
  helm,
  kubectl,
  kubectlJson,
  repoRoot,
  startCluster,
  type ClusterHandle,
} from './cluster/index.js';
import { importBuiltImages } from './cluster/node/node.js';
import { recordOwnedProcess, spawnWatchdog } from './cluster/owner.js';
import { deployOperator, openHostPathVolumes } from './operator/deploy.js';

interface LabView {
  metadata: { name: string; namespace: string };
  spec: { owner: string };
  status?: { phase?: string; message?: string };
}

/** A lab's page on 127.0.0.1 through `kubectl port-forward` (the apiserver → kubelet → the lab Pod). */
export interface LabUrl {
  namespace: string;
  name: string;
  owner: string;
  url: string;
}

const say = (msg: string): void => console.log(`[run-local] ${msg}`);
const samples = join(repoRoot, 'e2e', 'samples');

/** Waits until every lab is Running (a real JupyterLab answering its readiness probe). */
async function waitLabsRunning(
  kubeconfig: string,
  labs: { name: string; namespace: string }[],
): Promise<LabView[]> {
  return eventually(
    async () => {
      for (const ns of new Set(labs.map((l) => l.namespace))) await openHostPathVolumes(kubeconfig, ns);
      const views: LabView[] = [];
      for (const l of labs)
        views.push(await kubectlJson<LabView>(['get', 'notebooklab', l.name, '-n', l.namespace]));
      const waiting = views.filter((v) => v.status?.phase !== 'Running');
      if (waiting.length > 0)
        throw new Error(
          waiting
            .map((v) => `${v.metadata.name}: ${v.status?.phase ?? 'no status'} ${v.status?.message ?? ''}`)
            .join('; '),
        );
      return views;
    },
    { timeoutMs: 300_000, intervalMs: 500, description: 'sample labs Running' },
  );
}

/** Starts `kubectl port-forward` to the lab's Pod on a free loopback port; resolves once it forwards. */
async function portForward(
  kubeconfig: string,
  lab: LabView,
  onStart: (p: ChildProcess) => void,
): Promise<{ proc: ChildProcess; port: number }> {
  const port = await freePort();
  const pod = labNames(lab.metadata.name).pod;
  const proc = spawn(
    join(binDir(), 'kubectl'),
    [
      `--kubeconfig=${kubeconfig}`,
      'port-forward',
      '-n',
      lab.metadata.namespace,
      '--address=127.0.0.1',
      `pod/${pod}`,
      `${port}:8888`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  onStart(proc);
  await new Promise<void>((ok, fail) => {
    let err = '';
    proc.stdout?.on('data', (d: Buffer) => d.toString().includes('Forwarding from') && ok());
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    proc.once('exit', (code) => fail(new Error(`kubectl port-forward to ${pod} exited (${code}): ${err}`)));
  });
  return { proc, port };
}

/** The URL of a lab's JupyterLab UI on `port`, with its token (`?token=` logs the browser in). */
async function labUrl(lab: LabView, port: number): Promise<string> {
  const token = Buffer.from(
    await kubectl([
      'get',
      'secret',
      labNames(lab.metadata.name).token,
      '-n',
      lab.metadata.namespace,
      '-o',
      `jsonpath={.data.${TOKEN_KEY}}`,
    ]),
    'base64',
  ).toString('utf8');
  const base = `/user/${encodeURIComponent(lab.spec.owner)}/${lab.metadata.name}/`;
  return `http://127.0.0.1:${port}${base}lab?token=${encodeURIComponent(token)}`;
}

/** Calls `teardown` when this process's parent dies (it is re-parented), polled every `ms`. */
function watchParent(teardown: () => void, ms = 1000): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      say(`Parent process ${parent} is gone`);
      teardown();
    }
  }, ms).unref();
}

async function main(): Promise<void> {
  const t0 = Date.now();
  let cluster: ClusterHandle | undefined;
  let starting: Promise<ClusterHandle> | undefined;
  const forwards: ChildProcess[] = [];
  let stopping = false;
  const teardown = async (code: number): Promise<never> => {
    if (stopping) process.exit(code);
    stopping = true;
    say('Tearing down');
    for (const f of forwards) f.kill('SIGTERM');
    if (cluster === undefined && starting !== undefined) {
      // Stopped while the cluster starts: let the start finish (a failed start stops itself), then stop it.
      say('Waiting for the cluster start to finish to stop it');
      cluster = await starting.catch(() => undefined);
    }
    await cluster?.stop({ removeDir: true });
    say('Stopped everything');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void teardown(0));
  watchParent(() => void teardown(0));

  try {
    let kubeconfig = process.env['SKYPORT_KUBECONFIG'];
    if (kubeconfig === undefined) {
      say('Starting the local control plane with its real node (kubelet + containerd here) and kwok nodes');
      starting = startCluster({ realNode: true, log: (m) => say(m) });
      cluster = await starting;
      if (stopping) return;
      // However this process ends (a signal its parent did not pass on, SIGKILL), a detached watchdog then stops
      // the cluster, its real node and the port-forwards below.
      spawnWatchdog(cluster.dir, { removeDir: true });
      kubeconfig = cluster.kubeconfigPath;
      process.env['SKYPORT_KUBECONFIG'] = kubeconfig;
    } else {
      say(`Using the cluster of SKYPORT_KUBECONFIG=${kubeconfig} (it needs the real node)`);
    }
    const clusterDir = dirname(kubeconfig);
    const own = (p: ChildProcess): void => {
      forwards.push(p);
      if (cluster !== undefined && p.pid !== undefined) recordOwnedProcess(cluster.dir, p.pid);
    };

    say('Importing the JupyterLab image into the real node; helm install of the operator');
    const labImage = importBuiltImages(clusterDir, ['jupyterlab']);
    const installed = await helm(['status', 'skyport', '-n', 'skyport-system']).then(
      () => true,
      () => false,
    );
    if (installed) say('Release skyport already installed in skyport-system');
    else await deployOperator({ kubeconfig, clusterDir, log: (m) => say(m) });
    await labImage;
    await kubectl(['apply', '-f', join(samples, 'profile.yaml')]);
    say('Applied NotebookProfile "sample"');

    const labsFile = join(samples, 'labs.yaml');
    await kubectl(['apply', '-f', labsFile]);
    const labs = parseAllDocuments(readFileSync(labsFile, 'utf8'))
      .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } })
      .filter((d) => d.kind === 'NotebookLab')
      .map((d) => ({ name: d.metadata?.name ?? '', namespace: d.metadata?.namespace ?? 'default' }));
    say(`Applied ${labs.length} NotebookLabs; waiting for their JupyterLab servers`);
    const ready = await waitLabsRunning(kubeconfig, labs);

    const urls: LabUrl[] = [];
    for (const l of ready) {
      const { port } = await portForward(kubeconfig, l, own);
      urls.push({
        namespace: l.metadata.namespace,
        name: l.metadata.name,
        owner: l.spec.owner,
        url: await labUrl(l, port),
      });
    }
    console.log('');
    console.log('NAMESPACE      NAME            OWNER   URL (open in a browser)');
    for (const u of urls)
      console.log(`${u.namespace.padEnd(14)} ${u.name.padEnd(15)} ${u.owner.padEnd(7)} ${u.url}`);
    console.log('');
    say(
      `Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s. Try: KUBECONFIG=${kubeconfig} kubectl get notebooklabs,pods -A`,
    );
    say('Each URL is a kubectl port-forward to the lab Pod on the real node. Ctrl-C to stop everything.');
    await new Promise(() => undefined);
  } catch (err) {
    console.error(`[run-local] Failed: ${err instanceof Error ? err.message : String(err)}`);
    await teardown(1);
  }
}

void main();

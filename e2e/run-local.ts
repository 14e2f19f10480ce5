// The README "run" command: local control plane, chart (CRDs + RBAC), sample profile, the operator as a local
// process with the chart's ServiceAccount token, two sample labs printed Ready with their URLs; Ctrl-C tears down.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  eventually,
  kubectl,
  kubectlJson,
  repoRoot,
  startCluster,
  type ClusterHandle,
} from './cluster/index.js';
import { recordOwnedProcess, spawnWatchdog } from './cluster/owner.js';
import { installChartOnce, startOperator, type OperatorProcess } from './operator/support.js';

interface LabView {
  metadata: { name: string; namespace: string };
  spec: { owner: string };
  status?: { phase?: string; url?: string; message?: string };
}

const say = (msg: string): void => console.log(`[run-local] ${msg}`);

async function main(): Promise<void> {
  const t0 = Date.now();
  let cluster: ClusterHandle | undefined;
  let operator: OperatorProcess | undefined;
  let stopping = false;
  const teardown = async (code: number): Promise<never> => {
    if (stopping) process.exit(code);
    stopping = true;
    say('Tearing down');
    await operator?.stop('SIGTERM');
    await cluster?.stop({ removeDir: true });
    say('Stopped everything');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void teardown(0));

  try {
    if (process.env['SKYPORT_KUBECONFIG'] === undefined) {
      say('Starting the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)');
      cluster = await startCluster({ log: (m) => say(m) });
      // However this process ends (a signal its parent did not pass on, SIGKILL), a detached watchdog then stops
      // the cluster and the operator below.
      spawnWatchdog(cluster.dir, { removeDir: true });
      process.env['SKYPORT_KUBECONFIG'] = cluster.kubeconfigPath;
    } else {
      say(`Using the cluster of SKYPORT_KUBECONFIG=${process.env['SKYPORT_KUBECONFIG']}`);
    }
    say('Installing the skyport chart (CRDs, ServiceAccount, generated RBAC)');
    const operatorKubeconfig = await installChartOnce();
    const samples = join(repoRoot, 'e2e', 'samples');
    await kubectl(['apply', '-f', join(samples, 'profile.yaml')]);
    say('Applied NotebookProfile "sample"');

    operator = await startOperator({
      kubeconfig: operatorKubeconfig,
      identity: 'run-local',
      args: ['--log-level=info'],
    });
    say(
      `Started the operator (pid ${operator.pid}) as the chart's ServiceAccount; logs: ${operator.logFile}`,
    );
    say(`Probes and metrics: http://127.0.0.1:${operator.probePort}/readyz and /metrics`);
    if (cluster !== undefined) recordOwnedProcess(cluster.dir, operator.pid);
    const op = operator;
    void op.exited.then((code) => {
      if (!stopping) {
        console.error(op.log().split('\n').slice(-20).join('\n'));
        say(`The operator exited unexpectedly (${String(code)})`);
        void teardown(1);
      }
    });
    await eventually(async () => (await op.probe('/readyz')) === 200, {
      timeoutMs: 60_000,
      description: 'operator ready',
    });

    const labsFile = join(samples, 'labs.yaml');
    await kubectl(['apply', '-f', labsFile]);
    const names = parseAllDocuments(readFileSync(labsFile, 'utf8'))
      .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } })
      .filter((d) => d.kind === 'NotebookLab');
    say(`Applied ${names.length} NotebookLabs; waiting for them to be Ready`);
    const ready = await eventually(
      async () => {
        const labs: LabView[] = [];
        for (const n of names) {
          labs.push(
            await kubectlJson<LabView>([
              'get',
              'notebooklab',
              n.metadata?.name ?? '',
              '-n',
              n.metadata?.namespace ?? 'default',
            ]),
          );
        }
        const waiting = labs.filter((l) => l.status?.phase !== 'Running');
        if (waiting.length > 0)
          throw new Error(
            waiting
              .map((l) => `${l.metadata.name}: ${l.status?.phase ?? 'no status'} ${l.status?.message ?? ''}`)
              .join('; '),
          );
        return labs;
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'sample labs Ready' },
    );
    console.log('');
    console.log('NAMESPACE      NAME            OWNER   PHASE     URL');
    for (const l of ready) {
      console.log(
        `${l.metadata.namespace.padEnd(14)} ${l.metadata.name.padEnd(15)} ${l.spec.owner.padEnd(7)} ${(l.status?.phase ?? '').padEnd(9)} ${l.status?.url ?? ''}`,
      );
    }
    console.log('');
    say(
      `Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s. Try: KUBECONFIG=${process.env['SKYPORT_KUBECONFIG']} kubectl get notebooklabs -A`,
    );
    say(
      'Pods run on kwok fake nodes: the URLs are the in-cluster addresses a proxy would route to. Ctrl-C to stop.',
    );
    await new Promise(() => undefined);
  } catch (err) {
    console.error(`[run-local] Failed: ${err instanceof Error ? err.message : String(err)}`);
    if (operator !== undefined) console.error(operator.log().split('\n').slice(-20).join('\n'));
    await teardown(1);
  }
}

void main();

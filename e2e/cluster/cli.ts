// `npm run cluster:up | cluster:down | cluster:status`: the local control plane as a long-lived platform.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { componentLiveness, readClusterState, startCluster, stopClusterAt } from './cluster.js';
import { realNodeForUp, realNodePreflight } from './node/node.js';
import { defaultRunDir } from './paths.js';
import { kubectl } from './tools.js';

const dir = process.env.SKYPORT_RUN_DIR ?? defaultRunDir();

async function up(): Promise<void> {
  const state = readClusterState(dir);
  if (state && componentLiveness(state).every((c) => c.alive)) {
    console.log(`Cluster already running (state in ${dir}).`);
    await printUsage(state.kubeconfigPath);
    return;
  }
  if (state) {
    console.log('Found a partly running cluster; stopping it first.');
    await stopClusterAt(dir);
  }
  const t0 = Date.now();
  const { realNode, note } = realNodeForUp(process.env, () => realNodePreflight());
  if (note !== undefined) console.log(note);
  const c = await startCluster({ dir, realNode, log: (m) => console.log(`  ${m}`) });
  console.log(`Cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${c.server}`);
  await printUsage(c.kubeconfigPath);
}

async function printUsage(kubeconfigPath: string): Promise<void> {
  // Column TYPE: `kwok` (fake, tainted while a real node runs) or `real` (kubelet + containerd here).
  console.log(await kubectl(['get', 'nodes', '-L', 'type', '-o', 'wide'], { kubeconfig: kubeconfigPath }));
  const bin = readClusterState(dir)?.binDir ?? '';
  console.log(
    [
      'Use it with:',
      `  export KUBECONFIG=${kubeconfigPath} SKYPORT_KUBECONFIG=${kubeconfigPath}`,
      `  export PATH=${bin}:$PATH   # kubectl ${'and'} helm from the cache`,
      '  kubectl get nodes',
      'Stop it with: npm run cluster:down',
    ].join('\n'),
  );
}

async function down(): Promise<void> {
  if (!readClusterState(dir)) {
    console.log(`No cluster recorded in ${dir}.`);
    return;
  }
  for (const line of await stopClusterAt(dir, { removeDir: true })) console.log(`  ${line}`);
  console.log('Cluster stopped.');
}

async function status(): Promise<number> {
  const state = readClusterState(dir);
  if (!state) {
    console.log(`No cluster recorded in ${dir}.`);
    return 1;
  }
  const live = componentLiveness(state);
  for (const c of live)
    console.log(
      `  ${c.name.padEnd(24)} pid ${String(c.pid).padEnd(8)} ${c.alive ? 'running' : 'NOT RUNNING'}`,
    );
  console.log(`  server ${state.server}\n  kubeconfig ${state.kubeconfigPath}\n  logs ${join(dir, 'logs')}`);
  if (!live.every((c) => c.alive)) return 1;
  if (existsSync(state.kubeconfigPath)) {
    console.log(
      '  nodes: TYPE real = kubelet + containerd on this machine (Pods run); kwok = fake (Pods are only marked Running)',
    );
    console.log(
      await kubectl(
        [
          'get',
          'nodes',
          '-L',
          'type',
          '-o',
          'custom-columns=NAME:.metadata.name,TYPE:.metadata.labels.type,STATUS:.status.conditions[?(@.type=="Ready")].status,TAINTS:.spec.taints[*].key,IP:.status.addresses[?(@.type=="InternalIP")].address',
        ],
        { kubeconfig: state.kubeconfigPath },
      ),
    );
  }
  return 0;
}

const cmd = process.argv[2];
const run: Record<string, () => Promise<number | void>> = { up, down, status };
const fn = cmd ? run[cmd] : undefined;
if (!fn) {
  console.error('usage: cli.ts up|down|status');
  process.exit(2);
}
fn().then(
  (code) => process.exit(typeof code === 'number' ? code : 0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);

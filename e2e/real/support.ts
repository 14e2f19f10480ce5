// Helpers of the "real" e2e tier.
import { appendFileSync, chownSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { helm, kubectl, repoRoot } from '../cluster/index.js';
import { REAL_NODE_NAME, REAL_NODE_NETWORK } from '../cluster/node/config.js';
import { importImage } from '../cluster/node/node.js';
import { imagesCacheDir, readIndex } from '../images/build.js';
import { RELEASE } from '../operator/support.js';
import { startPostgres, type ServiceHandle } from '../services/index.js';

/** Why the real tier cannot run against this cluster, or undefined when its real node is Ready. */
export async function realNodeSkipReason(kubeconfig: string): Promise<string | undefined> {
  try {
    const ready = await kubectl(
      ['get', 'node', REAL_NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'],
      { kubeconfig },
    );
    return ready === 'True' ? undefined : `node ${REAL_NODE_NAME} is not Ready`;
  } catch {
    return `the cluster has no real node ${REAL_NODE_NAME}; start it with SKYPORT_REAL_NODE=1`;
  }
}

/** The reference every real-tier lab runs. */
export const JUPYTERLAB_IMAGE = 'localhost/skyport/jupyterlab:dev';

/**
 * Imports the jupyterlab archive `npm run images` built (the images cache's index.json) into the real node's
 * containerd; throws naming the command when it was never built.
 */
export async function importJupyterLab(clusterDir: string, cacheDir = imagesCacheDir()): Promise<void> {
  const built = readIndex(cacheDir)['jupyterlab'];
  if (built === undefined || !existsSync(built.archive))
    throw new Error(
      `no jupyterlab image archive in ${join(cacheDir, 'index.json')}: build it first with \`npm run images\``,
    );
  if (built.ref !== JUPYTERLAB_IMAGE)
    throw new Error(`${built.archive} is ${built.ref}, the real tier needs ${JUPYTERLAB_IMAGE}`);
  await importImage(clusterDir, built.archive);
}

/**
 * Makes sure the chart's release exists without operator Pods, for files that run the operator in-process: on the
 * real node the chart's Deployment would run real operators that reconcile the same labs. Installs the release when
 * it is missing (installChartOnce then finds it; the schema wants replicaCount ≥ 1, hence no `--wait`) and scales
 * its Deployment to 0. Resolves with a function that restores the replicas of a release that was already there.
 */
export async function chartWithoutOperatorPods(kubeconfig: string): Promise<() => Promise<void>> {
  const { name, namespace } = RELEASE;
  const run = { kubeconfig };
  const installed = await helm(['status', name, '-n', namespace], run).then(
    () => true,
    () => false,
  );
  const deploy = ['deployment', name, '-n', namespace];
  if (!installed) {
    const chart = process.env['SKYPORT_CHART_DIR'] ?? join(repoRoot, 'charts', 'skyport');
    await helm(['install', name, chart, '-n', namespace, '--create-namespace'], {
      ...run,
      timeoutMs: 180_000,
    });
    await kubectl(['scale', ...deploy, '--replicas=0'], run);
    return () => Promise.resolve();
  }
  const replicas = (await kubectl(['get', ...deploy, '-o', 'jsonpath={.spec.replicas}'], run)).trim();
  await kubectl(['scale', ...deploy, '--replicas=0'], run);
  return async () => {
    await kubectl(['scale', ...deploy, `--replicas=${replicas || '1'}`], run);
  };
}

/** The query runner's uid: it owns the results directory. */
export const QUERY_RUNNER_UID = 1000;

/**
 * A Catalog's results claim on the real node: a host directory the query runner's uid owns (made here, its path
 * returned), as a `hostPath` PersistentVolume of StorageClass `run` bound to the claim `query-results` in `ns`.
 */
export async function hostResultsClaim(
  apply: (obj: object) => Promise<unknown>,
  run: string,
  ns: string,
  prefix: string,
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chownSync(dir, QUERY_RUNNER_UID, QUERY_RUNNER_UID);
  await apply({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: run },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      storageClassName: run,
      persistentVolumeReclaimPolicy: 'Retain',
      hostPath: { path: dir, type: 'Directory' },
      claimRef: { namespace: ns, name: 'query-results' },
    },
  });
  await apply({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'query-results', namespace: ns },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: run,
      resources: { requests: { storage: '1Gi' } },
    },
  });
  return dir;
}

/** A database the real node's pods reach: PostgreSQL, the database's URL (from the host) and its reader role. */
export interface PodDatabase {
  readonly db: ServiceHandle;
  /** The database's name. */
  readonly database: string;
  /** The database's URL as the test (on loopback, as the superuser) reaches it. */
  readonly url: string;
  /** A Catalog's `spec.database` for it, the reader's credentials in the Secret `secretName`. */
  readonly catalogDatabase: (secretName: string) => Record<string, unknown>;
  /** The `kubernetes.io/basic-auth` Secret of the reader role in `namespace`. */
  readonly readerSecret: (namespace: string, name: string) => Record<string, unknown>;
}

/**
 * PostgreSQL on loopback (the test's own reads) and on the node bridge's host address (the operator's quote, the
 * runner and TAP pods), password-checked for the pod subnet so a mounted Secret is what lets a pod in; one database
 * `database` and a LOGIN role `reader` with `password` (grant it what the test loads).
 */
export async function podDatabase(
  database: string,
  reader: { readonly user: string; readonly password: string },
): Promise<PodDatabase> {
  const db = await startPostgres({ listenAddresses: `127.0.0.1,${REAL_NODE_NETWORK.hostIP}` });
  appendFileSync(
    join(db.dir, 'data', 'pg_hba.conf'),
    `host all all ${REAL_NODE_NETWORK.podSubnet} scram-sha-256\n`,
  );
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    await admin.query('SELECT pg_reload_conf()');
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.query(`CREATE ROLE ${reader.user} LOGIN PASSWORD '${reader.password}'`);
  } finally {
    await admin.end();
  }
  return {
    db,
    database,
    url: db.url.replace(/\/[^/]+$/, `/${database}`),
    catalogDatabase: (secretName) => ({
      host: REAL_NODE_NETWORK.hostIP,
      port: db.port,
      database,
      credentials: { secretName },
    }),
    readerSecret: (namespace, name) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace },
      type: 'kubernetes.io/basic-auth',
      stringData: { username: reader.user, password: reader.password },
    }),
  };
}

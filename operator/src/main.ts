// The operator's entry point: config → Kubernetes client → Manager → controllers; SIGTERM drains and exits 0.
import { setFlagsFromString } from 'node:v8';
import { ConfigError, loadConfig, parseDuration, usage } from './config.js';
import { errorMessage } from './errors.js';
import { Kube } from './kube/index.js';
import { createLogger, Manager } from './runtime/index.js';
import { JupyterActivityResolver } from './controllers/notebooklab/culling/activity.js';
import { notebookLabController } from './controllers/notebooklab/controller.js';

/**
 * V8 lets the old generation grow to up to 4x its live data before a full collection; under a start storm (1,000
 * labs) that put 110-125 MB of garbage on a ~50 MB working set in one run of three, and peak RSS at 207 MB. A
 * growing factor of 1.5 collects earlier for the same CPU (bench:operator: peak 144 MB, operator CPU 15.8 s against
 * 17.2 s). NODE_OPTIONS does not accept this flag, so it is set here, before the operator allocates its caches.
 */
setFlagsFromString('--heap-growing-percent=50');

/**
 * Settings of the NotebookLab controller that the runtime config does not cover, from the environment:
 * `SKYPORT_ACTIVITY_URL_TEMPLATE` (where the culler asks a lab's Jupyter `/api/status`; placeholders
 * `{namespace} {name} {owner} {service} {basePath}`; e2e points it at a loopback server) and
 * `SKYPORT_CULL_CHECK_INTERVAL` (how often running labs are polled, default 60s) and
 * `SKYPORT_POD_ANNOTATION_PREFIXES` (comma-separated lab annotation prefixes copied onto lab Pods) and
 * `SKYPORT_HOME_BIND_TIMEOUT` (how long a home claim may stay unbound before the lab is Degraded, default 60s).
 */
function labSettings(env: NodeJS.ProcessEnv): {
  urlTemplate?: string;
  checkMs: number;
  prefixes: string[];
  homeBindTimeoutMs: number;
} {
  const tpl = env['SKYPORT_ACTIVITY_URL_TEMPLATE'];
  if (tpl !== undefined && tpl !== '' && !/^https?:\/\//.test(tpl)) {
    throw new ConfigError(
      'activity-url-template',
      `${JSON.stringify(tpl)} must start with http:// or https:// (env SKYPORT_ACTIVITY_URL_TEMPLATE)`,
    );
  }
  const checkMs = durationEnv(env, 'SKYPORT_CULL_CHECK_INTERVAL', 'cull-check-interval');
  const prefixes = (env['SKYPORT_POD_ANNOTATION_PREFIXES'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  for (const p of prefixes) {
    if (p.startsWith('skyport.io/'))
      throw new ConfigError(
        'pod-annotation-prefixes',
        `${p} is reserved (env SKYPORT_POD_ANNOTATION_PREFIXES)`,
      );
  }
  const homeBindTimeoutMs = durationEnv(env, 'SKYPORT_HOME_BIND_TIMEOUT', 'home-bind-timeout');
  const base = { checkMs, prefixes, homeBindTimeoutMs };
  return tpl === undefined || tpl === '' ? base : { ...base, urlTemplate: tpl };
}

/** A duration setting from `env[name]` (default 60 s, at least 1 s); errors name the setting and the variable. */
function durationEnv(env: NodeJS.ProcessEnv, name: string, setting: string): number {
  const raw = env[name];
  const ms = raw === undefined || raw === '' ? 60_000 : parseDuration(setting, raw);
  if (ms < 1000) throw new ConfigError(setting, `${ms} ms is below the 1s minimum (env ${name})`);
  return ms;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(`Usage: skyport-operator [flags]\n${usage()}\n`);
    return;
  }
  let config;
  let lab;
  try {
    config = loadConfig();
    lab = labSettings(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`skyport-operator: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  // Enough sockets for every worker's writes plus the informers' long-lived watches.
  const kube = Kube.fromConfig({ kubeconfig: config.kubeconfig, maxSockets: config.workers * 2 + 16 });
  const manager = new Manager({ kube, config, log });
  const resolver = new JupyterActivityResolver(
    lab.urlTemplate === undefined ? {} : { urlTemplate: lab.urlTemplate },
  );
  manager.add(
    notebookLabController({
      kube,
      events: manager.events,
      resolver,
      cullCheckIntervalMs: lab.checkMs,
      podAnnotationPrefixes: lab.prefixes,
      homeBindTimeoutMs: lab.homeBindTimeoutMs,
    }),
  );
  manager.handleSignals((code) => {
    resolver.close();
    process.exit(code);
  });
  log.info(
    {
      server: kube.server,
      namespaces: config.namespaces.length === 0 ? 'all' : config.namespaces,
      workers: config.workers,
      leaderElection: config.leaderElection.enabled,
      identity: config.leaderElection.identity,
    },
    'Started operator',
  );
  await manager.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`skyport-operator: ${errorMessage(err)}\n`);
  process.exit(1);
});

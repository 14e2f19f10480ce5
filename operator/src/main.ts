// The operator's entry point: config → Kubernetes client → Manager → controllers; SIGTERM drains and exits 0.
import { ConfigError, loadConfig, parseDuration, usage } from './config.js';
import { errorMessage } from './errors.js';
import { Kube } from './kube/index.js';
import { createLogger, Manager } from './runtime/index.js';
import { JupyterActivityResolver } from './controllers/notebooklab/culling/activity.js';
import { notebookLabController } from './controllers/notebooklab/reconcile.js';

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
  const interval = env['SKYPORT_CULL_CHECK_INTERVAL'];
  const checkMs =
    interval === undefined || interval === '' ? 60_000 : parseDuration('cull-check-interval', interval);
  if (checkMs < 1000)
    throw new ConfigError(
      'cull-check-interval',
      `${checkMs} ms is below the 1s minimum (env SKYPORT_CULL_CHECK_INTERVAL)`,
    );
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
  const bind = env['SKYPORT_HOME_BIND_TIMEOUT'];
  const homeBindTimeoutMs =
    bind === undefined || bind === '' ? 60_000 : parseDuration('home-bind-timeout', bind);
  if (homeBindTimeoutMs < 1000)
    throw new ConfigError(
      'home-bind-timeout',
      `${homeBindTimeoutMs} ms is below the 1s minimum (env SKYPORT_HOME_BIND_TIMEOUT)`,
    );
  const base = { checkMs, prefixes, homeBindTimeoutMs };
  return tpl === undefined || tpl === '' ? base : { ...base, urlTemplate: tpl };
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

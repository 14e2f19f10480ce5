// Runs a list of controller modules as one operator process: config → settings → Kubernetes client → Manager →
// controllers; SIGTERM drains and exits 0. main.ts runs the registry's list; a test operator runs its own.
import { ConfigError, loadConfig, usage } from './config.js';
import { Kube } from './kube/index.js';
import {
  Manager,
  ModuleListError,
  SettingError,
  createLogger,
  parseSettings,
  selectModules,
  type ControllerModule,
} from './runtime/index.js';

/** Options of {@link runOperator}; defaults are the process's own. */
export interface RunOperatorOptions {
  argv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Program name in usage and error messages. */
  program?: string;
  /** Called right before the manager installs its SIGTERM/SIGINT handlers (main.ts drops its start-up ones). */
  beforeSignalHandlers?: () => void;
}

/** Usage text: the flags, then each controller's settings with their environment variables. */
export function operatorUsage(modules: readonly ControllerModule[], program: string): string {
  const lines = [`Usage: ${program} [flags]`, usage(), '', 'Controllers and their settings (environment):'];
  for (const m of modules) {
    lines.push(`  ${m.name}: ${m.description}`);
    for (const [key, s] of Object.entries(m.settings))
      lines.push(`    ${s.env.padEnd(34)} ${s.description} [controllers.${m.name}.${key}]`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Parses flags and every selected controller's settings, then starts the manager with those controllers.
 * A bad flag, setting or controller name exits 2 with one line naming it; resolves once the manager started.
 */
export async function runOperator(
  modules: readonly ControllerModule[],
  opts: RunOperatorOptions = {},
): Promise<Manager | undefined> {
  const argv = opts.argv ?? process.argv.slice(2);
  const env = opts.env ?? process.env;
  const program = opts.program ?? 'skyport-operator';
  if (argv.includes('--help')) {
    process.stdout.write(operatorUsage(modules, program));
    return undefined;
  }
  let config;
  let selected;
  try {
    config = loadConfig(argv, env);
    selected = selectModules(modules, config.controllers).map((m) => ({
      module: m,
      settings: parseSettings(m.name, m.settings, env),
    }));
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SettingError || err instanceof ModuleListError) {
      process.stderr.write(`${program}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  // A socket for every worker of every controller, plus the Lease, events and discovery; watches have their own.
  const kube = Kube.fromConfig({
    kubeconfig: config.kubeconfig,
    maxSockets: config.workers * Math.max(1, selected.length) + 8,
  });
  const manager = new Manager({ kube, config, log });
  for (const { module: m, settings } of selected)
    manager.add(m.controller({ kube, events: manager.events, log, settings }));
  opts.beforeSignalHandlers?.();
  manager.handleSignals();
  log.info(
    {
      server: kube.server,
      namespaces: config.namespaces.length === 0 ? 'all' : config.namespaces,
      workers: config.workers,
      controllers: selected.map((s) => s.module.name),
      leaderElection: config.leaderElection.enabled,
      identity: config.leaderElection.identity,
    },
    'Started operator',
  );
  await manager.start();
  return manager;
}

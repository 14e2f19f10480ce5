// Operator configuration from command-line flags and environment, validated once at startup.
import { hostname } from 'node:os';
import type { ManagerConfig } from './runtime/manager.js';
import { durationMs } from './runtime/settings.js';

/** Log levels pino accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A pino log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Validated operator configuration: what the manager reads, plus how to log and reach the apiserver. */
export interface OperatorConfig extends ManagerConfig {
  logLevel: LogLevel;
  /** Kubeconfig path; undefined means in-cluster config or the default loading rules. */
  kubeconfig: string | undefined;
  /** Controllers to run by name; undefined runs every registered controller. */
  controllers: string[] | undefined;
}

/** A bad flag or environment value; the message names the flag and the env variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(`invalid --${flag}: ${message}`);
  }
}

interface FlagSpec {
  env: readonly string[];
  boolean?: boolean;
  help: string;
}

/** Every supported flag, its environment variables (first match wins) and help text. */
export const FLAGS = {
  namespaces: {
    env: ['SKYPORT_NAMESPACES', 'WATCH_NAMESPACE'],
    help: 'comma-separated namespaces to watch; empty or * = all',
  },
  workers: { env: ['SKYPORT_WORKERS'], help: 'concurrent reconciles per controller (1-64, default 4)' },
  'leader-elect': {
    env: ['SKYPORT_LEADER_ELECT'],
    boolean: true,
    help: 'enable leader election (default true)',
  },
  'lease-name': { env: ['SKYPORT_LEASE_NAME'], help: 'Lease name (default skyport-operator)' },
  'lease-namespace': {
    env: ['SKYPORT_LEASE_NAMESPACE', 'POD_NAMESPACE'],
    help: 'Lease namespace (default skyport-system)',
  },
  identity: {
    env: ['SKYPORT_IDENTITY', 'POD_NAME'],
    help: 'leader election identity (default hostname_pid)',
  },
  'probe-port': { env: ['SKYPORT_PROBE_PORT'], help: 'port for /healthz, /readyz, /metrics (default 8081)' },
  'probe-host': { env: ['SKYPORT_PROBE_HOST'], help: 'bind address for the probe server (default 0.0.0.0)' },
  'log-level': {
    env: ['SKYPORT_LOG_LEVEL', 'LOG_LEVEL'],
    help: `one of ${LOG_LEVELS.join(', ')} (default info)`,
  },
  kubeconfig: { env: ['KUBECONFIG'], help: 'path to a kubeconfig (default: in-cluster or ~/.kube/config)' },
  'resync-period': {
    env: ['SKYPORT_RESYNC_PERIOD'],
    help: 'full resync period, e.g. 10m, 30s, 600000 (ms) (default 10m)',
  },
  controllers: {
    env: ['SKYPORT_CONTROLLERS'],
    help: 'comma-separated controllers to run; unset runs all, empty (--controllers=) runs none',
  },
} as const satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function parseArgv(argv: readonly string[]): Map<FlagName, string> {
  const out = new Map<FlagName, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--'))
      throw new ConfigError(arg, 'unexpected positional argument (flags look like --name=value)');
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (name.startsWith('no-') && value === undefined && (name.slice(3) as FlagName) in FLAGS) {
      name = name.slice(3);
      value = 'false';
    }
    if (!(name in FLAGS))
      throw new ConfigError(name, `unknown flag; known flags: ${Object.keys(FLAGS).join(', ')}`);
    const flag = name as FlagName;
    const spec: FlagSpec = FLAGS[flag];
    if (value === undefined) {
      const next = argv[i + 1];
      if (spec.boolean === true && (next === undefined || next.startsWith('--'))) value = 'true';
      else if (next === undefined) throw new ConfigError(flag, 'missing value');
      else {
        value = next;
        i++;
      }
    }
    out.set(flag, value);
  }
  return out;
}

function pick(flags: Map<FlagName, string>, env: NodeJS.ProcessEnv, name: FlagName): string | undefined {
  const fromFlag = flags.get(name);
  if (fromFlag !== undefined) return fromFlag;
  for (const key of FLAGS[name].env) {
    const v = env[key];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

function int(name: FlagName, raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `${JSON.stringify(raw)} is not an integer`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `${n} is out of range ${min}..${max}`);
  return n;
}

function bool(name: FlagName, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `${JSON.stringify(raw)} is not a boolean (true/false)`);
}

/** Parses `30s`, `10m`, `1h`, `500ms` or a bare number of milliseconds. */
export function parseDuration(name: string, raw: string): number {
  const ms = durationMs(raw);
  if (ms === undefined)
    throw new ConfigError(name, `${JSON.stringify(raw)} is not a duration (e.g. 30s, 10m, 1h)`);
  return ms;
}

function dnsName(name: FlagName, raw: string): string {
  if (raw.length > 63 || !DNS1123.test(raw)) {
    throw new ConfigError(
      name,
      `${JSON.stringify(raw)} is not a DNS-1123 label (lower-case alphanumerics and '-', ≤ 63)`,
    );
  }
  return raw;
}

/**
 * Concurrent reconciles per controller. More is not faster: at 1,000 labs starting at once on the bench's 2-core
 * control plane, 2/3/4/5/8/12 workers gave all Ready in 61.8/59.4/58.9/68.2/66.9/67.8 s — past 4, parallel writes
 * starve kube-controller-manager's serial volume binder, which every lab's home claim waits on.
 */
export const DEFAULT_WORKERS = 4;

/**
 * Reads and validates the configuration once. Flags (`--workers=4`, `--workers 4`, `--no-leader-elect`)
 * win over environment variables (see {@link FLAGS}).
 *
 * @throws ConfigError naming the flag when a value is malformed or out of range.
 */
export function loadConfig(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): OperatorConfig {
  const flags = parseArgv(argv);
  const get = (n: FlagName): string | undefined => pick(flags, env, n);

  const nsRaw = (get('namespaces') ?? '').trim();
  const namespaces =
    nsRaw === '' || nsRaw === '*'
      ? []
      : [
          ...new Set(
            nsRaw
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s !== ''),
          ),
        ].map((ns) => dnsName('namespaces', ns));

  const identity = get('identity') ?? `${hostname()}_${process.pid}`;
  if (identity.length > 253) throw new ConfigError('identity', 'longer than 253 characters');

  const probePortRaw = get('probe-port');
  const resyncRaw = get('resync-period');
  const resyncPeriodMs = resyncRaw === undefined ? 600_000 : parseDuration('resync-period', resyncRaw);
  if (resyncPeriodMs < 1000)
    throw new ConfigError('resync-period', `${resyncPeriodMs} ms is below the 1s minimum`);

  const levelRaw = (get('log-level') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(levelRaw)) {
    throw new ConfigError('log-level', `${JSON.stringify(levelRaw)} is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const workersRaw = get('workers');
  const leRaw = get('leader-elect');
  // An explicit empty flag runs no controller (the chart with every controller switched off); unset runs all.
  const controllersRaw = get('controllers');
  return {
    namespaces,
    workers: workersRaw === undefined ? DEFAULT_WORKERS : int('workers', workersRaw, 1, 64),
    leaderElection: {
      enabled: leRaw === undefined ? true : bool('leader-elect', leRaw),
      leaseName: dnsName('lease-name', get('lease-name') ?? 'skyport-operator'),
      leaseNamespace: dnsName('lease-namespace', get('lease-namespace') ?? 'skyport-system'),
      identity,
    },
    probePort: probePortRaw === undefined ? 8081 : int('probe-port', probePortRaw, 0, 65535),
    probeHost: get('probe-host') ?? '0.0.0.0',
    logLevel: levelRaw as LogLevel,
    kubeconfig: get('kubeconfig'),
    resyncPeriodMs,
    controllers:
      controllersRaw === undefined
        ? undefined
        : [
            ...new Set(
              controllersRaw
                .split(',')
                .map((s) => s.trim())
                .filter((s) => s !== ''),
            ),
          ],
  };
}

/** Usage text listing every flag and its environment variables. */
export function usage(): string {
  return Object.entries(FLAGS)
    .map(([name, spec]) => `  --${name.padEnd(18)} ${spec.help} [env: ${spec.env.join(', ')}]`)
    .join('\n');
}

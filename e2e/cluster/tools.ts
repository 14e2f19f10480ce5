// kubectl and helm runners for tests and tooling: return stdout, throw with stderr.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { binDir, cacheRoot } from './paths.js';

/** Options of {@link kubectl} and {@link helm}. */
export interface RunOptions {
  /** Text fed to stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Defaults to $SKYPORT_KUBECONFIG. */
  kubeconfig?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** A tool exited non-zero; `stderr` holds its complaint. */
export class ToolError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`${command} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim() || stdout.trim()}`);
    this.name = 'ToolError';
  }
}

/** Runs a binary from the control-plane cache; resolves with stdout. */
export function runTool(tool: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const exe = join(binDir(), tool);
  return new Promise((resolveOut, reject) => {
    const child = execFile(
      exe,
      args,
      { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolveOut(stdout);
        const code = typeof err.code === 'number' ? err.code : null;
        if (err.code === 'ENOENT') {
          return reject(new Error(`${exe} not found: run \`npm run cluster:build\` first`, { cause: err }));
        }
        reject(new ToolError(`${tool} ${args.join(' ')}`, code, stdout, stderr || err.message));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

function kubeconfigOf(opts: RunOptions): string {
  const k = opts.kubeconfig ?? process.env.SKYPORT_KUBECONFIG;
  if (!k)
    throw new Error('no kubeconfig: pass {kubeconfig} or set SKYPORT_KUBECONFIG (run `npm run cluster:up`)');
  return k;
}

/** Runs kubectl against the local cluster (or `opts.kubeconfig`); resolves with stdout. */
export function kubectl(args: string[], opts: RunOptions = {}): Promise<string> {
  return runTool('kubectl', [`--kubeconfig=${kubeconfigOf(opts)}`, ...args], opts);
}

/** Runs kubectl and parses its `-o json` output. */
export async function kubectlJson<T = unknown>(args: string[], opts: RunOptions = {}): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'], opts)) as T;
}

/**
 * Runs helm with its cache/config/data homes under the skyport cache (never the user's ~/.config/helm).
 * The kubeconfig is passed only when known, so `helm lint`/`template` work without a cluster.
 */
export function helm(args: string[], opts: RunOptions = {}): Promise<string> {
  const home = join(cacheRoot(), 'helm');
  const env = {
    ...(opts.env ?? process.env),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  };
  mkdirSync(home, { recursive: true });
  const k = opts.kubeconfig ?? process.env.SKYPORT_KUBECONFIG;
  return runTool('helm', [...(k ? [`--kubeconfig=${k}`] : []), ...args], { ...opts, env });
}

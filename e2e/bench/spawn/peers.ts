// What `npm run bench:spawn` compares skyport with: venvs from PyPI (JupyterLab with the jupyterlab image's
// pins; JupyterHub + KubeSpawner) cached by their pins, and a JupyterHub process on this machine.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot, freePort, repoRoot } from '../../cluster/index.js';

const execFileP = promisify(execFile);

/** The peer most platforms run (zero-to-jupyterhub's hub and spawner), pinned. */
export const HUB_REQUIREMENTS = ['jupyterhub==6.1.1', 'jupyterhub-kubespawner==7.1.0'];

/**
 * Creates `dir` with `python3 -m venv` and `pip install args` unless a finished one is there. A venv records its
 * own path in its scripts, so it is built in place; `.complete` marks a finished one (a killed run starts over).
 */
async function venv(dir: string, args: string[], log: (m: string) => void): Promise<void> {
  const done = join(dir, '.complete');
  if (existsSync(done)) return;
  rmSync(dir, { recursive: true, force: true });
  log(`Creating ${dir} (pip install ${args.join(' ')})`);
  await execFileP('python3', ['-m', 'venv', dir]);
  await execFileP(join(dir, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', ...args], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 900_000,
  });
  writeFileSync(done, `${args.join(' ')}\n`);
}

/**
 * The venvs: JupyterLab exactly as in the jupyterlab image (its hash-pinned requirements; wheels from the images'
 * download cache when present) and, unless skipped, JupyterHub + KubeSpawner. Paths keyed by their pins.
 */
export async function ensureVenvs(
  skipHub: boolean,
  log: (m: string) => void,
): Promise<{ venvLab: string; venvHub: string }> {
  const req = join(repoRoot, 'images', 'jupyterlab', 'requirements.txt');
  const key = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12);
  const venvLab = join(cacheRoot(), `spawn-bench-lab-${key(readFileSync(req, 'utf8'))}`);
  const venvHub = join(cacheRoot(), `spawn-bench-hub-${key(HUB_REQUIREMENTS.join('\n'))}`);
  const wheels = join(cacheRoot(), 'images', 'wheels');
  const findLinks = existsSync(wheels)
    ? (await execFileP('find', [wheels, '-name', '*.whl', '-printf', '%h\n'])).stdout
        .split('\n')
        .filter((d, i, all) => d !== '' && all.indexOf(d) === i)
        .flatMap((d) => ['--find-links', d])
    : [];
  await venv(venvLab, ['--require-hashes', '--no-deps', ...findLinks, '-r', req], log);
  if (!skipHub) await venv(venvHub, HUB_REQUIREMENTS, log);
  return { venvLab, venvHub };
}

/** A running JupyterHub. */
export interface Hub {
  namespace: string;
  url: string;
  /** Calls the Hub's REST API as the bench's admin service; throws on a status ≥ 400. */
  api(method: string, path: string): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

/** Options of {@link startHub}. */
export interface HubOptions {
  venv: string;
  kubeconfig: string;
  image: string;
  /** Token the spawned JupyterLab servers accept. */
  token: string;
  /** Address the hub listens on: the real node's bridge address, where its pods can reach it. */
  host: string;
  namespace?: string;
  log: (m: string) => void;
}

/** Starts JupyterHub with KubeSpawner (e2e/bench/spawn/jupyterhub_config.py); resolves once its API answers. */
export async function startHub(o: HubOptions): Promise<Hub> {
  const state = mkdtempSync(join(tmpdir(), 'spawn-bench-hub-'));
  const port = await freePort();
  const url = `http://${o.host}:${port}`;
  const apiToken = randomBytes(24).toString('hex');
  const namespace = o.namespace ?? 'spawn-bench-hub';
  const out = createWriteStream(join(state, 'jupyterhub.log'));
  const proc: ChildProcess = spawn(
    join(o.venv, 'bin', 'jupyterhub'),
    ['-f', join(repoRoot, 'e2e', 'bench', 'spawn', 'jupyterhub_config.py')],
    {
      cwd: state,
      env: {
        ...process.env,
        PATH: `${join(o.venv, 'bin')}:${process.env.PATH ?? ''}`,
        KUBECONFIG: o.kubeconfig,
        SPAWN_BENCH_STATE_DIR: state,
        SPAWN_BENCH_HUB_URL: `${url}/hub/`,
        SPAWN_BENCH_TOKEN: apiToken,
        SPAWN_BENCH_NAMESPACE: namespace,
        SPAWN_BENCH_IMAGE: o.image,
        SPAWN_BENCH_LAB_TOKEN: o.token,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  proc.stdout?.pipe(out, { end: false });
  proc.stderr?.pipe(out, { end: false });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const api = async (method: string, path: string): Promise<{ status: number; body: unknown }> => {
    const r = await fetch(`${url}/hub/api${path}`, {
      method,
      headers: { Authorization: `token ${apiToken}` },
    });
    const text = await r.text();
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return { status: r.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const tail = (): string => {
    try {
      return readFileSync(join(state, 'jupyterhub.log'), 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  };
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`jupyterhub exited with ${proc.exitCode}:\n${tail()}`);
    if (Date.now() - t0 > 120_000) throw new Error(`jupyterhub did not answer at ${url}:\n${tail()}`);
    try {
      await api('GET', '/');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  o.log(`JupyterHub ${HUB_REQUIREMENTS.join(' ')} answering at ${url} (${Date.now() - t0} ms; log ${state})`);
  return {
    namespace,
    url,
    api,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
      out.end();
    },
  };
}

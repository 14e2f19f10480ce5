// Spawns real API and worker processes (through tsx) for integration tests, and a small HTTP client.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const serviceRoot = resolve(here, '..', '..');
const repoRoot = resolve(serviceRoot, '..', '..');

/** Tokens of the two test tenants. */
export const TOKENS = { alice: 'alice-token-0123456789abcdef', bob: 'bob-token-0123456789abcdef0' } as const;

/** A child process with captured output. */
export class Proc {
  output = '';
  private exitP: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    child.stdout?.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.output += b.toString()));
    this.exitP = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Waits until the output contains `text` (a pino msg, usually). */
  async waitFor(text: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(text)) {
      if (this.exited) throw new Error(`${this.name} exited before "${text}":\n${this.output}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name}: timed out waiting for "${text}":\n${this.output.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Sends a signal and waits for exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.exited) this.child.kill(signal);
    return this.exitP;
  }
}

function start(entry: string, env: Record<string, string>, name: string): Proc {
  // node --import tsx (not the tsx CLI, which forks a second process): a SIGKILL must hit the real worker.
  const child = spawn(process.execPath, ['--import', 'tsx', join(serviceRoot, 'src', entry)], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Proc(child, name);
}

/** A fresh key prefix, so tests on one Redis never see each other's keys. */
export function freshPrefix(): string {
  return `t${randomUUID().slice(0, 8)}`;
}

/** Starts a worker process. */
export async function startWorker(
  redisUrl: string,
  prefix: string,
  env: Record<string, string> = {},
): Promise<Proc> {
  const p = start('worker-main.ts', { REDIS_URL: redisUrl, KEY_PREFIX: prefix, ...env }, 'worker');
  await p.waitFor('Started worker');
  return p;
}

/** A started API process and its base URL. */
export interface ApiProc {
  readonly proc: Proc;
  readonly url: string;
}

/** Starts an API process on a free loopback port. */
export async function startApiProc(
  redisUrl: string,
  prefix: string,
  env: Record<string, string> = {},
): Promise<ApiProc> {
  const port = await freePort();
  const p = start(
    'api-main.ts',
    {
      REDIS_URL: redisUrl,
      KEY_PREFIX: prefix,
      HOST: '127.0.0.1',
      PORT: String(port),
      TOKENS: `alice=${TOKENS.alice},bob=${TOKENS.bob}`,
      ...env,
    },
    'api',
  );
  await p.waitFor('Started API');
  return { proc: p, url: `http://127.0.0.1:${port}` };
}

/** fetch with a tenant's bearer token. */
export function as(token: string, base: string): (path: string, init?: RequestInit) => Promise<Response> {
  return (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(base + path, { ...init, headers });
  };
}

/** Polls a job until it reaches a terminal phase. */
export async function waitJob(
  call: (p: string) => Promise<Response>,
  jobId: string,
  timeoutMs = 120_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(`/v1/jobs/${jobId}`);
    const job = (await res.json()) as Record<string, unknown>;
    if (job['phase'] === 'COMPLETED' || job['phase'] === 'ERROR' || job['phase'] === 'ABORTED') return job;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} still ${String(job['phase'])} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Deterministic Gaussian data with a few far outliers (mulberry32 + Box–Muller). */
export function gaussianData(rows: number, cols: number, seed: number, outlierEvery = 100): Float64Array {
  let a = seed >>> 0;
  const rnd = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const outlier = outlierEvery > 0 && r % outlierEvery === outlierEvery - 1;
    for (let c = 0; c < cols; c++) {
      if (outlier) out[r * cols + c] = (rnd() * 12 - 6) * 1.5;
      else {
        const u = Math.max(rnd(), 1e-12);
        out[r * cols + c] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
      }
    }
  }
  return out;
}

// The built operator (operator/dist/src/main.js, what the image runs) as PID 1 of a new PID namespace, as in a
// container: the kernel drops any signal PID 1 has no handler for, so without its own handlers a SIGTERM is lost and
// the kubelet waits out the grace period. Needs root (unshare --pid) and `npx tsc -b`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/src/main.js', import.meta.url));
const why =
  process.getuid?.() !== 0
    ? 'needs root for a PID namespace'
    : !existsSync('/usr/bin/unshare')
      ? 'needs unshare (util-linux)'
      : !existsSync(MAIN)
        ? `${MAIN} missing: run npx tsc -b`
        : undefined;

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

interface Pid1 {
  unshare: ChildProcess;
  /** PID of the operator (PID 1 inside its namespace) as seen from here. */
  pid: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts the operator as PID 1 of a new PID namespace against an apiserver that never answers. */
async function startAsPid1(dir: string): Promise<Pid1> {
  const kubeconfig = join(dir, 'kubeconfig');
  // A closed port: the operator keeps retrying its watches, as it would with the apiserver down.
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'http://127.0.0.1:9' } }],
      users: [{ name: 'u', user: { token: 'x' } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }),
  );
  const unshare = spawn(
    '/usr/bin/unshare',
    [
      '--pid',
      '--fork',
      '--kill-child',
      process.execPath,
      MAIN,
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--probe-host=127.0.0.1',
      `--probe-port=${await freePort()}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  unshare.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  unshare.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => unshare.on('exit', (code) => r(code)));
  let pid = 0;
  await until(
    () => {
      try {
        pid = Number(readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim());
      } catch {
        return false;
      }
      return pid > 0;
    },
    10_000,
    'the forked PID 1',
  );
  return { unshare, pid, output: () => out, exited };
}

describe.skipIf(why !== undefined)(`operator as PID 1${why ? ` (skipped: ${why})` : ''}`, () => {
  const dirs: string[] = [];
  const procs: Pid1[] = [];
  afterEach(() => {
    for (const p of procs.splice(0)) p.unshare.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'skyport-pid1-'));
    dirs.push(d);
    return d;
  };

  it('exits at once on SIGTERM while its modules are still loading', async () => {
    const p = await startAsPid1(dir());
    procs.push(p);
    // Node's own start-up (before main.js runs) re-raises SIGTERM with the default action, which PID 1 ignores;
    // no in-process handler can close that gap of a few hundred ms. So SIGTERM is repeated every 50 ms from the
    // spawn: without a handler of main.js's own, every one is lost until the manager's (seconds later, after the
    // modules loaded) and the operator would start.
    const t0 = performance.now();
    const again = setInterval(() => {
      try {
        process.kill(p.pid, 'SIGTERM');
      } catch {
        // exited
      }
    }, 50);
    const code = await p.exited.finally(() => clearInterval(again));
    const ms = performance.now() - t0;
    expect(p.output()).toContain('received SIGTERM while starting; exiting');
    expect(p.output()).not.toContain('Started operator');
    expect(code).toBe(0);
    // Loading the modules alone takes seconds here; the exit came before that.
    expect(ms).toBeLessThan(3000);
  }, 30_000);

  it('once started, shuts down gracefully on SIGTERM and exits 0', async () => {
    const p = await startAsPid1(dir());
    procs.push(p);
    await until(() => p.output().includes('Started operator'), 60_000, '"Started operator" in the log');
    const t0 = performance.now();
    process.kill(p.pid, 'SIGTERM');
    const code = await p.exited;
    const ms = performance.now() - t0;
    expect(p.output()).toContain('Received signal');
    expect(p.output()).toContain('Shut down');
    expect(p.output()).not.toContain('while starting');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
  }, 90_000);
});

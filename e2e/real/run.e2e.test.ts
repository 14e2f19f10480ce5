// The README run command (e2e/run-local.ts, what scripts/run.sh runs after set-up) on a real node: it prints a URL
// on 127.0.0.1 per lab that answers JupyterLab's /lab page, and Ctrl-C, SIGTERM, SIGHUP or its parent dying leave
// nothing of it on the host (processes, mounts, interfaces, iptables chains, cgroups, sysctls). Starts its own real
// node, so it runs only when none is up; needs the images (`npm run images`).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, nodeCacheDir, repoRoot } from '../cluster/index.js';
import { REAL_NODE_NETWORK } from '../cluster/node/config.js';
import { linkExists } from '../cluster/node/host.js';
import { missingImages, realNodePreflight } from '../cluster/node/node.js';
import { hostBaseline, leftovers } from './leftovers.js';

const why =
  realNodePreflight() ??
  (linkExists(REAL_NODE_NETWORK.bridge)
    ? `a real node already runs on this machine (bridge ${REAL_NODE_NETWORK.bridge})`
    : missingImages(['pause', 'operator', 'jupyterlab']));
const nodeBin = join(nodeCacheDir(), 'bin');

interface Run {
  /** The process to signal: run-local itself, or the shell that is its parent. */
  proc: ChildProcess;
  output: () => string;
  /** Resolves once `text` appears in the output. */
  saw: (text: string, timeoutMs: number) => Promise<void>;
  /** The cluster dir, from the first log line that names it. */
  dir: () => string;
  exited: Promise<void>;
}

/** Starts run-local with its own cluster (not the e2e one), directly or as the child of a shell. */
function startRun(viaShell: boolean): Run {
  const env = { ...process.env };
  delete env.SKYPORT_KUBECONFIG;
  delete env.SKYPORT_REAL_NODE;
  const entry = [process.execPath, '--import', 'tsx', join(repoRoot, 'e2e', 'run-local.ts')];
  const proc = viaShell
    ? // `; exit` keeps the shell from exec'ing node: the shell stays its parent.
      spawn('/bin/sh', ['-c', `${entry.map((a) => `'${a}'`).join(' ')}; exit $?`], { cwd: repoRoot, env })
    : spawn(entry[0] ?? '', entry.slice(1), { cwd: repoRoot, env });
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  let exitedWith: string | undefined;
  const exited = new Promise<void>((r) =>
    proc.once('exit', (code, signal) => {
      exitedWith = signal ?? `code ${code}`;
      for (const w of [...waiters]) w();
      r();
    }),
  );
  return {
    proc,
    output: () => out,
    exited,
    dir: () => /kubeconfigs in (\S+) \(/.exec(out)?.[1] ?? '',
    saw: (text, timeoutMs) =>
      new Promise((ok, fail) => {
        const timer = setTimeout(
          () => fail(new Error(`no "${text}" in ${timeoutMs} ms; output:\n${out.slice(-3000)}`)),
          timeoutMs,
        );
        const check = (): void => {
          if (out.includes(text)) {
            clearTimeout(timer);
            ok();
          } else if (exitedWith !== undefined) {
            // It will never print it: fail now, not at the timeout.
            clearTimeout(timer);
            fail(
              new Error(`run-local exited (${exitedWith}) before "${text}"; output:\n${out.slice(-3000)}`),
            );
          }
        };
        waiters.push(check);
        check();
      }),
  };
}

async function expectNothingLeft(run: Run, base: ReturnType<typeof hostBaseline>): Promise<void> {
  const dir = run.dir();
  expect(dir).not.toBe('');
  await eventually(() => expect(leftovers(dir, base, nodeBin)).toEqual([]), {
    timeoutMs: 90_000,
    intervalMs: 500,
    description: `nothing of ${dir} left on the host`,
  });
}

describe.skipIf(why !== undefined)(`run command on the real node${why ? ` (skipped: ${why})` : ''}`, () => {
  it('prints a 127.0.0.1 URL per lab that opens JupyterLab; Ctrl-C (SIGINT) removes everything', async () => {
    const base = hostBaseline();
    const run = startRun(false);
    try {
      await run.saw('Ctrl-C to stop everything', 600_000);
      const urls = [...run.output().matchAll(/(http:\/\/127\.0\.0\.1:\d+\/user\/\S+\/lab\?token=\S+)/g)].map(
        (m) => m[1] ?? '',
      );
      console.log(/\[run-local\] Ready in .*/.exec(run.output())?.[0]);
      expect(urls).toHaveLength(2);
      for (const url of urls) {
        const res = await fetch(url);
        expect(res.status).toBe(200);
        const html = await res.text();
        // JupyterLab's page: its title and the app's config block.
        expect(html).toContain('<title>JupyterLab</title>');
        expect(html).toContain('jupyter-config-data');
        // Without the token the lab refuses (redirects to its login page).
        const anon = await fetch(url.replace(/\?token=.*$/, ''), { redirect: 'manual' });
        expect(anon.status).toBe(302);
        expect(anon.headers.get('location')).toContain('/login');
      }
    } finally {
      run.proc.kill('SIGINT');
      await run.exited;
    }
    expect(run.output()).toContain('Stopped everything');
    await expectNothingLeft(run, base);
  }, 900_000);

  for (const [how, viaShell, when] of [
    ['SIGTERM', false, '[run-local] Importing the JupyterLab image'],
    ['SIGHUP', false, 'Started kube-apiserver'],
    ['its parent dying (SIGKILL)', true, '[run-local] Importing the JupyterLab image'],
  ] as const) {
    it(`${how} removes everything (sent at "${when}")`, async () => {
      const base = hostBaseline();
      const run = startRun(viaShell);
      try {
        await run.saw(when, 300_000);
        run.proc.kill(viaShell ? 'SIGKILL' : how);
        await run.exited;
        await expectNothingLeft(run, base);
      } finally {
        run.proc.kill('SIGKILL');
      }
    }, 600_000);
  }
});

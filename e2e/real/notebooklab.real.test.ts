// Tier "real": NotebookLabs whose Pods run the real `localhost/skyport/jupyterlab:dev` image on the real node. The
// operator runs in-process as the chart's ServiceAccount (like the kwok-tier e2e); the test reaches each server with
// `kubectl port-forward` and talks to it through Jupyter's REST API and kernel websocket, and a headless Chromium
// opens the lab UI. Needs `npm run images` (the jupyterlab archive) and SKYPORT_REAL_NODE=1.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, kubectl, kubectlJson, repoRoot, uniqueName, volumeRootOf } from '../cluster/index.js';
import { REAL_NODE_NAME } from '../cluster/node/config.js';
import { condOf, labClient, labSuite, profile, type Cond } from '../notebooklab/support.js';
import { JupyterClient, portForward, startActivityForwarder, type ActivityForwarder } from './jupyter.js';
import {
  chartWithoutOperatorPods,
  importJupyterLab,
  JUPYTERLAB_IMAGE,
  realNodeSkipReason,
} from './support.js';

const kubeconfig = process.env.SKYPORT_KUBECONFIG ?? inject('skyportKubeconfig');
const skipReason = await realNodeSkipReason(kubeconfig);
const IMAGE = JUPYTERLAB_IMAGE;
const CHROMIUM = process.env['SKYPORT_CHROMIUM'] ?? '/usr/bin/chromium';

const run = uniqueName('rlab');
const P = { main: `${run}-main`, cull: `${run}-cull`, oom: `${run}-oom`, missing: `${run}-missing` };
/** A JupyterLab server needs ~100 MiB; a kernel ~60 MiB more. Small CPU requests: the node has 2 cores. */
const size = (memLimit: string, memRequest = '128Mi'): Record<string, unknown> => ({
  name: 'small',
  requests: { cpu: '50m', memory: memRequest },
  limits: { cpu: '1', memory: memLimit },
});
const realProfile = (
  name: string,
  image: string,
  over: Record<string, unknown> = {},
): Record<string, unknown> =>
  profile(name, {
    images: { aliases: [{ name: 'lab', image }], defaultAlias: 'lab' },
    sizes: [size('768Mi')],
    defaultSize: 'small',
    home: { size: '1Gi', retainPolicy: 'Delete' },
    ...over,
  });

let forwarder: ActivityForwarder | undefined;
let restoreChart: (() => Promise<void>) | undefined;
// Registered before labSuite's hooks, so it runs first: this file's operator runs in-process.
beforeAll(async () => {
  if (skipReason === undefined) restoreChart = await chartWithoutOperatorPods(kubeconfig);
});
afterAll(async () => restoreChart?.());
const { ns, dumpOnFailure } = labSuite({
  run,
  namespace: 'reallab',
  profiles: P,
  activity: false,
  env: () => ({
    SKYPORT_CULL_CHECK_INTERVAL: '2s',
    SKYPORT_ACTIVITY_URL_TEMPLATE: forwarder?.urlTemplate ?? '',
  }),
  setUp: async () => {
    if (skipReason !== undefined) return;
    await importJupyterLab(dirname(kubeconfig));
    forwarder = await startActivityForwarder(kubeconfig);
    await apply(realProfile(P.main, IMAGE));
    await apply(
      realProfile(P.cull, IMAGE, {
        culling: { enabled: true, idleTimeout: '25s', maxLifetime: '1h', warnBefore: '10s' },
      }),
    );
    // The server alone outgrows 48 MiB while it starts: the cgroup's OOM killer ends the container's process 1.
    await apply(realProfile(P.oom, IMAGE, { sizes: [size('48Mi', '48Mi')] }));
    await apply(realProfile(P.missing, 'localhost/skyport/does-not-exist:dev'));
    // The two failing labs fail in the background while the other tests run (they cost the node little).
    await apply(lab('hog', P.oom));
    await apply(lab('missing', P.missing));
  },
  tearDown: async () => forwarder?.close(),
});
const { lab, apply, getLab, getObj, waitPhase, patchSpec } = labClient(ns);

/** The lab's Jupyter base path (`/user/<owner>/<lab>/`) and token (from its Secret). */
async function labAccess(name: string): Promise<{ base: string; token: string }> {
  const secret = await getObj('secret', `${name}-token`);
  const token = Buffer.from(secret?.data?.['token'] ?? '', 'base64').toString();
  expect(token, `${name}-token holds a token`).not.toBe('');
  return { base: `/user/alice/${name}/`, token };
}

/** A JupyterClient through a fresh port-forward to the lab's Pod (closed by the caller). */
async function open(name: string): Promise<{ jp: JupyterClient; close(): void }> {
  const { base, token } = await labAccess(name);
  const pf = await portForward(kubeconfig, ns(), `pod/${name}-lab`);
  return { jp: new JupyterClient(pf.port, base, token), close: () => pf.close() };
}

interface LabPod {
  spec: {
    nodeName?: string;
    containers: { readinessProbe?: { httpGet?: { path: string; port: string | number } } }[];
  };
  status: {
    containerStatuses?: {
      ready: boolean;
      restartCount: number;
      state: { running?: { startedAt: string } };
    }[];
  };
}
interface Pv {
  spec: { hostPath?: { path: string }; claimRef?: { name: string } };
}

describe.skipIf(skipReason !== undefined)(
  `NotebookLab on the real node${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let homeDir = '';

    it('is Ready only once the real server answers; a kernel computes 1 + 1 over the websocket', async () => {
      dumpOnFailure();
      await apply(lab('one', P.main));
      const l = await waitPhase('one', 'Running', 120_000);
      const { base } = await labAccess('one');
      const pod = await kubectlJson<LabPod>(['get', 'pod', 'one-lab', '-n', ns()]);
      expect(pod.spec.nodeName).toBe(REAL_NODE_NAME);
      // The kubelet's readiness probe asks the server's own path under the base URL.
      expect(pod.spec.containers[0]?.readinessProbe?.httpGet).toMatchObject({
        path: `${base}api`,
        port: 'http',
      });
      const { jp, close } = await open('one');
      try {
        // Ready followed the server's start: it was listening before the lab said Ready.
        const st = await jp.api<{ started: string; kernels: number }>('GET', 'api/status');
        expect(st.status).toBe(200);
        const ready = condOf(l, 'Ready') as (Cond & { lastTransitionTime?: string }) | undefined;
        expect(ready?.status).toBe('True');
        expect(Date.parse(ready?.lastTransitionTime ?? '') + 999).toBeGreaterThanOrEqual(
          Date.parse(st.body.started),
        );
        const version = await jp.api<{ version: string }>('GET', 'api');
        expect(version.body.version).toMatch(/^\d+\.\d+/);
        // Without the token the server refuses.
        const anon = await fetch(`http://127.0.0.1:${jp.port}${base}api/status`);
        expect(anon.status).toBe(403);
        expect((await jp.execute('1 + 1')).trim()).toBe('2');
      } finally {
        close();
      }
    });

    it('keeps a file written through the contents API across stop and start, in a real host directory', async () => {
      dumpOnFailure();
      const text = `written by ${run} at ${new Date().toISOString()}\n`;
      let c = await open('one');
      try {
        const put = await c.jp.api('PUT', 'api/contents/hello.txt', {
          type: 'file',
          format: 'text',
          content: text,
        });
        expect(put.status).toBe(201);
      } finally {
        c.close();
      }
      const claim = await getObj<{ spec: { volumeName: string } }>('pvc', 'one-home');
      const pv = await kubectlJson<Pv>(['get', 'pv', claim?.spec?.volumeName ?? '']);
      homeDir = pv.spec.hostPath?.path ?? '';
      expect(dirname(homeDir)).toBe(volumeRootOf(dirname(kubeconfig)));
      // The Pod's uid 1000 wrote it into the directory on this host.
      expect(statSync(join(homeDir, 'hello.txt')).uid).toBe(1000);

      await patchSpec('one', { state: 'Stopped' });
      await waitPhase('one', 'Stopped', 90_000);
      await eventually(async () => (await getObj('pod', 'one-lab')) === undefined, {
        timeoutMs: 60_000,
        description: 'one-lab pod gone',
      });
      await patchSpec('one', { state: 'Running' });
      await waitPhase('one', 'Running', 120_000);
      c = await open('one');
      try {
        const got = await c.jp.api<{ content: string }>(
          'GET',
          'api/contents/hello.txt?type=file&format=text',
        );
        expect(got.status).toBe(200);
        expect(got.body.content).toBe(text);
      } finally {
        c.close();
      }
    });

    it('answers kubectl logs and kubectl exec in the lab pod', async () => {
      dumpOnFailure();
      const logs = await kubectl(['logs', '-n', ns(), 'one-lab'], { kubeconfig });
      expect(logs).toMatch(/Jupyter Server [\d.]+ is running at/);
      expect(logs).toContain('/user/alice/one/lab');
      const ex = (args: string[]): Promise<string> =>
        kubectl(['exec', '-n', ns(), 'one-lab', '-c', 'lab', '--', ...args], { kubeconfig });
      expect((await ex(['id', '-u'])).trim()).toBe('1000');
      expect((await ex(['cat', '/home/jovyan/hello.txt'])).trim()).toMatch(/^written by /);
      // The root filesystem is read-only; only the home and /tmp are writable.
      await expect(ex(['touch', '/opt/x'])).rejects.toThrow(/Read-only file system/);
      expect(await ex(['sh', '-c', 'touch /tmp/x && echo ok'])).toContain('ok');
    });

    it('a kernel allocating past the memory limit is OOM-killed by the real cgroup; the server and lab live on', async () => {
      dumpOnFailure();
      const { jp, close } = await open('one');
      try {
        // 1 GiB written (not just reserved) in a container limited to 768Mi: the cgroup's OOM killer picks the
        // biggest process, the kernel; Jupyter reports it and restarts it.
        await expect(jp.execute("x = b'x' * (1 << 30)")).rejects.toThrow(/kernel (restarting|dead)/);
        const oomControl = await kubectl(
          [
            'exec',
            '-n',
            ns(),
            'one-lab',
            '-c',
            'lab',
            '--',
            'cat',
            '/sys/fs/cgroup/memory/memory.oom_control',
          ],
          { kubeconfig },
        );
        expect(Number(/oom_kill (\d+)/.exec(oomControl)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
        expect((await jp.api('GET', 'api/status')).status).toBe(200);
      } finally {
        close();
      }
      const pod = await kubectlJson<LabPod>(['get', 'pod', 'one-lab', '-n', ns()]);
      expect(pod.status.containerStatuses?.[0]?.restartCount).toBe(0);
      expect((await getLab('one')).status?.phase).toBe('Running');
    });

    it('opens in a headless Chromium with its token and shows the JupyterLab UI', async () => {
      dumpOnFailure();
      const { jp, close } = await open('one');
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await page.goto(`http://127.0.0.1:${jp.port}${jp.basePath}lab?token=${jp.token}`, {
          timeout: 60_000,
        });
        await page.waitForSelector('#jp-main-dock-panel', { timeout: 90_000 });
        await page.waitForSelector('.jp-Launcher', { timeout: 60_000 });
        expect(await page.title()).toMatch(/JupyterLab/);
        // The file browser lists the home, with the file the contents API wrote before the restart.
        await page.waitForSelector('.jp-DirListing-item:has-text("hello.txt")', { timeout: 30_000 });
        const out = join(repoRoot, 'test-results', 'real');
        mkdirSync(out, { recursive: true });
        const shot = join(out, `notebooklab-${run}.png`);
        await page.screenshot({ path: shot });
        console.log(`[notebooklab.real] screenshot: ${shot}`);
        expect(statSync(shot).size).toBeGreaterThan(10_000);
      } finally {
        await browser.close();
        close();
      }
    });

    it('deletes the home directory from the host with the Delete home policy', async () => {
      dumpOnFailure();
      expect(existsSync(homeDir)).toBe(true);
      await kubectl(['delete', 'notebooklab', 'one', '-n', ns(), '--wait=true', '--timeout=120s'], {
        kubeconfig,
      });
      await eventually(async () => (await getObj('pvc', 'one-home')) === undefined, {
        timeoutMs: 60_000,
        description: 'one-home claim deleted',
      });
      await eventually(() => Promise.resolve(!existsSync(homeDir)), {
        timeoutMs: 60_000,
        description: `${homeDir} removed`,
      });
    });

    it('culls an idle lab by the real /api/status and keeps one whose kernel is busy', async () => {
      dumpOnFailure();
      await apply(lab('idle', P.cull));
      await apply(lab('busy', P.cull));
      await waitPhase('busy', 'Running', 120_000);
      const { jp, close } = await open('busy');
      const ws = await jp.connect(await jp.startKernel());
      try {
        // Output on iopub moves the server's last_activity; a silent sleep would not.
        JupyterClient.sendExecute(
          ws,
          'import time\nfor i in range(900):\n    print(i, flush=True)\n    time.sleep(1)',
        );
        const culled = await waitPhase('idle', 'Stopped', 150_000);
        expect(culled.spec.state).toBe('Stopped');
        expect(culled.status?.lastTermination).toMatchObject({ reason: 'Culled' });
        expect(culled.status?.lastActivity).toBeDefined();
        expect(forwarder?.forwarded(`${ns()}/idle-lab`)).toBeGreaterThan(0);
        const busy = await getLab('busy');
        expect(busy.status?.phase).toBe('Running');
        // The operator read the busy kernel's activity from the server: within the idle timeout of now.
        expect(Date.now() - Date.parse(busy.status?.lastActivity ?? '')).toBeLessThan(25_000);
        expect(condOf(busy, 'IdleWarning')?.status).not.toBe('True');
      } finally {
        ws.close();
        close();
      }
      await kubectl(['delete', 'notebooklab', 'idle', 'busy', '-n', ns(), '--wait=false'], { kubeconfig });
    });

    it('fails fast with OOMKilled from the real cgroup and ImagePullFailed from the real kubelet', async () => {
      dumpOnFailure();
      const degraded = (name: string, reason: string) =>
        eventually(
          async () => {
            const x = await getLab(name);
            const d = condOf(x, 'Degraded');
            if (d?.status !== 'True' || d.reason !== reason)
              throw new Error(
                `Degraded ${d?.status ?? '-'}/${d?.reason ?? '-'}, phase ${x.status?.phase ?? '-'}`,
              );
            return x;
          },
          { timeoutMs: 120_000, description: `${name} Degraded ${reason}` },
        );
      const [hog, missing] = await Promise.all([
        degraded('hog', 'OOMKilled'),
        degraded('missing', 'ImagePullFailed'),
      ]);
      expect(hog.status?.phase).toBe('Failed');
      expect(condOf(hog, 'Degraded')?.message).toMatch(/ran out of memory.*limit 48Mi/);
      expect(hog.status?.lastTermination).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
      expect(missing.status?.phase).toBe('Failed');
      expect(condOf(missing, 'Degraded')?.message).toMatch(/does-not-exist/);
      expect(missing.status?.progress?.find((s) => s.name === 'ImagePulled')?.state).toBe('Failed');
      await kubectl(['delete', 'notebooklab', 'hog', 'missing', '-n', ns(), '--wait=false'], { kubeconfig });
    });
  },
);

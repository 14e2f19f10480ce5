// The images run without a node: each is built (or found in the cache) by `npm run images`' code, unpacked from
// its docker-archive and started with runc as Kubernetes would run it (its user, read-only root, tmpfs scratch).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImages, readIndex, type BuildOutcome } from './build.js';
import { KEY_LABEL } from './buildah.js';
import { available } from './exec.js';
import { runContainer, unpackArchive, type Unpacked } from './runc.js';

const needed = ['buildah', 'runc', 'mmdebstrap'];
const missing: string[] = [];
for (const tool of needed) if (!(await available(tool))) missing.push(tool);
if (process.getuid?.() !== 0) missing.push('root (buildah chroot isolation and runc run as root here)');
const skipReason =
  missing.length > 0
    ? ` — skipped: needs ${missing.join(', ')} (apt-get install buildah runc mmdebstrap)`
    : '';

/** A cold build pulls Debian packages, the Node.js package and ~90 wheels; a cached one takes seconds. */
const COLD = 20 * 60_000;

describe.skipIf(missing.length > 0)(`images under runc${skipReason}`, () => {
  let work: string;
  const unpacked = new Map<string, Unpacked>();
  const outcomes = new Map<string, BuildOutcome>();

  /** Builds `name` (cached when unchanged) and unpacks it into its own bundle directory. */
  async function image(name: string): Promise<{ bundle: string; image: Unpacked }> {
    const bundle = join(work, name);
    let u = unpacked.get(name);
    if (u === undefined) {
      for (const o of await buildImages({ names: [name], log: () => undefined })) outcomes.set(o.name, o);
      const built = outcomes.get(name);
      if (built === undefined) throw new Error(`${name} was not built`);
      u = await unpackArchive(built.archive, bundle);
      unpacked.set(name, u);
    }
    return { bundle, image: u };
  }

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'skyport-images-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(
    'testbox: busybox shell as nobody on a read-only root; httpd serves its page',
    async () => {
      const { bundle, image: img } = await image('testbox');
      expect(img.repoTags).toEqual(['localhost/skyport/testbox:dev']);
      const labels = img.image.config.Labels ?? {};
      expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
      expect(labels[KEY_LABEL]).toBe(readIndex()['testbox']?.key);
      const script = [
        'httpd -p 127.0.0.1:8080 -h /www',
        'wget -qO- http://127.0.0.1:8080/',
        'id -u',
        'touch /written 2>&1 || echo refused',
      ].join(' && ');
      const r = await runContainer(bundle, img, { command: ['sh', '-c', script] });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('skyport testbox');
      expect(lines[1]).toBe('65534');
      expect(lines.slice(2).join('\n')).toMatch(/Read-only file system[\s\S]*refused/);
    },
    COLD,
  );

  it(
    'a second build with nothing changed is a cache hit of the same key',
    async () => {
      await image('testbox');
      const first = outcomes.get('testbox');
      const again = await buildImages({ names: ['testbox'], log: () => undefined });
      const hit = again.find((o) => o.name === 'testbox');
      expect(hit?.cached).toBe(true);
      expect(hit?.key).toBe(first?.key);
      expect(hit?.seconds).toBeLessThan(2);
    },
    COLD,
  );

  it(
    'pause: sleeps until SIGTERM, then exits 0',
    async () => {
      const { bundle, image: img } = await image('pause');
      expect(img.image.config.User).toBe('65535:65535');
      const version = await runContainer(bundle, img, { args: ['-v'] });
      expect(version).toMatchObject({ code: 0, stdout: 'skyport-pause\n' });
      const t0 = performance.now();
      const r = await runContainer(bundle, img, {
        signal: { name: 'TERM', afterMs: 1500 },
        timeoutMs: 30_000,
      });
      expect(r.code).toBe(0);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(1500);
    },
    COLD,
  );

  it(
    'operator: node runs the compiled operator as 65532 on a read-only root',
    async () => {
      const { bundle, image: img } = await image('operator');
      expect(img.image.config.User).toBe('65532:65532');
      const help = await runContainer(bundle, img, { args: ['--help'] });
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: skyport-operator/);
      expect(help.stdout).toContain('--probe-port');
      const node = await runContainer(bundle, img, { command: ['node', '--version'] });
      expect(node.stdout.trim()).toMatch(/^v20\./);
      // Outside a cluster it starts against its default server, keeps retrying, and drains cleanly on SIGTERM.
      const bare = await runContainer(bundle, img, {
        signal: { name: 'TERM', afterMs: 1000, whenStdout: /"msg":"Started probe server"/ },
        timeoutMs: 60_000,
      });
      expect(bare.code, bare.stderr).toBe(0);
      expect(bare.stdout).toContain('"msg":"Started operator"');
      expect(bare.stdout).toContain('"msg":"Started probe server"');
      expect(bare.stdout).toContain('"msg":"Shut down"');
    },
    COLD,
  );

  it(
    'operator: a SIGTERM the moment the container starts stops it at once (tini is PID 1, not node)',
    async () => {
      const { bundle, image: img } = await image('operator');
      expect(img.image.config.Entrypoint?.slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
      // Node ignores SIGTERM as PID 1 until main.js installs its handler, a few hundred ms into its start-up (more
      // under load): a Pod deleted then waited out its 30 s grace period. Under tini, node is not PID 1 and the signal's
      // default action ends it at any point of its start-up.
      const t0 = performance.now();
      const r = await runContainer(bundle, img, { signal: { name: 'TERM', afterMs: 0 }, timeoutMs: 30_000 });
      const ms = performance.now() - t0;
      expect(r.stdout).not.toContain('"msg":"Started operator"');
      // 143 when node died of the signal's default action, 0 when main.js's own handler caught it.
      expect([0, 143]).toContain(r.code);
      expect(ms).toBeLessThan(5_000);
    },
    COLD,
  );

  it(
    'anomaly: API and worker entry points both start and check their configuration',
    async () => {
      const { bundle, image: img } = await image('anomaly');
      const api = await runContainer(bundle, img, {});
      expect(api.code).not.toBe(0);
      expect(api.stderr).toContain('TOKENS: at least one tenant=token pair is required');
      const worker = await runContainer(bundle, img, {
        args: ['dist/src/worker-main.js'],
        env: { REDIS_URL: 'http://not-redis' },
      });
      expect(worker.code).not.toBe(0);
      expect(worker.stderr).toContain('REDIS_URL: scheme must be redis: or rediss:');
    },
    COLD,
  );

  it(
    'query-runner: refuses a bad spec (exit 2) and a denied function (exit 1) as uid 1000; busybox rm for cleanup',
    async () => {
      const { bundle, image: img } = await image('query-runner');
      expect(img.image.config.User).toBe('1000:1000');
      const bad = await runContainer(bundle, img, { env: { SKYPORT_JOB_SPEC: '{"query":"SELECT 1"}' } });
      expect(bad.code).toBe(2);
      expect(bad.stdout).toContain('spec.output');
      const spec = {
        query: 'SELECT pg_sleep(3600)',
        catalog: { name: 'desdr' },
        connection: { host: '127.0.0.1', port: 1 },
        output: { dir: '/tmp/out', format: 'csv' },
        executionDurationSeconds: 10,
      };
      const denied = await runContainer(bundle, img, {
        env: { SKYPORT_JOB_SPEC: JSON.stringify(spec), SKYPORT_TERMINATION_LOG: '/tmp/termination' },
        tmpfs: ['/tmp'],
      });
      expect(denied.code).toBe(1);
      expect(denied.stdout).toContain('"code":"QueryFunctionDenied"');
      const rm = await runContainer(bundle, img, { command: ['rm', '-rf', '--', '/tmp/x'], tmpfs: ['/tmp'] });
      expect(rm.code).toBe(0);
    },
    COLD,
  );

  it(
    'tap: serves VOSI as uid 1000 on a read-only root; the kubernetes store outside a pod fails naming why',
    async () => {
      const { bundle, image: img } = await image('tap');
      expect(img.image.config.User).toBe('1000:1000');
      expect(img.image.config.WorkingDir).toBe('/app/services/tap');
      const env = {
        HOST: '127.0.0.1',
        TAP_TOKENS_FILE: '/tmp/tokens',
        TAP_SIGNING_KEY_FILE: '/tmp/key',
        TAP_RESULTS_DIR: '/tmp/results',
      };
      const script = [
        'id -u',
        'echo "alice alice-token-0123456789" > /tmp/tokens',
        'echo kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk > /tmp/key',
        'node dist/src/main.js &',
        'for i in $(seq 120); do wget -qO- http://127.0.0.1:8080/tap/capabilities 2>/dev/null && exit 0; sleep 0.5; done',
        'exit 1',
      ].join('\n');
      const r = await runContainer(bundle, img, {
        command: ['sh', '-c', script],
        env,
        tmpfs: ['/tmp'],
        timeoutMs: 120_000,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split('\n')[0]).toBe('1000');
      expect(r.stdout).toContain('standardID="ivo://ivoa.net/std/TAP"');
      const k8s = await runContainer(bundle, img, {
        env: { ...env, TAP_JOB_STORE: 'kubernetes' },
        tmpfs: ['/tmp'],
        command: [
          'sh',
          '-c',
          'echo "alice alice-token-0123456789" > /tmp/tokens && echo kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk > /tmp/key && exec node dist/src/main.js',
        ],
      });
      expect(k8s.code).not.toBe(0);
      expect(k8s.stderr).toContain('KUBERNETES_SERVICE_HOST is not set');
    },
    COLD,
  );

  it(
    'jupyterlab: runs as uid 1000 in /home/jovyan and answers /api with a read-only root',
    async () => {
      const { bundle, image: img } = await image('jupyterlab');
      expect(img.image.config.User).toBe('1000:100');
      expect(img.image.config.WorkingDir).toBe('/home/jovyan');
      const version = await runContainer(bundle, img, { command: ['jupyter', 'lab', '--version'] });
      expect(version.code).toBe(0);
      expect(version.stdout.trim()).toBe('4.6.6');
      const probe =
        'import urllib.request as u; print(u.urlopen("http://127.0.0.1:8888/api").read().decode())';
      const script = [
        'id -u',
        'jupyter lab --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=8888 --IdentityProvider.token=t &',
        `for i in $(seq 120); do python3 -c '${probe}' 2>/dev/null && exit 0; sleep 0.5; done`,
        'exit 1',
      ].join('\n');
      const r = await runContainer(bundle, img, {
        command: ['bash', '-c', script],
        tmpfs: ['/tmp', '/home/jovyan'],
        timeoutMs: 120_000,
      });
      expect(r.code, r.stderr).toBe(0);
      const [uid, api] = r.stdout.trim().split('\n');
      expect(uid).toBe('1000');
      expect(JSON.parse(api ?? '{}')).toMatchObject({ version: expect.stringMatching(/^2\./) as string });
    },
    COLD,
  );
  it(
    'jupyterlab: the server and kernel modules load from their bytecode, none recompiled, no grammar compiled at start',
    async () => {
      const { bundle, image: img } = await image('jupyterlab');
      // `python -v` says "code object from <pyc>" for a module loaded from its bytecode and "bytecode is
      // stale" for one it recompiles (and, as uid 1000 on a read-only root, cannot cache for the next start).
      const imports = 'import jupyterlab.labapp, jupyter_server.serverapp, ipykernel.kernelapp';
      const script = [
        `python3 -v -c '${imports}' > /tmp/v.log 2>&1 || { tail -20 /tmp/v.log; exit 1; }`,
        "echo cached $(grep -c 'code object from' /tmp/v.log)",
        "echo jsonschema $(grep -c 'jsonschema/__init__' /tmp/v.log)",
        "echo grammars $(grep -c 'rfc3987_syntax' /tmp/v.log)",
        "grep 'bytecode is stale' /tmp/v.log | head -5 | sed 's/^/stale /'",
        'true',
      ].join('\n');
      const r = await runContainer(bundle, img, {
        command: ['bash', '-c', script],
        tmpfs: ['/tmp', '/home/jovyan'],
        timeoutMs: 120_000,
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      const count = (key: string): number =>
        Number(lines.find((l) => l.startsWith(`${key} `))?.split(' ')[1]);
      expect(lines.filter((l) => l.startsWith('stale '))).toEqual([]);
      expect(count('cached')).toBeGreaterThan(500);
      expect(count('jsonschema')).toBeGreaterThan(0);
      // Left out by lock.sh: importing it compiles 39 grammars (~1.1 s of CPU) for formats no Jupyter schema uses.
      expect(count('grammars')).toBe(0);
    },
    COLD,
  );
  it(
    'redis: redis-server as 999 on a read-only root writes its AOF to /data and answers redis-cli',
    async () => {
      const { bundle, image: img } = await image('redis');
      expect(img.image.config.User).toBe('999:999');
      expect(img.image.config.Entrypoint).toEqual(['redis-server']);
      const script = [
        'redis-server --port 6399 --dir /data --appendonly yes --save "" --daemonize no > /tmp/redis.log 2>&1 &',
        'for i in $(seq 100); do redis-cli -p 6399 ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done',
        'id -u',
        'redis-cli -p 6399 set k v42',
        'redis-cli -p 6399 get k',
        'redis-cli -p 6399 config get appendonly | tail -1',
        'sleep 1.2; ls -R /data | grep -c "appendonly.aof" || true',
        'touch /written 2>&1 || echo refused',
        'redis-cli -p 6399 shutdown nosave || true',
      ].join('\n');
      const r = await runContainer(bundle, img, {
        command: ['bash', '-c', script],
        tmpfs: ['/tmp', '/data'],
        timeoutMs: 60_000,
      });
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.slice(0, 4)).toEqual(['999', 'OK', 'v42', 'yes']);
      expect(Number(lines[4])).toBeGreaterThan(0);
      expect(lines.slice(5).join('\n')).toMatch(/Read-only file system[\s\S]*refused/);
    },
    COLD,
  );
});

// The command-line entry points behave as documented: cluster:up/status/down and services.sh up/status/down.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { kubectl, parseEnvFile, repoRoot } from '../cluster/index.js';

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> =>
  new Promise((ok) => {
    execFile(
      cmd,
      args,
      { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 150_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        ok({ code, out: stdout + stderr });
      },
    );
  });

describe('npm run cluster:up | status | down (cli.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skyport-cli-test-'));
  const env = { SKYPORT_RUN_DIR: dir };
  const cli = (sub: string) => run(process.execPath, ['--import', 'tsx', 'e2e/cluster/cli.ts', sub], env);
  afterAll(async () => {
    await cli('down');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a cluster, prints nodes and kubeconfig use, reports status, and stops it by PID', async () => {
    const up = await cli('up');
    expect(up.code, up.out).toBe(0);
    expect(up.out).toMatch(/Cluster up in [\d.]+ s/);
    expect(up.out).toMatch(/kwok-node-0\s+Ready/);
    expect(up.out).toContain(`export KUBECONFIG=${join(dir, 'kubeconfig')}`);
    expect(await kubectl(['get', '--raw', '/readyz'], { kubeconfig: join(dir, 'kubeconfig') })).toBe('ok');

    const again = await cli('up');
    expect(again.out).toContain('Cluster already running');

    const st = await cli('status');
    expect(st.code, st.out).toBe(0);
    expect(st.out).toMatch(/kube-apiserver\s+pid \d+\s+running/);

    const down = await cli('down');
    expect(down.code, down.out).toBe(0);
    expect(down.out).toMatch(/kube-apiserver \(pid \d+\): (terminated|killed)/);
    const after = await cli('status');
    expect(after.code).toBe(1);
    expect(after.out).toContain('No cluster recorded');
  });
});

describe('e2e/services/services.sh up | status | down', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skyport-services-test-'));
  const env = { SKYPORT_SERVICES_DIR: dir };
  const sh = (sub: string) => run('bash', ['e2e/services/services.sh', sub], env);
  afterAll(async () => {
    await sh('down');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts Redis and PostgreSQL, writes their URLs to an env file, and stops them', async () => {
    const up = await sh('up');
    expect(up.code, up.out).toBe(0);
    const urls = parseEnvFile(readFileSync(join(dir, 'services.env'), 'utf8'));
    expect(urls.REDIS_URL).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const c = new pg.Client({ connectionString: urls.DATABASE_URL });
    await c.connect();
    expect((await c.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db).toBe('skyport');
    await c.end();

    const st = await sh('status');
    expect(st.code, st.out).toBe(0);
    expect(st.out).toMatch(/postgres\s+pid \d+\s+running/);

    const down = await sh('down');
    expect(down.out).toMatch(/redis \(pid \d+\): terminated/);
    expect(down.out).toMatch(/postgres \(pid \d+\): terminated/);
    expect((await sh('status')).code).toBe(1);
  });
});

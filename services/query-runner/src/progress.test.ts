import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inClusterAccess } from '@skyport/service-kit/kube-access';
import { ProgressReporter, progressPatch, type PatchFn } from './progress.js';

const root = mkdtempSync(join(tmpdir(), 'skyport-progress-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A patch function that records bodies and answers `code`; `hold` keeps the answer until released. */
interface Recorder {
  fn: PatchFn;
  bodies: unknown[];
  hold: boolean;
  pending: (() => void)[];
  release: () => void;
}
function recorder(code = 200): Recorder {
  const r: Recorder = {
    bodies: [] as unknown[],
    hold: false,
    pending: [] as (() => void)[],
    release: (): void => {
      for (const p of r.pending.splice(0)) p();
    },
    fn: (body: unknown) => {
      r.bodies.push(body);
      return r.hold ? new Promise<number>((res) => r.pending.push(() => res(code))) : Promise.resolve(code);
    },
  };
  return r;
}

const rowsOf = (b: unknown): number => (b as { status: { progress: { rows: number } } }).status.progress.rows;

describe('ProgressReporter', () => {
  it('patches at once, then at most once per interval on its clock, and the final figures always', async () => {
    let t = Date.parse('2026-12-03T10:00:00.400Z');
    const rec = recorder();
    const r = new ProgressReporter(rec.fn, { intervalMs: 5000, now: () => new Date(t) });
    for (let i = 1; i <= 20; i++) {
      r.report({ rows: i * 1000, bytes: i * 10 });
      await Promise.resolve();
      t += 1000; // the runner's progress events come once a second
    }
    // Reports at t0, t0+5 s, +10 s, +15 s.
    expect(rec.bodies.map(rowsOf)).toEqual([1000, 6000, 11000, 16000]);
    await r.flush({ rows: 20_000, bytes: 200 });
    expect(rec.bodies.at(-1)).toEqual({
      status: { progress: { rows: 20_000, bytes: 200, updatedAt: '2026-12-03T10:00:20Z' } },
    });
    expect(r.sent).toBe(5);
  });

  it('never has two patches in flight: a report during one is dropped, the flush waits for it', async () => {
    let t = 0;
    const rec = recorder();
    rec.hold = true;
    const r = new ProgressReporter(rec.fn, { intervalMs: 1000, now: () => new Date(t) });
    r.report({ rows: 1, bytes: 1 });
    t += 5000;
    r.report({ rows: 2, bytes: 2 });
    expect(rec.bodies).toHaveLength(1);
    const done = r.flush({ rows: 3, bytes: 3 });
    await Promise.resolve();
    expect(rec.bodies).toHaveLength(1);
    rec.hold = false;
    rec.release();
    await done;
    expect(rec.bodies.map(rowsOf)).toEqual([1, 3]);
  });

  it('tells a refused patch once and never throws', async () => {
    const warnings: string[] = [];
    const r = new ProgressReporter(recorder(403).fn, { intervalMs: 0, warn: (m) => warnings.push(m) });
    r.report({ rows: 1, bytes: 1 });
    await r.flush({ rows: 2, bytes: 2 });
    const failing = new ProgressReporter(() => Promise.reject(new Error('ECONNREFUSED')), {
      warn: (m) => warnings.push(m),
    });
    await failing.flush({ rows: 1, bytes: 1 });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/HTTP 403/);
    expect(warnings[1]).toMatch(/ECONNREFUSED/);
    expect(r.sent).toBe(0);
  });
});

describe('progressPatch and inClusterAccess', () => {
  it('writes Kubernetes times to the second', () => {
    expect(progressPatch({ rows: 5, bytes: 7 }, new Date('2026-12-03T10:00:01.999Z'))).toEqual({
      status: { progress: { rows: 5, bytes: 7, updatedAt: '2026-12-03T10:00:01Z' } },
    });
  });

  it('finds the pod token and CA, re-reading the token at each call; none outside a pod', () => {
    const dir = mkdtempSync(join(root, 'sa-'));
    writeFileSync(join(dir, 'ca.crt'), 'CA');
    writeFileSync(join(dir, 'token'), 'one\n');
    const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '6443' };
    const a = inClusterAccess(env, dir);
    expect(a?.server).toBe('https://10.0.0.1:6443');
    expect(a?.ca?.toString()).toBe('CA');
    expect(a?.token()).toBe('one');
    writeFileSync(join(dir, 'token'), 'two');
    expect(a?.token()).toBe('two');
    expect(inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1' }, dir)?.server).toBe(
      'https://[fd00::1]:443',
    );
    expect(inClusterAccess({}, dir)).toBeUndefined();
    expect(inClusterAccess(env, join(dir, 'missing'))).toBeUndefined();
  });
});

// Unit tests of component process handling: fail fast with the log tail, stop by PID only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ComponentError, isOurProcess, startComponent, stopProcess, waitHealthy } from './process.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-proc-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('component processes', () => {
  it('report an early exit with the tail of the log instead of waiting for the timeout', async () => {
    const c = startComponent(
      'broken',
      '/bin/sh',
      ['-c', 'echo "flag provided but not defined: -nope"; exit 3'],
      join(dir, 'b.log'),
    );
    const t0 = Date.now();
    const err = await waitHealthy(c, 'http://127.0.0.1:1/healthz', {}, 20_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComponentError);
    expect((err as Error).message).toMatch(/broken exited \(code 3/);
    expect((err as Error).message).toContain('flag provided but not defined: -nope');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('time out with the last probe error when a component never answers', async () => {
    const c = startComponent('silent', '/bin/sleep', ['30'], join(dir, 's.log'));
    try {
      await expect(waitHealthy(c, 'http://127.0.0.1:1/healthz', {}, 500)).rejects.toThrow(
        /silent was not healthy .* within 500 ms/,
      );
    } finally {
      expect(await stopProcess(c)).toBe('terminated');
    }
  });

  it('stop by PID with SIGTERM, escalate to SIGKILL, and leave a PID running something else alone', async () => {
    const stubborn = startComponent(
      'stubborn',
      '/bin/sh',
      ['-c', 'trap "" TERM; while :; do sleep 0.1; done'],
      join(dir, 't.log'),
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(isOurProcess(stubborn.pid, '/bin/sh')).toBe(true);
    expect(await stopProcess(stubborn, 300)).toBe('killed');
    expect(isOurProcess(stubborn.pid, '/bin/sh')).toBe(false);
    // Our own PID runs node, not /bin/sleep: must not be signalled.
    expect(await stopProcess({ name: 'x', pid: process.pid, exe: '/bin/sleep', logFile: '' })).toBe(
      'not-running',
    );
  });
});

// Unit tests of the pure helpers: eventually and unique names.
import { describe, expect, it } from 'vitest';
import { eventually, uniqueName } from './helpers.js';

describe('eventually', () => {
  it('retries until the function stops throwing and returns its value', async () => {
    let n = 0;
    const v = await eventually(
      () => {
        if (++n < 3) throw new Error('not yet');
        return 'done';
      },
      { intervalMs: 10 },
    );
    expect(v).toBe('done');
    expect(n).toBe(3);
  });
  it('treats false as not yet', async () => {
    let n = 0;
    await eventually(() => ++n >= 2, { intervalMs: 10 });
    expect(n).toBe(2);
  });
  it('gives up after the timeout with the last error', async () => {
    await expect(
      eventually(
        () => {
          throw new Error('pod not Ready');
        },
        { timeoutMs: 100, intervalMs: 20, description: 'lab ready' },
      ),
    ).rejects.toThrow(/eventually \(lab ready\) gave up after 100 ms .*pod not Ready/);
  });
});

describe('uniqueName', () => {
  it('makes distinct DNS-1123 names from any prefix', () => {
    const a = uniqueName('My_Test');
    expect(a).toMatch(/^my-test-[0-9a-f]{8}$/);
    expect(uniqueName('x')).not.toBe(uniqueName('x'));
  });
});

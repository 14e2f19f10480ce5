import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { peakRssBytes } from './rss.js';

const MiB = 1024 * 1024;

describe('peakRssBytes', () => {
  it("is this process's own high-water mark: at least what it holds now", () => {
    expect(peakRssBytes()).toBeGreaterThanOrEqual(process.memoryUsage().rss - 16 * MiB);
  });

  it("is a spawned process's own peak, not the peak of the process that spawned it", () => {
    // This process touches 400 MiB, then spawns node: getrusage's maxRSS in the child carries the parent's peak
    // across exec on Linux, VmHWM does not.
    const big = Buffer.alloc(400 * MiB, 1);
    const rss = fileURLToPath(new URL('../dist/src/rss.js', import.meta.url));
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { peakRssBytes } from ${JSON.stringify(rss)};` +
          'console.log(JSON.stringify({ own: peakRssBytes(), rusage: process.resourceUsage().maxRSS * 1024 }))',
      ],
      { encoding: 'utf8' },
    );
    expect(big[big.length - 1]).toBe(1);
    const { own, rusage } = JSON.parse(out) as { own: number; rusage: number };
    expect(own).toBeLessThan(200 * MiB);
    expect(own).toBeGreaterThan(10 * MiB);
    if (process.platform === 'linux') expect(rusage).toBeGreaterThan(400 * MiB); // what the fallback would say
  });
});

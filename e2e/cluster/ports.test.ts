// Unit tests of loopback port picking.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, freePorts } from './ports.js';

const bindable = (port: number): Promise<boolean> =>
  new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(false));
    s.listen(port, '127.0.0.1', () => s.close(() => ok(true)));
  });

describe('freePort(s)', () => {
  it('returns a port that can be bound right away', async () => {
    const p = await freePort();
    expect(p).toBeGreaterThan(1024);
    expect(await bindable(p)).toBe(true);
  });
  it('returns distinct ports within one call', async () => {
    const ports = await freePorts(8);
    expect(new Set(ports).size).toBe(8);
    for (const p of ports) expect(await bindable(p)).toBe(true);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { missingImages, realNodeForUp } from './node.js';

describe('realNodeForUp (cluster:up)', () => {
  const can = (): undefined => undefined;
  const cannot = (): string => 'the real node needs root';

  it('runs the real node by default when the machine can', () => {
    expect(realNodeForUp({}, can)).toEqual({ realNode: true });
  });

  it('SKYPORT_REAL_NODE=0 opts out without asking the machine', () => {
    expect(realNodeForUp({ SKYPORT_REAL_NODE: '0' }, () => expect.fail('no preflight'))).toEqual({
      realNode: false,
    });
  });

  it('SKYPORT_REAL_NODE=1 insists (startCluster then reports what is missing)', () => {
    expect(realNodeForUp({ SKYPORT_REAL_NODE: '1' }, cannot)).toEqual({ realNode: true });
  });

  it('unset on a machine that cannot: kwok only, with the reason and the switches', () => {
    const r = realNodeForUp({}, cannot);
    expect(r.realNode).toBe(false);
    expect(r.note).toContain('the real node needs root');
    expect(r.note).toContain('SKYPORT_REAL_NODE=0');
  });
});

describe('missingImages', () => {
  const saved = process.env['SKYPORT_REQUIRE_IMAGES'];
  afterEach(() => {
    if (saved === undefined) delete process.env['SKYPORT_REQUIRE_IMAGES'];
    else process.env['SKYPORT_REQUIRE_IMAGES'] = saved;
  });

  it('names what to build, and throws instead when the test command requires every image', () => {
    delete process.env['SKYPORT_REQUIRE_IMAGES'];
    expect(missingImages([])).toBeUndefined();
    expect(missingImages(['no-such-image', 'nor-this'])).toBe(
      'images no-such-image, nor-this not built: run `npm run images -- no-such-image nor-this`',
    );
    process.env['SKYPORT_REQUIRE_IMAGES'] = '1';
    expect(() => missingImages(['no-such-image'])).toThrow(
      'image no-such-image not built: run `npm run images -- no-such-image` (SKYPORT_REQUIRE_IMAGES=1)',
    );
  });
});

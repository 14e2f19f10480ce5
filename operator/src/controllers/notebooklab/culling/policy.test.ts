// Unit tests for duration parsing and the pure culling decision.
import { describe, expect, it } from 'vitest';
import { decideCulling } from './policy.js';

const t0 = new Date('2026-11-21T10:00:00Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);
const MIN = 60_000;

describe('decideCulling', () => {
  const policy = { idleTimeoutMs: 60 * MIN, maxLifetimeMs: 24 * 60 * MIN, warnBeforeMs: 10 * MIN };

  it('does nothing without limits', () => {
    expect(decideCulling({ warnBeforeMs: 0 }, t0, undefined, at(1e9))).toEqual({ action: 'none' });
  });
  it('counts idle time from the start when no activity was ever seen', () => {
    const d = decideCulling(policy, t0, undefined, at(5 * MIN));
    expect(d).toMatchObject({ action: 'none', reason: 'Idle', cullAt: at(60 * MIN), warnAt: at(50 * MIN) });
    expect(d.nextCheckMs).toBe(45 * MIN);
  });
  it('warns inside the warning window and culls after the timeout', () => {
    const last = at(10 * MIN);
    expect(decideCulling(policy, t0, last, at(61 * MIN)).action).toBe('warn');
    expect(decideCulling(policy, t0, last, at(61 * MIN)).nextCheckMs).toBe(9 * MIN);
    expect(decideCulling(policy, t0, last, at(70 * MIN))).toMatchObject({ action: 'cull', reason: 'Idle' });
  });
  it('activity older than the start does not shorten the idle window', () => {
    expect(decideCulling(policy, t0, at(-100 * MIN), at(30 * MIN)).cullAt).toEqual(at(60 * MIN));
  });
  it('max lifetime wins over a busy lab', () => {
    const d = decideCulling(policy, t0, at(24 * 60 * MIN - MIN), at(24 * 60 * MIN));
    expect(d).toMatchObject({ action: 'cull', reason: 'MaxLifetime', cullAt: at(24 * 60 * MIN) });
  });
  it('culls for idleness only on a fresh reading; a stale one warns, an unknown one is not idle', () => {
    const last = at(10 * MIN);
    expect(decideCulling(policy, t0, last, at(70 * MIN), 'fresh').action).toBe('cull');
    expect(decideCulling(policy, t0, last, at(70 * MIN), 'stale')).toMatchObject({
      action: 'warn',
      reason: 'Idle',
    });
    const unknown = decideCulling(policy, t0, last, at(70 * MIN), 'unknown');
    expect(unknown).toMatchObject({ action: 'none', reason: 'Idle', cullAt: at(70 * MIN) });
    // Past the idle threshold nothing is ahead but the max-lifetime warning.
    expect(unknown.nextCheckMs).toBe(24 * 60 * MIN - 10 * MIN - 70 * MIN);
    expect(decideCulling(policy, t0, last, at(61 * MIN), 'unknown').action).toBe('none');
  });
  it('enforces the max lifetime whatever the activity reading', () => {
    const d = decideCulling(policy, t0, undefined, at(24 * 60 * MIN), 'unknown');
    expect(d).toMatchObject({ action: 'cull', reason: 'MaxLifetime', cullAt: at(24 * 60 * MIN) });
    expect(decideCulling(policy, t0, undefined, at(24 * 60 * MIN - 5 * MIN), 'unknown')).toMatchObject({
      action: 'warn',
      reason: 'MaxLifetime',
    });
  });
});

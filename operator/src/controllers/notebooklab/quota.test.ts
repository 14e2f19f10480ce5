// Unit tests for the per-owner quota: oldest first, deleting frees a slot, home-size limit.
import { describe, expect, it } from 'vitest';
import { checkQuota } from './quota.js';
import type { QuotaEntry } from './quota.js';

const GI = 2 ** 30;
const lab = (name: string, minute: number, extra: Partial<QuotaEntry> = {}): QuotaEntry => ({
  uid: `uid-${name}`,
  namespace: 'nb',
  name,
  createdAt: `2026-11-21T10:${String(minute).padStart(2, '0')}:00Z`,
  homeBytes: 10 * GI,
  deleting: false,
  ...extra,
});

describe('checkQuota', () => {
  const a = lab('a', 1);
  const b = lab('b', 2);
  const c = lab('c', 3);
  it('admits the oldest labs and refuses the rest with a message naming owner, profile and limit', () => {
    const all = [c, a, b];
    expect(checkQuota(a, all, { maxLabs: 2 }, 'alice', 'std')).toMatchObject({ admitted: true });
    expect(checkQuota(b, all, { maxLabs: 2 }, 'alice', 'std')).toMatchObject({ admitted: true, used: 2 });
    const v = checkQuota(c, all, { maxLabs: 2 }, 'alice', 'std');
    expect(v).toMatchObject({ admitted: false, reason: 'QuotaExceeded', used: 2, max: 2 });
    expect(!v.admitted && v.message).toMatch(
      /Owner alice already has 2 lab\(s\) with profile std \(maxLabs 2\)/,
    );
  });
  it('a lab being deleted frees its slot', () => {
    const all = [{ ...a, deleting: true }, b, c];
    expect(checkQuota(c, all, { maxLabs: 2 }, 'alice', 'std').admitted).toBe(true);
  });
  it('counts the lab itself even when the cache has not seen it yet', () => {
    expect(checkQuota(c, [a, b], { maxLabs: 2 }, 'alice', 'std').admitted).toBe(false);
    expect(checkQuota(a, [], { maxLabs: 0 }, 'alice', 'std').admitted).toBe(false);
  });
  it('enforces the total home size', () => {
    const v = checkQuota(b, [a, b], { maxLabs: 5, maxTotalHomeBytes: 15 * GI }, 'alice', 'std');
    expect(v.admitted).toBe(false);
    expect(!v.admitted && v.message).toMatch(/20Gi of home storage .*maxTotalHomeSize 15Gi/);
    expect(checkQuota(a, [a, b], { maxLabs: 5, maxTotalHomeBytes: 15 * GI }, 'alice', 'std').admitted).toBe(
      true,
    );
  });
  it('ties on creation time are broken by namespace/name', () => {
    const x = lab('x', 5);
    const y = lab('y', 5);
    expect(checkQuota(x, [y, x], { maxLabs: 1 }, 'o', 'p').admitted).toBe(true);
    expect(checkQuota(y, [y, x], { maxLabs: 1 }, 'o', 'p').admitted).toBe(false);
  });
  it('a lab whose spec the profile refuses counts only while it holds a Pod or home claim', () => {
    // a (oldest) asked for a size the profile does not offer: it never ran and holds nothing.
    const invalid = { ...a, valid: false };
    expect(checkQuota(b, [invalid, b], { maxLabs: 1 }, 'alice', 'std').admitted).toBe(true);
    expect(checkQuota(b, [invalid, b], { maxLabs: 1, maxTotalHomeBytes: 10 * GI }, 'o', 'p').admitted).toBe(
      true,
    );
    // It ran before its profile changed and still holds its home: it counts.
    expect(checkQuota(b, [{ ...invalid, holds: true }, b], { maxLabs: 1 }, 'alice', 'std').admitted).toBe(
      false,
    );
  });
  it('labs holding a Pod or home claim come first: an older lab that holds nothing never displaces them', () => {
    // a was invalid while b started; a's spec is fixed now: b keeps running, a waits.
    const running = { ...b, holds: true };
    expect(checkQuota(running, [a, running], { maxLabs: 1 }, 'alice', 'std').admitted).toBe(true);
    const v = checkQuota(a, [a, running], { maxLabs: 1 }, 'alice', 'std');
    expect(v).toMatchObject({ admitted: false, used: 1 });
    // Among holders (or among labs holding nothing), the oldest first as before.
    expect(
      checkQuota(c, [a, { ...b, holds: true }, { ...c, holds: true }], { maxLabs: 1 }, 'o', 'p').admitted,
    ).toBe(false);
  });
});

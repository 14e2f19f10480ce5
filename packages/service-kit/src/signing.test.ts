import { describe, expect, it } from 'vitest';
import { Signer } from './signing.js';

describe('Signer', () => {
  const key = Buffer.from('x'.repeat(32));

  it('accepts its own URL until it expires, on a fake clock', () => {
    let now = 1_000_000_000_000;
    const s = new Signer(key, 900, () => now);
    const { expires, sig } = s.sign('job1/result.csv');
    expect(expires).toBe(1_000_000_900);
    expect(s.check('job1/result.csv', String(expires), sig)).toBeUndefined();
    now += 899_999;
    expect(s.check('job1/result.csv', String(expires), sig)).toBeUndefined();
    now += 1;
    expect(s.check('job1/result.csv', String(expires), sig)).toBe('the URL has expired');
  });

  it('refuses another path, a moved expiry, another key and an unsigned URL', () => {
    const s = new Signer(key, 60, () => 0);
    const { expires, sig } = s.sign('job1/result.csv');
    expect(s.check('job2/result.csv', String(expires), sig)).toBe('the signature does not match');
    expect(s.check('job1/result.csv', String(expires + 3600), sig)).toBe('the signature does not match');
    const other = new Signer(Buffer.from('y'.repeat(32)), 60, () => 0);
    expect(other.check('job1/result.csv', String(expires), sig)).toBe('the signature does not match');
    expect(s.check('job1/result.csv', undefined, sig)).toBe('the URL is not signed');
    expect(s.check('job1/result.csv', String(expires), 'abc')).toBe('the URL is not signed');
  });
});

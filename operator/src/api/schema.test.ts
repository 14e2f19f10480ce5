// The schema builder: required lists, nested defaults, immutability mirrors, and CRD output without JS.
import { describe, expect, it } from 'vitest';
import {
  bool,
  def,
  duration,
  enumOf,
  immutable,
  obj,
  quantity,
  req,
  str,
  toCrdSchema,
  withNestedDefaults,
} from './schema.js';

const inner = obj(
  {
    enabled: def(bool('On or off.'), true),
    timeout: def(duration('How long.'), '30m'),
    note: str('A note.'),
  },
  'Inner settings.',
  {
    rules: [
      {
        rule: 'self.enabled || self.timeout == "0s"',
        message: 'off needs 0s',
        check: (s) => s.enabled || s.timeout === '0s',
      },
    ],
  },
);
const outer = obj(
  {
    name: req(immutable(str('The name.'), 'name is immutable')),
    mode: def(enumOf(['A', 'B'], 'The mode.'), 'A'),
    inner: def(inner, {}),
    size: quantity('A size.'),
  },
  'Outer.',
);

describe('schema builder', () => {
  it('lists only req() properties as required', () => {
    expect(outer.schema.required).toEqual(['name']);
    expect(inner.schema.required).toBeUndefined();
  });

  it('writes object defaults out in full, including nested defaults', () => {
    expect(outer.schema.properties?.inner?.default).toEqual({ enabled: true, timeout: '30m' });
    expect(withNestedDefaults(inner.schema, { enabled: false })).toEqual({ enabled: false, timeout: '30m' });
    expect(withNestedDefaults(inner.schema, 'not an object')).toBe('not an object');
  });

  it('immutable() mirrors self == oldSelf, passing on create', () => {
    const rule = outer.schema.properties?.name?.['x-kubernetes-validations']?.[0];
    expect(rule?.rule).toBe('self == oldSelf');
    const check = rule?.check as ((s: unknown, o: unknown) => boolean) | undefined;
    expect(check?.('a', undefined)).toBe(true);
    expect(check?.('a', 'a')).toBe(true);
    expect(check?.('b', 'a')).toBe(false);
  });

  it('quantities are int-or-string with a bounded pattern', () => {
    expect(outer.schema.properties?.size).toMatchObject({
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      maxLength: 32,
    });
  });

  it('toCrdSchema drops the JS mirrors and keeps the CEL rules', () => {
    const crd = toCrdSchema(outer.schema) as {
      properties: { inner: Record<string, unknown>; name: Record<string, unknown> };
    };
    expect(crd.properties.inner['x-kubernetes-validations']).toEqual([
      { rule: 'self.enabled || self.timeout == "0s"', message: 'off needs 0s' },
    ]);
    expect(JSON.stringify(crd)).not.toContain('check');
    expect(crd.properties.name['x-kubernetes-validations']).toEqual([
      { rule: 'self == oldSelf', message: 'name is immutable' },
    ]);
  });
});

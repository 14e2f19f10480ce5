import { describe, expect, it } from 'vitest';
import { limitSql } from './sync.js';

describe('limitSql', () => {
  it('pushes LIMIT MAXREC + 1 around the query, closing a trailing line comment', () => {
    expect(limitSql('SELECT ra FROM t -- note', 1000)).toBe(
      'SELECT * FROM (SELECT ra FROM t -- note\n) AS tap_sync LIMIT 1001',
    );
    expect(limitSql('SELECT 1', 0)).toBe('SELECT * FROM (SELECT 1\n) AS tap_sync LIMIT 1');
  });
});

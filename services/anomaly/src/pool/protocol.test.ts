// Unit tests for tree partitioning and deterministic task ids.

import { describe, expect, it } from 'vitest';
import { childJobId, parentJobId, treePartitions } from './protocol.js';

describe('treePartitions', () => {
  it.each([
    [100, 4],
    [100, 3],
    [7, 7],
    [5, 9],
    [1, 1],
    [101, 10],
  ])('%i trees in %i parts are contiguous, non-empty and cover every tree once', (ntrees, parts) => {
    const p = treePartitions(ntrees, parts);
    expect(p.length).toBe(Math.min(ntrees, parts));
    expect(p[0]![0]).toBe(0);
    expect(p[p.length - 1]![1]).toBe(ntrees);
    for (let i = 0; i < p.length; i++) {
      expect(p[i]![1]).toBeGreaterThan(p[i]![0]);
      if (i > 0) expect(p[i]![0]).toBe(p[i - 1]![1]);
    }
    const sizes = p.map(([a, b]) => b - a);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });
});

describe('task ids', () => {
  it('are deterministic and free of ":" (BullMQ rejects it in custom ids)', () => {
    expect(childJobId('j1', 3)).toBe('j1-t3');
    expect(parentJobId('j1')).toBe('j1-fanin');
    expect(childJobId('j1', 3)).not.toContain(':');
  });
});

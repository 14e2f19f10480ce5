// Unit tests keeping the fault annotations in TS and in the kwok stage file in step.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { FAULT_ANNOTATION, faultAnnotations, type PodFault } from './faults.js';
import { clusterToolkitDir } from './paths.js';

interface Stage {
  metadata: { name: string };
  spec: { selector: { matchExpressions: { key: string; operator: string; values?: string[] }[] } };
}
const stages = parseAllDocuments(readFileSync(join(clusterToolkitDir, 'stages', 'pod.yaml'), 'utf8')).map(
  (d) => d.toJS() as Stage,
);
const faultExpr = (s: Stage) =>
  s.spec.selector.matchExpressions.find((e) => e.key.includes(FAULT_ANNOTATION));

describe('kwok pod stages', () => {
  it('keep healthy pods away from every fault value, and give each fault (but pending) a stage', () => {
    const all: PodFault[] = ['image-pull', 'crash-loop', 'oom-kill', 'pending'];
    for (const name of ['skyport-pod-ready', 'skyport-pod-complete']) {
      const s = stages.find((x) => x.metadata.name === name);
      expect(faultExpr(s!)).toMatchObject({ operator: 'NotIn', values: all });
    }
    const handled = stages.flatMap((s) =>
      faultExpr(s)?.operator === 'In' ? (faultExpr(s)?.values ?? []) : [],
    );
    expect(handled.sort()).toEqual(['crash-loop', 'image-pull', 'oom-kill']);
  });
});

describe('faultAnnotations', () => {
  it('sets the fault and an optional exit code', () => {
    expect(faultAnnotations('oom-kill')).toEqual({ [FAULT_ANNOTATION]: 'oom-kill' });
    expect(faultAnnotations('crash-loop', { exitCode: 3 })).toEqual({
      [FAULT_ANNOTATION]: 'crash-loop',
      'e2e.skyport.io/exit-code': '3',
    });
  });
});

// The generated RBAC: no wildcards, merged and sorted rules, leases only in the release namespace.
import { describe, expect, it } from 'vitest';
import { definitionName, definitions } from '../api/v1alpha1/index.js';
import {
  assertConcrete,
  clusterRulesBySource,
  controllers,
  generatedRbac,
  mergeRules,
  rbacDeclarations,
  RbacDeclarationError,
} from './registry.js';

describe('controller list', () => {
  it('serves every skyport CRD from exactly one controller', () => {
    const served = controllers.flatMap((m) => m.crds.map(definitionName)).sort();
    expect(served).toEqual(definitions.map(definitionName).sort());
  });

  it("takes each controller's RBAC from its module", () => {
    for (const m of controllers)
      expect(rbacDeclarations).toContainEqual({
        source: `operator/src/controllers/${m.name}`,
        rules: m.rbac,
        controller: m.name,
      });
  });
});

describe('rbac registry', () => {
  it('per-controller sections grant together exactly the merged rules', () => {
    const sections = clusterRulesBySource();
    expect(sections.map((s) => s.controller)).toEqual([undefined, ...controllers.map((m) => m.name)]);
    expect(mergeRules(sections.flatMap((s) => s.rules))).toEqual(generatedRbac().clusterRules);
  });

  it('declares no wildcards anywhere', () => {
    for (const decl of rbacDeclarations) expect(() => assertConcrete(decl)).not.toThrow();
    const { clusterRules, namespacedRules } = generatedRbac();
    for (const rule of [...clusterRules, ...namespacedRules]) {
      for (const v of [...rule.apiGroups, ...rule.resources, ...rule.verbs]) expect(v).not.toContain('*');
    }
  });

  it('grants what the NotebookLab controller and runtime need, leases only namespaced', () => {
    const { clusterRules, namespacedRules } = generatedRbac();
    const can = (rules: typeof clusterRules, group: string, resource: string, verb: string) =>
      rules.some((r) => r.apiGroups[0] === group && r.resources.includes(resource) && r.verbs.includes(verb));
    expect(can(clusterRules, 'skyport.io', 'notebooklabs', 'watch')).toBe(true);
    expect(can(clusterRules, 'skyport.io', 'notebooklabs/status', 'patch')).toBe(true);
    expect(can(clusterRules, '', 'events', 'create')).toBe(true);
    expect(can(clusterRules, 'coordination.k8s.io', 'leases', 'update')).toBe(false);
    expect(can(namespacedRules, 'coordination.k8s.io', 'leases', 'update')).toBe(true);
  });

  it('rejects wildcards, empty lists and resourceNames with the source and rule index', () => {
    expect(() =>
      assertConcrete({
        source: 'x.ts',
        rules: [
          { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
          { apiGroups: ['*'], resources: ['pods'], verbs: ['get'] },
        ],
      }),
    ).toThrow(new RbacDeclarationError('x.ts: rules[1].apiGroups contains wildcard "*"'));
    expect(() =>
      assertConcrete({ source: 'y.ts', rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }] }),
    ).toThrow('y.ts: rules[0].verbs is empty');
    expect(() =>
      assertConcrete({
        source: 'z.ts',
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: ['a'] }],
      }),
    ).toThrow('z.ts: rules[0].resourceNames is not supported by the generator');
    expect(() =>
      generatedRbac([
        { source: 'w.ts', rules: [{ apiGroups: [''], resources: ['pods/*'], verbs: ['get'] }] },
      ]),
    ).toThrow(/wildcard "pods\/\*"/);
  });

  it('merges verbs per resource and groups resources with equal verbs, sorted', () => {
    const merged = mergeRules([
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
      { apiGroups: [''], resources: ['services', 'pods'], verbs: ['watch', 'get'] },
      { apiGroups: ['', 'apps'], resources: ['pods', 'deployments'], verbs: ['list'] },
      { apiGroups: [''], resources: ['services'], verbs: ['list'] },
    ]);
    expect(merged).toEqual(
      [
        { apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['deployments'], verbs: ['list'] },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
        { apiGroups: ['apps'], resources: ['pods'], verbs: ['list'] },
      ].sort(
        (a, b) =>
          a.apiGroups[0]!.localeCompare(b.apiGroups[0]!) || a.resources[0]!.localeCompare(b.resources[0]!),
      ),
    );
  });
});

// The one list of controller modules — main.ts runs it, `npm run generate` writes its CRDs, RBAC and chart
// values from it — and the RBAC merge for the chart's ClusterRole and release-namespace Role.
import type { V1PolicyRule } from '@kubernetes/client-node';
import { checkModules, type ControllerModule } from '../runtime/index.js';
import { rbac as runtimeRbac } from '../runtime/rbac.js';
import { notebookLab } from './notebooklab/index.js';
import { notebookProfile } from './notebookprofile/index.js';
import { anomalyService } from './anomalyservice/index.js';
import { imageCollection } from './imagecollection/index.js';
import { cutoutJob } from './cutoutjob/index.js';
import { queryJob } from './queryjob/index.js';
import { catalog } from './catalog/index.js';

/** Every controller of the operator. A new kind adds its module (`controllers/<kind>/index.ts`) here only. */
export const controllers: readonly ControllerModule[] = [
  notebookLab,
  notebookProfile,
  anomalyService,
  imageCollection,
  queryJob,
  catalog,
  cutoutJob,
];
checkModules(controllers);

/** The rules one part of the operator needs, and where they come from (for error messages and comments). */
export interface RbacDeclaration {
  readonly source: string;
  readonly rules: readonly V1PolicyRule[];
  /** The controller module that needs them: the chart grants them only while `controllers.<name>.enabled`. */
  readonly controller?: string;
}

/** The runtime's rules and every controller's (`npm run generate` writes them into the chart). */
export const rbacDeclarations: readonly RbacDeclaration[] = [
  { source: 'operator/src/runtime/rbac.ts', rules: runtimeRbac },
  ...controllers.map((m) => ({
    source: `operator/src/controllers/${m.name}`,
    rules: m.rbac,
    controller: m.name,
  })),
];

/**
 * Resources the operator only touches in its own (release) namespace: they go into a namespaced Role
 * instead of the ClusterRole, so the operator cannot rewrite other components' leader-election Leases.
 */
export const RELEASE_NAMESPACE_RESOURCES: readonly { apiGroup: string; resource: string }[] = [
  { apiGroup: 'coordination.k8s.io', resource: 'leases' },
];

/** Thrown when a declaration asks for something the generator refuses to grant. */
export class RbacDeclarationError extends Error {
  override readonly name = 'RbacDeclarationError';
}

/** A normalised rule: one API group, sorted resources and verbs. */
export interface MergedRule {
  apiGroups: [string];
  resources: string[];
  verbs: string[];
}

/**
 * Rejects wildcards, resourceNames and nonResourceURLs: each declared rule must list concrete groups,
 * resources and verbs, so that a reviewer can read exactly what the chart grants.
 */
export function assertConcrete(decl: RbacDeclaration): void {
  decl.rules.forEach((rule, i) => {
    const where = `${decl.source}: rules[${i}]`;
    const lists: [string, readonly string[] | undefined][] = [
      ['apiGroups', rule.apiGroups],
      ['resources', rule.resources],
      ['verbs', rule.verbs],
    ];
    for (const [field, values] of lists) {
      if (values === undefined || values.length === 0)
        throw new RbacDeclarationError(`${where}.${field} is empty`);
      const bad = values.find((v) => v.includes('*'));
      if (bad !== undefined) throw new RbacDeclarationError(`${where}.${field} contains wildcard "${bad}"`);
    }
    if (rule.resourceNames !== undefined && rule.resourceNames.length > 0) {
      throw new RbacDeclarationError(`${where}.resourceNames is not supported by the generator`);
    }
    if (rule.nonResourceURLs !== undefined && rule.nonResourceURLs.length > 0) {
      throw new RbacDeclarationError(`${where}.nonResourceURLs is not supported by the generator`);
    }
  });
}

/**
 * Merges rules: the union of verbs per (group, resource), then resources with identical verbs in the same
 * group share one rule. Output is sorted by group, then resources, so the generated YAML is stable.
 */
export function mergeRules(rules: readonly V1PolicyRule[]): MergedRule[] {
  const verbsByKey = new Map<string, Set<string>>();
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const key = `${group}\u0000${resource}`;
        const set = verbsByKey.get(key) ?? new Set<string>();
        for (const verb of rule.verbs) set.add(verb);
        verbsByKey.set(key, set);
      }
    }
  }
  const byGroupVerbs = new Map<string, MergedRule>();
  for (const [key, verbs] of verbsByKey) {
    const [group = '', resource = ''] = key.split('\u0000');
    const sortedVerbs = [...verbs].sort();
    const gv = `${group}\u0000${sortedVerbs.join(',')}`;
    const merged = byGroupVerbs.get(gv) ?? { apiGroups: [group], resources: [], verbs: sortedVerbs };
    merged.resources.push(resource);
    byGroupVerbs.set(gv, merged);
  }
  const out = [...byGroupVerbs.values()];
  for (const r of out) r.resources.sort();
  return out.sort(
    (a, b) =>
      a.apiGroups[0].localeCompare(b.apiGroups[0]) ||
      (a.resources[0] ?? '').localeCompare(b.resources[0] ?? ''),
  );
}

function isReleaseNamespaced(group: string, resource: string): boolean {
  return RELEASE_NAMESPACE_RESOURCES.some((r) => r.apiGroup === group && r.resource === resource);
}

function split(rules: readonly V1PolicyRule[], wantNamespaced: boolean): V1PolicyRule[] {
  const out: V1PolicyRule[] = [];
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? []) {
      const resources = (rule.resources ?? []).filter(
        (r) => isReleaseNamespaced(group, r) === wantNamespaced,
      );
      if (resources.length > 0) out.push({ apiGroups: [group], resources, verbs: rule.verbs });
    }
  }
  return out;
}

/** The ClusterRole's rules and the release-namespace Role's rules, validated and merged. */
export function generatedRbac(decls: readonly RbacDeclaration[] = rbacDeclarations): {
  clusterRules: MergedRule[];
  namespacedRules: MergedRule[];
} {
  decls.forEach(assertConcrete);
  const all = decls.flatMap((d) => d.rules);
  return { clusterRules: mergeRules(split(all, false)), namespacedRules: mergeRules(split(all, true)) };
}

/**
 * The ClusterRole's rules per declaration (each merged on its own), for a chart that grants a controller's rules
 * only while it is enabled. A rule two controllers share appears in both sections: RBAC is a union.
 */
export function clusterRulesBySource(
  decls: readonly RbacDeclaration[] = rbacDeclarations,
): { source: string; controller?: string; rules: MergedRule[] }[] {
  decls.forEach(assertConcrete);
  return decls
    .map((d) => ({
      source: d.source,
      ...(d.controller === undefined ? {} : { controller: d.controller }),
      rules: mergeRules(split(d.rules, false)),
    }))
    .filter((d) => d.rules.length > 0);
}

// Import boundaries, checked by `npm run lint:deps` (a gate of scripts/test.sh). The operator's layers, lowest
// first: api ← meta ← kube ← runtime ← controllers ← main — a layer imports only layers below it. errors.ts is
// a leaf every layer may use; config.ts (the operator's environment) is read by main only. Services never
// import the operator, and outside kube/ the operator imports client-node for its types only. Type-only imports
// count as dependencies for the layer rules.
const OP = '^operator/src/';
const LAYERS = ['api', 'meta', 'kube', 'runtime', 'controllers'];

/** One rule per layer: it must not import any layer above it, nor main.ts. */
const layerRules = LAYERS.map((layer, i) => {
  const above = LAYERS.slice(i + 1);
  return {
    name: `layer-${layer}`,
    comment: `operator/src/${layer} is below ${[...above, 'main'].join(', ')}: it must not import them`,
    severity: 'error',
    from: { path: `${OP}${layer}/` },
    to: { path: [...above.map((l) => `${OP}${l}/`), `${OP}main\\.ts$`] },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'errors-is-a-leaf',
      comment: 'operator/src/errors.ts is used by every layer, so it imports none of them',
      severity: 'error',
      from: { path: `${OP}errors\\.ts$` },
      to: { path: `${OP}` },
    },
    {
      name: 'config-only-from-main',
      comment: "the operator's config module (its environment) is read by main.ts, never by a layer",
      severity: 'error',
      from: { path: `${OP}(api|meta|kube|runtime|controllers)/` },
      to: { path: `${OP}config\\.ts$` },
    },
    {
      name: 'only-kube-calls-kubernetes',
      comment:
        'operator/src/kube is the only code that calls the apiserver: elsewhere client-node is imported for types only',
      severity: 'error',
      from: { path: OP, pathNot: `${OP}kube/` },
      to: { path: 'node_modules/@kubernetes/client-node/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'services-never-import-the-operator',
      comment:
        'services/* are separate programs: they share nothing with the operator but the API on the wire',
      severity: 'error',
      from: { path: '^(services|packages)/' },
      to: { path: '^operator/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that does not resolve is a typo or a missing dependency',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(operator|e2e|(services|packages)/[^/]+)/dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
  },
};

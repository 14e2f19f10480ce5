// The Catalog controller module: a Catalog's TAP service (docs/adr/0009-catalog-tap-service.md). The Catalog CRD is
// served by the QueryJob module (controllers/queryjob); this one only reconciles spec.tap. Registered in
// ../registry.ts.
import { API_VERSION, CATALOG } from '../../api/v1alpha1/index.js';
import type { Catalog } from '../../api/v1alpha1/index.js';
import { managedSelector } from '../../meta/index.js';
import { defineController, generationOrMetadataChanged } from '../../runtime/index.js';
import type { ControllerOptions } from '../../runtime/index.js';
import { rbac } from './rbac.js';
import { CatalogTapReconciler } from './reconcile.js';

/** The Catalog controller's settings; `controllers.catalog.<key>` in the chart. */
export const catalogSettings = {
  tapImage: {
    type: 'string',
    env: 'SKYPORT_TAP_IMAGE',
    default: 'localhost/skyport/tap:dev',
    description: "Image of the TAP service (images/tap) a Catalog's spec.tap runs.",
  },
} as const;

/** Catalog → its TAP service: Deployment, Service, ServiceAccount, Role and RoleBinding in spec.tap.namespace. */
export const catalog = defineController({
  name: 'catalog',
  description:
    "Catalogs' TAP services: a Deployment of services/tap per Catalog with spec.tap, its async jobs QueryJobs.",
  crds: [],
  rbac,
  settings: catalogSettings,
  controller: ({ kube, settings }): ControllerOptions<Catalog> => {
    const r = new CatalogTapReconciler({
      kube,
      settings: { image: settings.tapImage, pullPolicy: 'IfNotPresent' },
    });
    const managed = { labelSelector: managedSelector(CATALOG.kind) };
    return {
      name: 'catalog',
      for: { apiVersion: API_VERSION, kind: CATALOG.kind, clusterScoped: true },
      owns: [
        { apiVersion: 'apps/v1', kind: 'Deployment', ...managed },
        { apiVersion: 'v1', kind: 'Service', ...managed },
        { apiVersion: 'v1', kind: 'ServiceAccount', ...managed },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', ...managed },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', ...managed },
      ],
      // Our own status writes come back as updates; they need no reconcile.
      updatePredicate: generationOrMetadataChanged,
      reconcile: (ctx) => r.reconcile(ctx),
    };
  },
});

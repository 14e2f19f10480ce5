// Fixtures of the QueryJob controller's unit tests: a Catalog and a QueryJob as the apiserver stores them
// (defaults filled in by the CRD schema's ajv mirror).
import { catalogValidator, queryJobValidator } from '../../api/validate.js';
import { API_VERSION, CATALOG, QUERYJOB } from '../../api/v1alpha1/index.js';
import type { Catalog, CatalogSpecInput, QueryJob, QueryJobSpecInput } from '../../api/v1alpha1/index.js';

/** A catalog as stored: DES-like, a Secret `des-reader`, a results claim `query-results`. */
export function catalogFixture(spec: Partial<CatalogSpecInput> = {}): Catalog {
  const r = catalogValidator.validate({
    apiVersion: API_VERSION,
    kind: CATALOG.kind,
    metadata: { name: 'desdr', uid: 'cat-uid-1', generation: 1 },
    spec: {
      release: 'Y6A2',
      database: { host: 'db.example.org', database: 'des', credentials: { secretName: 'des-reader' } },
      results: { claimName: 'query-results' },
      ...spec,
    },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

/** A QueryJob as stored, in namespace user-jsmith. */
export function queryJobFixture(spec: Partial<QueryJobSpecInput> = {}): QueryJob {
  const r = queryJobValidator.validate({
    apiVersion: API_VERSION,
    kind: QUERYJOB.kind,
    metadata: {
      name: 'gold-sample',
      namespace: 'user-jsmith',
      uid: '0f3c1a2b-1111-2222-3333-444455556666',
      generation: 1,
      creationTimestamp: '2026-12-01T10:00:00Z',
    },
    spec: {
      owner: 'jsmith',
      catalogRef: { name: 'desdr' },
      query:
        'SELECT coadd_object_id, ra, dec FROM des_sample WHERE ra BETWEEN 10 AND 11 ORDER BY coadd_object_id',
      phase: 'RUN',
      ...spec,
    },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

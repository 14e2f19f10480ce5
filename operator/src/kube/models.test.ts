// Compile-time checks (a wrong shape fails `tsc`) that client-node's models, as the operator reads them, carry the
// apiserver's RFC 3339 strings where client-node's typings say Date, and are KubeObjects.
import { describe, expectTypeOf, it } from 'vitest';
import type { KubeObject } from './client.js';
import type { V1ContainerStatus, V1PersistentVolumeClaim, V1Pod } from './models.js';

type Condition = NonNullable<NonNullable<V1Pod['status']>['conditions']>[number];

describe('plain-JSON models', () => {
  it('turn every Date of the typings into a string, at any depth', () => {
    expectTypeOf<NonNullable<V1Pod['metadata']>['creationTimestamp']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Condition['lastTransitionTime']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<NonNullable<V1Pod['status']>['startTime']>().toEqualTypeOf<string | undefined>();
    type Running = NonNullable<NonNullable<V1ContainerStatus['state']>['running']>;
    expectTypeOf<Running['startedAt']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Condition['status']>().toEqualTypeOf<string>();
  });

  it('are KubeObjects, so the cache hands them out without casts through unknown', () => {
    expectTypeOf<V1Pod>().toExtend<KubeObject>();
    expectTypeOf<V1PersistentVolumeClaim>().toExtend<KubeObject>();
  });
});

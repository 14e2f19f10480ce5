// Compile-time checks that the inferred types have the intended shape (a wrong shape fails `tsc`), plus a
// run-time check that required/defaulted keys in the schema agree with those types.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { KubeObject } from '../object.js';
import type {
  NotebookLab,
  NotebookLabSpec,
  NotebookLabSpecInput,
  NotebookProfile,
  NotebookProfileSpec,
} from './index.js';
import { notebookLabSpec, notebookProfileSpec } from './index.js';

describe('v1alpha1 types', () => {
  it('NotebookLabSpec: required and defaulted keys are present, optional ones optional', () => {
    expectTypeOf<NotebookLabSpec['owner']>().toEqualTypeOf<string>();
    expectTypeOf<NotebookLabSpec['state']>().toEqualTypeOf<'Running' | 'Stopped'>();
    expectTypeOf<NotebookLabSpec>().toHaveProperty('imageAlias');
    expectTypeOf<Pick<NotebookLabSpec, 'image'>>().toEqualTypeOf<{ image?: string }>();
    expectTypeOf<Pick<NotebookLabSpecInput, 'state'>>().toEqualTypeOf<{ state?: 'Running' | 'Stopped' }>();
    expectTypeOf<NonNullable<NotebookLab['status']>['phase']>().toEqualTypeOf<
      'Pending' | 'Starting' | 'Running' | 'Stopping' | 'Stopped' | 'Failed' | undefined
    >();
    expectTypeOf<NotebookProfileSpec['home']['retainPolicy']>().toEqualTypeOf<'Retain' | 'Delete'>();
    expectTypeOf<NotebookProfileSpec['sizes'][number]['limits']['memory']>().toEqualTypeOf<string | number>();
    expectTypeOf<NotebookProfileSpec['quota']['maxLabs']>().toEqualTypeOf<number>();
  });

  it('NotebookLab and NotebookProfile are plain-JSON KubeObjects: times are strings', () => {
    expectTypeOf<NotebookLab>().toExtend<KubeObject>();
    expectTypeOf<NotebookProfile>().toExtend<KubeObject>();
    expectTypeOf<NotebookLab['metadata']['creationTimestamp']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<NotebookProfile['metadata']['deletionTimestamp']>().toEqualTypeOf<string | undefined>();
  });

  it('schema required lists hold exactly the required keys', () => {
    expect(notebookLabSpec.schema.required).toEqual(['owner', 'profile']);
    expect(notebookProfileSpec.schema.required).toEqual(['images', 'sizes', 'defaultSize']);
  });
});

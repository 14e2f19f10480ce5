// The controller-module list: unique names, CRDs and env variables; selecting controllers by name.
import { describe, expect, it } from 'vitest';
import { notebookLabDefinition } from '../api/v1alpha1/index.js';
import { ModuleListError, checkModules, defineController, selectModules } from './module.js';

const mod = (name: string, env: string, crds = [notebookLabDefinition]) =>
  defineController({
    name,
    description: name,
    crds,
    rbac: [],
    settings: { x: { type: 'duration', env, default: '1s', description: 'x' } },
    controller: () => ({
      name,
      for: { apiVersion: 'v1', kind: 'ConfigMap' },
      reconcile: () => Promise.resolve(),
    }),
  });

describe('checkModules', () => {
  it('accepts distinct names, CRDs and env variables', () => {
    expect(() => checkModules([mod('a', 'A'), mod('b', 'B', [])])).not.toThrow();
  });

  it('names what two modules both declare', () => {
    expect(() => checkModules([mod('a', 'A'), mod('a', 'B', [])])).toThrow(
      'controller a is declared by both a and a',
    );
    expect(() => checkModules([mod('a', 'A'), mod('b', 'B')])).toThrow(
      'CRD notebooklabs.skyport.io is declared by both a and b',
    );
    expect(() => checkModules([mod('a', 'A'), mod('b', 'A', [])])).toThrow(
      'env A is declared by both a and b',
    );
    expect(() => checkModules([mod('Bad_Name', 'A')])).toThrow(ModuleListError);
  });
});

describe('selectModules', () => {
  const all = [mod('a', 'A'), mod('b', 'B', [])];
  it('runs all when unset, exactly those named otherwise, none for an empty list', () => {
    expect(selectModules(all, undefined).map((m) => m.name)).toEqual(['a', 'b']);
    expect(selectModules(all, ['b']).map((m) => m.name)).toEqual(['b']);
    expect(selectModules(all, [])).toEqual([]);
  });

  it('rejects an unknown name, listing the known ones', () => {
    expect(() => selectModules(all, ['c'])).toThrow('unknown controller "c"; known controllers: a, b');
  });
});

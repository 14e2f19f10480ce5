// Generated files must match the typed source; every schema field documents itself; CEL rules have JS mirrors.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findStale, REPO_ROOT, writeAll } from '../../scripts/generate.js';
import { renderAll } from '../../scripts/render.js';
import type { JSONSchemaProps } from './schema.js';
import { crdManifest, definitions } from './v1alpha1/index.js';

function walk(
  schema: JSONSchemaProps,
  path: string,
  visit: (s: JSONSchemaProps, path: string) => void,
): void {
  visit(schema, path);
  for (const [k, v] of Object.entries(schema.properties ?? {})) walk(v, `${path}.${k}`, visit);
  if (schema.items !== undefined) walk(schema.items, `${path}[]`, visit);
  if (typeof schema.additionalProperties === 'object') walk(schema.additionalProperties, `${path}{}`, visit);
}

describe('generated files', () => {
  let tmp: string | undefined;
  afterEach(() => {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  });

  it('are up to date in the repository (run `npm run generate` when this fails)', async () => {
    expect(findStale(REPO_ROOT, await renderAll())).toEqual([]);
  });

  it('stale check reports missing, outdated and unexpected files, and writeAll repairs them', async () => {
    tmp = mkdtempSync(join(tmpdir(), 'skyport-gen-'));
    const files = await renderAll();
    expect(findStale(tmp, files).every((s) => s.problem === 'missing')).toBe(true);
    writeAll(tmp, files);
    expect(findStale(tmp, files)).toEqual([]);
    writeFileSync(join(tmp, 'crds/notebooklabs.skyport.io.yaml'), 'hand-edited\n');
    writeFileSync(join(tmp, 'crds/old.skyport.io.yaml'), 'left over\n');
    expect(findStale(tmp, files)).toEqual([
      { path: 'crds/notebooklabs.skyport.io.yaml', problem: 'outdated' },
      { path: 'crds/old.skyport.io.yaml', problem: 'unexpected' },
    ]);
    writeAll(tmp, files);
    expect(findStale(tmp, files)).toEqual([]);
    expect(readFileSync(join(tmp, 'crds/notebooklabs.skyport.io.yaml'), 'utf8')).toBe(
      files.get('crds/notebooklabs.skyport.io.yaml'),
    );
  });

  it('CRD files parse back to the manifest built from the source', async () => {
    const files = await renderAll();
    for (const def of definitions) {
      const text = files.get(`crds/${def.names.plural}.skyport.io.yaml`) ?? '';
      expect(parse(text)).toEqual(crdManifest(def));
    }
  });
});

describe('schemas', () => {
  it('every spec and status field has a description (kubectl explain text)', () => {
    const missing: string[] = [];
    for (const def of definitions) {
      for (const part of ['spec', 'status'] as const) {
        const root = def.schema.properties?.[part];
        if (root === undefined) throw new Error(`${def.names.kind} has no ${part}`);
        walk(root, `${def.names.kind}.${part}`, (s, p) => {
          if (s.description === undefined || s.description.length < 8) missing.push(p);
        });
      }
    }
    // Array items and map values inherit their parent's description in kubectl explain.
    expect(missing.filter((p) => !p.endsWith('[]') && !p.endsWith('{}'))).toEqual([]);
  });

  it('every CEL rule that is not a transition rule has a JavaScript mirror for ajv', () => {
    const unmirrored: string[] = [];
    for (const def of definitions) {
      walk(def.schema, def.names.kind, (s, p) => {
        for (const r of s['x-kubernetes-validations'] ?? []) {
          if (r.check === undefined && !r.rule.includes('oldSelf')) unmirrored.push(`${p}: ${r.rule}`);
        }
      });
    }
    expect(unmirrored).toEqual([]);
  });

  it('every default satisfies its own CEL rules (the apiserver checks defaults before nested defaulting)', () => {
    const broken: string[] = [];
    for (const def of definitions) {
      walk(def.schema, def.names.kind, (s, p) => {
        if (s.default === undefined) return;
        for (const r of s['x-kubernetes-validations'] ?? []) {
          if (r.check === undefined || r.rule.includes('oldSelf')) continue;
          const check = r.check as (self: unknown, old: unknown) => boolean;
          let ok = false;
          try {
            ok = check(s.default, undefined);
          } catch {
            // A default missing a field the rule reads is exactly the bug this test guards against.
          }
          if (!ok) broken.push(`${p}: ${r.rule}`);
        }
      });
    }
    expect(broken).toEqual([]);
  });

  it('every array has maxItems and every string under a CEL rule is bounded (CEL cost budget)', () => {
    const unbounded: string[] = [];
    for (const def of definitions) {
      walk(def.schema, def.names.kind, (s, p) => {
        if (s.type === 'array' && s.maxItems === undefined) unbounded.push(p);
      });
    }
    expect(unbounded).toEqual([]);
  });
});

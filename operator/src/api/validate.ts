// ajv validators compiled once from the same schemas as the CRDs, with errors that name the field
// (`spec.env[0].name`) like the apiserver does: the operator checks every NotebookProfile with them before building
// from it (controllers/notebooklab/validity.ts); tests check samples and compare verdicts with the apiserver.
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { DURATION_PATTERN, QUANTITY_PATTERN } from './schema.js';
import type { JSONSchemaProps, RuleWithCheck } from './schema.js';
import type { AnomalyService } from './v1alpha1/anomalyservice.js';
import {
  anomalyServiceDefinition,
  cutoutJobDefinition,
  imageCollectionDefinition,
  notebookLabDefinition,
  notebookProfileDefinition,
} from './v1alpha1/crds.js';
import type { CutoutJob } from './v1alpha1/cutoutjob.js';
import type { ImageCollection } from './v1alpha1/imagecollection.js';
import type { KindDefinition } from './v1alpha1/crds.js';
import type { NotebookLab } from './v1alpha1/notebooklab.js';
import type { NotebookProfile } from './v1alpha1/notebookprofile.js';
import { catalogDefinition, queryJobDefinition } from './v1alpha1/crds.js';
import type { Catalog } from './v1alpha1/catalog.js';
import type { QueryJob } from './v1alpha1/queryjob.js';

/** One problem with one field. `path` is dotted with indices, e.g. `spec.env[0].name`. */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/** The defaulted object when valid, else every problem found. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

const RULES = 'x-kubernetes-validations';
const ANNOTATIONS = [
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
];
// Friendlier messages for the patterns users meet most.
const PATTERN_NAMES = new Map([
  [QUANTITY_PATTERN, 'must be a Kubernetes quantity such as "500m", "2" or "2Gi"'],
  [DURATION_PATTERN, 'must be a duration such as "30m", "24h" or "1h30m" (units h, m, s; no days)'],
]);
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** `/spec/env/0/name` → `spec.env[0].name`. */
export function toFieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .filter((p) => p !== '')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce(
      (acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc === '' ? part : `${acc}.${part}`),
      '',
    );
}

function join(base: string, child: string): string {
  return base === '' ? child : `${base}.${child}`;
}

// The previous object during one synchronous validate call, for transition rules (`oldSelf`).
let currentOld: unknown;

function lookup(root: unknown, instancePath: string): unknown {
  let node = root;
  for (const part of instancePath.split('/').filter((p) => p !== '')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

interface RuleFailure {
  rule: RuleWithCheck<never>;
}

/**
 * Close objects under spec/status (`additionalProperties: false`) so typos fail here; the apiserver would
 * silently prune them. Root and metadata stay open: the apiserver owns most of metadata.
 */
function forAjv(schema: JSONSchemaProps, close: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...schema };
  if (schema.properties !== undefined) {
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schema.properties)) {
      props[k] = forAjv(v, close || k === 'spec' || k === 'status');
    }
    out.properties = props;
    if (close && schema.additionalProperties === undefined) out.additionalProperties = false;
  }
  if (schema.items !== undefined) out.items = forAjv(schema.items, close);
  if (typeof schema.additionalProperties === 'object')
    out.additionalProperties = forAjv(schema.additionalProperties, close);
  return out;
}

function buildAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictTypes: false });
  for (const keyword of ANNOTATIONS) ajv.addKeyword({ keyword });
  ajv.addFormat('date-time', RFC3339);
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && Math.abs(n) <= 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addKeyword({
    keyword: RULES,
    schemaType: 'array',
    errors: true,
    validate: function celMirror(
      this: unknown,
      rules: RuleWithCheck<never>[],
      data: unknown,
      _parent?: unknown,
      cxt?: { instancePath: string },
    ): boolean {
      const failures: RuleFailure[] = [];
      const old = currentOld === undefined ? undefined : lookup(currentOld, cxt?.instancePath ?? '');
      for (const rule of rules) {
        if (rule.check === undefined) continue;
        const isTransition = rule.rule.includes('oldSelf');
        // Transition rules only apply on update, and only when the field existed before (like the apiserver).
        if (isTransition && old === undefined) continue;
        let ok = true;
        try {
          ok = (rule.check as (s: unknown, o: unknown) => boolean)(data, old);
        } catch {
          // The field's own pattern already reports malformed values (e.g. a bad quantity); do not double up.
        }
        if (!ok) failures.push({ rule });
      }
      (celMirror as unknown as { errors: Partial<ErrorObject>[] }).errors = failures.map(({ rule }) => ({
        keyword: RULES,
        message: rule.message,
        params: { fieldPath: rule.fieldPath ?? '' },
      }));
      return failures.length === 0;
    },
  });
  return ajv;
}

function toFieldErrors(errors: readonly ErrorObject[]): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    // Int-or-string quantities: report "must be an integer or a string" once instead of each anyOf branch.
    if (e.schemaPath.includes('/anyOf/')) continue;
    const base = toFieldPath(e.instancePath);
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        out.push({ path: join(base, String(params.missingProperty)), message: 'Required value' });
        break;
      case 'additionalProperties':
        out.push({ path: join(base, String(params.additionalProperty)), message: 'unknown field' });
        break;
      case 'enum':
        out.push({
          path: base,
          message: `must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        });
        break;
      case 'pattern':
        out.push({
          path: base,
          message: PATTERN_NAMES.get(String(params.pattern)) ?? e.message ?? 'invalid',
        });
        break;
      case 'anyOf':
        out.push({ path: base, message: 'must be an integer or a string' });
        break;
      case RULES: {
        const fieldPath = typeof params.fieldPath === 'string' ? params.fieldPath : '';
        out.push({ path: fieldPath === '' ? base : `${base}${fieldPath}`, message: e.message ?? 'invalid' });
        break;
      }
      default:
        out.push({ path: base, message: e.message ?? 'invalid' });
    }
  }
  // Sorted by path so messages are stable whatever order ajv visits keywords in.
  return out.sort((a, b) => a.path.localeCompare(b.path) || a.message.localeCompare(b.message));
}

/** A compiled validator for one kind. */
export interface KindValidator<T> {
  /**
   * Validates a whole object (apiVersion, kind, metadata, spec, status). Pass `old` to also run the mirrors
   * of transition rules (immutability). Never mutates `obj`; the returned value carries schema defaults.
   */
  validate(obj: unknown, old?: unknown): ValidationResult<T>;
}

function compile<T>(def: KindDefinition): KindValidator<T> {
  let fn: ValidateFunction | undefined;
  return {
    validate(obj: unknown, old?: unknown): ValidationResult<T> {
      fn ??= buildAjv().compile(forAjv(def.schema, false));
      const copy: unknown = structuredClone(obj);
      currentOld = old;
      try {
        if (fn(copy)) return { ok: true, value: copy as T };
        return { ok: false, errors: toFieldErrors(fn.errors ?? []) };
      } finally {
        currentOld = undefined;
      }
    },
  };
}

/** Validator for NotebookLab objects. */
export const notebookLabValidator: KindValidator<NotebookLab> = compile<NotebookLab>(notebookLabDefinition);
/** Validator for NotebookProfile objects. */
export const notebookProfileValidator: KindValidator<NotebookProfile> =
  compile<NotebookProfile>(notebookProfileDefinition);

/** Validator for AnomalyService objects. */
export const anomalyServiceValidator: KindValidator<AnomalyService> =
  compile<AnomalyService>(anomalyServiceDefinition);
/** Validator for ImageCollection objects. */
export const imageCollectionValidator: KindValidator<ImageCollection> =
  compile<ImageCollection>(imageCollectionDefinition);
/** Validator for CutoutJob objects. */
export const cutoutJobValidator: KindValidator<CutoutJob> = compile<CutoutJob>(cutoutJobDefinition);
/** Validator for Catalog objects. */
export const catalogValidator: KindValidator<Catalog> = compile<Catalog>(catalogDefinition);
/** Validator for QueryJob objects. */
export const queryJobValidator: KindValidator<QueryJob> = compile<QueryJob>(queryJobDefinition);

/** `spec.owner: Required value; spec.state: must be one of: "Running", "Stopped"` — for conditions and logs. */
export function formatErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}

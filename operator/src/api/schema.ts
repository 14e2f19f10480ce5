// A tiny typed builder for Kubernetes structural schemas: one definition yields the CRD's OpenAPI schema,
// the TypeScript type (via Infer) and the JS mirror of each CEL rule that ajv runs as defence in depth.

/** A CEL validation rule as written into `x-kubernetes-validations` (apiextensions.k8s.io/v1 ValidationRule). */
export interface CelRule {
  /** The CEL expression; `self` is the value of the field the rule sits on, `oldSelf` its previous value. */
  readonly rule: string;
  /** Message returned when the rule fails. */
  readonly message: string;
  /** Field path (relative to the rule's field) the apiserver reports, e.g. `.imageAlias`. */
  readonly fieldPath?: string;
  /** The `reason` in the apiserver's error (FieldValueInvalid when unset). */
  readonly reason?:
    'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  /** Whether the rule is a transition rule (uses `oldSelf`); ajv skips those unless given the old object. */
  readonly optionalOldSelf?: boolean;
}

/**
 * A CEL rule plus its JavaScript mirror. `check` returns true when the value is valid; it receives the
 * previous value for transition rules. Rules without a mirror are enforced by the apiserver only.
 */
export interface RuleWithCheck<T> extends CelRule {
  readonly check?: (self: T, oldSelf: T | undefined) => boolean;
}

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps we emit, with Kubernetes' own key spelling. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  enum?: readonly (string | number)[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  anyOf?: JSONSchemaProps[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: RuleWithCheck<never>[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** Whether a property must be given, may be omitted, or is filled in by the apiserver's defaulting. */
export type Presence = 'required' | 'optional' | 'defaulted';

/**
 * A schema node carrying its stored TypeScript type `T` (after apiserver defaulting) and input type `I`
 * (what a user writes) as phantom types.
 */
export interface Field<T, I = T, P extends Presence = Presence> {
  readonly schema: JSONSchemaProps;
  readonly presence: P;
  /** Phantom: never set at run time. */
  readonly __type?: T;
  /** Phantom: never set at run time. */
  readonly __input?: I;
}

/** Any field, for constraints. */
export type AnyField = Field<unknown, unknown, Presence>;
/** The stored (defaulted) type of a field. */
export type Infer<F> = F extends Field<infer T, unknown, Presence> ? T : never;
/** The input type of a field: defaulted properties are optional. */
export type InferInput<F> = F extends Field<unknown, infer I, Presence> ? I : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type Props = Record<string, AnyField>;
type StoredKeys<P extends Props> = {
  [K in keyof P]: P[K]['presence'] extends 'optional' ? never : K;
}[keyof P];
type InputKeys<P extends Props> = {
  [K in keyof P]: P[K]['presence'] extends 'required' ? K : never;
}[keyof P];
/** Object type built from properties: required and defaulted keys present, optional keys optional. */
export type ObjOf<P extends Props> = Simplify<
  { [K in StoredKeys<P>]: Infer<P[K]> } & { [K in Exclude<keyof P, StoredKeys<P>>]?: Infer<P[K]> }
>;
/** Input object type: only required keys present. */
export type ObjInputOf<P extends Props> = Simplify<
  { [K in InputKeys<P>]: InferInput<P[K]> } & { [K in Exclude<keyof P, InputKeys<P>>]?: InferInput<P[K]> }
>;

function field<T, I = T>(schema: JSONSchemaProps): Field<T, I, 'optional'> {
  return { schema, presence: 'optional' };
}

/** Options shared by string builders. */
export interface StringOptions {
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly format?: string;
}

/** A string. Every field takes a description: it becomes `kubectl explain` text. */
export function str(description: string, opts: StringOptions = {}): Field<string, string, 'optional'> {
  return field({ type: 'string', description, ...opts });
}

/** A string restricted to the given values. */
export function enumOf<const V extends readonly string[]>(
  values: V,
  description: string,
): Field<V[number], V[number], 'optional'> {
  return field({ type: 'string', description, enum: [...values] });
}

/** An integer (int32 unless `format` says otherwise). */
export function int(
  description: string,
  opts: { minimum?: number; maximum?: number; format?: 'int32' | 'int64' } = {},
): Field<number, number, 'optional'> {
  return field({ type: 'integer', format: 'int32', description, ...opts });
}

/** A boolean. */
export function bool(description: string): Field<boolean, boolean, 'optional'> {
  return field({ type: 'boolean', description });
}

/** Kubernetes resource.Quantity syntax (as in `resources.requests`), same regex as the apiserver's OpenAPI. */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/** A resource quantity: a string like `2Gi` or `500m`, or a bare integer (int-or-string, as in core types). */
export function quantity(description: string): Field<string | number, string | number, 'optional'> {
  return field({
    description,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: QUANTITY_PATTERN,
    maxLength: 32,
    'x-kubernetes-int-or-string': true,
  });
}

/** Go duration syntax accepted by CEL's `duration()`: e.g. `30m`, `24h`, `1h30m`. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$';

/** A duration string in Go syntax (h, m, s; no days, so CEL `duration()` can compare them). */
export function duration(description: string): Field<string, string, 'optional'> {
  return field({ type: 'string', description, pattern: DURATION_PATTERN, maxLength: 32 });
}

/** An RFC 3339 timestamp, as in metav1.Time. */
export function dateTime(description: string): Field<string, string, 'optional'> {
  return field({ type: 'string', format: 'date-time', description });
}

/** Options for arrays. */
export interface ArrayOptions {
  readonly minItems?: number;
  readonly maxItems: number;
  readonly listType?: 'atomic' | 'set' | 'map';
  readonly listMapKeys?: string[];
}

/** An array. `maxItems` is mandatory: it bounds the CEL cost of rules that iterate the list. */
export function arr<F extends AnyField>(
  item: F,
  description: string,
  opts: ArrayOptions,
): Field<Infer<F>[], InferInput<F>[], 'optional'> {
  const schema: JSONSchemaProps = { type: 'array', description, items: item.schema, maxItems: opts.maxItems };
  if (opts.minItems !== undefined) schema.minItems = opts.minItems;
  if (opts.listType !== undefined) schema['x-kubernetes-list-type'] = opts.listType;
  if (opts.listMapKeys !== undefined) schema['x-kubernetes-list-map-keys'] = opts.listMapKeys;
  return field(schema);
}

/** Options for objects. */
export interface ObjectOptions<T> {
  readonly rules?: readonly RuleWithCheck<T>[];
  readonly minProperties?: number;
}

/** An object with named properties; `required` is derived from the properties' presence. */
export function obj<P extends Props>(
  props: P,
  description: string,
  opts: ObjectOptions<ObjOf<P>> = {},
): Field<ObjOf<P>, ObjInputOf<P>, 'optional'> {
  const properties: Record<string, JSONSchemaProps> = {};
  const required: string[] = [];
  for (const [key, f] of Object.entries(props)) {
    properties[key] = f.schema;
    if (f.presence === 'required') required.push(key);
  }
  const schema: JSONSchemaProps = { type: 'object', description, properties };
  if (required.length > 0) schema.required = required;
  if (opts.minProperties !== undefined) schema.minProperties = opts.minProperties;
  if (opts.rules !== undefined && opts.rules.length > 0)
    schema['x-kubernetes-validations'] = eraseRules(opts.rules);
  return field(schema);
}

// Rules are stored untyped in the schema; the typed `check` is only ever called with values of its field.
function eraseRules<T>(rules: readonly RuleWithCheck<T>[]): RuleWithCheck<never>[] {
  return rules.map((r) => r as unknown as RuleWithCheck<never>);
}

/** Marks a property as required (listed in the parent's `required`). */
export function req<T, I>(f: Field<T, I>): Field<T, I, 'required'> {
  return { schema: f.schema, presence: 'required' };
}

/**
 * Fills in the defaults of nested properties. The apiserver checks a default against the field's CEL rules
 * *before* nested defaulting, so an object default like `{}` must be written out in full.
 */
export function withNestedDefaults(schema: JSONSchemaProps, value: unknown): unknown {
  if (
    schema.properties === undefined ||
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value)
  ) {
    return value;
  }
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, sub] of Object.entries(schema.properties)) {
    if (out[key] === undefined && sub.default !== undefined) out[key] = sub.default;
    if (out[key] !== undefined) out[key] = withNestedDefaults(sub, out[key]);
  }
  return out;
}

/** Gives a property a default the apiserver fills in; the stored type then always has it. */
export function def<T, I>(f: Field<T, I>, value: I): Field<T, I, 'defaulted'> {
  return { schema: { ...f.schema, default: withNestedDefaults(f.schema, value) }, presence: 'defaulted' };
}

/** Adds CEL rules (with optional JS mirrors) to any field. */
export function withRules<T, I, P extends Presence>(
  f: Field<T, I, P>,
  rules: readonly RuleWithCheck<T>[],
): Field<T, I, P> {
  const existing = f.schema['x-kubernetes-validations'] ?? [];
  return {
    schema: { ...f.schema, 'x-kubernetes-validations': [...existing, ...eraseRules(rules)] },
    presence: f.presence,
  };
}

/** Makes a field immutable once set (`self == oldSelf`), with the given message. */
export function immutable<T, I, P extends Presence>(f: Field<T, I, P>, message: string): Field<T, I, P> {
  return withRules(f, [
    { rule: 'self == oldSelf', message, check: (self, old) => old === undefined || self === old },
  ]);
}

/**
 * The schema exactly as it goes into a CRD: JS mirrors dropped, keys in a stable order. Used by the generator.
 */
export function toCrdSchema(schema: JSONSchemaProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (value === undefined) continue;
    if (key === 'x-kubernetes-validations') {
      out[key] = (value as RuleWithCheck<never>[]).map(({ check: _check, ...rest }) => ({ ...rest }));
    } else if (key === 'properties') {
      const props: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(value as Record<string, JSONSchemaProps>))
        props[name] = toCrdSchema(sub);
      out[key] = props;
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object') {
      out[key] = toCrdSchema(value as JSONSchemaProps);
    } else if (key === 'anyOf') {
      out[key] = (value as JSONSchemaProps[]).map(toCrdSchema);
    } else {
      out[key] = value;
    }
  }
  return out;
}

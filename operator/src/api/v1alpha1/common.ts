// Schema pieces shared by every skyport kind: conditions, resource lists, name patterns.
import { arr, bool, dateTime, def, enumOf, int, obj, quantity, req, str, withRules } from '../schema.js';
import type { Infer } from '../schema.js';
import { parseQuantity } from '../units.js';

/** DNS-1123 subdomain (names of most objects, e.g. a NotebookProfile). */
export const DNS1123_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** DNS-1123 label (names that become Service names and label values). */
export const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** A label value: ≤ 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends. */
export const LABEL_VALUE_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$';
/** A C identifier, as POSIX shells accept for environment variable names. */
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/** An OCI image reference: `[registry/]repository[:tag][@digest]`, no whitespace. */
export const IMAGE_PATTERN =
  '^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$';

/** metav1.Condition, the Kubernetes API conventions' status condition. */
export const condition = obj(
  {
    type: req(
      str('Type of condition in CamelCase, e.g. Ready, Progressing or Degraded.', {
        maxLength: 316,
        pattern:
          '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      }),
    ),
    status: req(
      enumOf(['True', 'False', 'Unknown'] as const, 'Status of the condition: True, False or Unknown.'),
    ),
    observedGeneration: int(
      'The metadata.generation the condition was computed from; older than the current generation means stale.',
      { minimum: 0, format: 'int64' },
    ),
    lastTransitionTime: req(dateTime('When the condition last changed from one status to another.')),
    reason: req(
      str(
        'Machine-readable CamelCase reason for the last transition, a stable code such as ImagePullFailed.',
        {
          minLength: 1,
          maxLength: 1024,
          pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
        },
      ),
    ),
    message: req(
      str('Human-readable details about the last transition, with a hint where one helps.', {
        maxLength: 32768,
      }),
    ),
  },
  'A status condition (metav1.Condition).',
);

/** A status condition. */
export type Condition = Infer<typeof condition>;

/** `status.conditions`: a list-map keyed by `type`, so server-side apply merges by type. */
export function conditions(description: string) {
  return arr(condition, description, { maxItems: 16, listType: 'map', listMapKeys: ['type'] });
}

/**
 * Fixed bounds of the amounts a profile sets: positive, and no larger than any node or volume an admin means.
 * Fixed because a CRD's CEL rules cannot read a setting from elsewhere (such as the chart's values).
 * `whole`: a whole number of base units (bytes), so `1n` or `1500m` of memory is refused.
 */
export const QUANTITY_BOUNDS = {
  cpu: { min: '1m', max: '1024', whole: false, unit: 'cores' },
  memory: { min: '1Mi', max: '64Ti', whole: true, unit: 'bytes' },
  storage: { min: '1Mi', max: '1Pi', whole: true, unit: 'bytes' },
} as const;

/** Which of {@link QUANTITY_BOUNDS} a quantity obeys. */
export type QuantityKind = keyof typeof QUANTITY_BOUNDS;

/** True when `v` is a quantity within the bounds of its kind (the JS mirror of {@link boundedQuantity}'s rule). */
export function withinBounds(kind: QuantityKind, v: string | number): boolean {
  const b = QUANTITY_BOUNDS[kind];
  const n = parseQuantity(v);
  return (!b.whole || Number.isInteger(n)) && n >= parseQuantity(b.min) && n <= parseQuantity(b.max);
}

/** The message of a quantity outside the bounds of its kind. */
export function boundsMessage(kind: QuantityKind): string {
  const b = QUANTITY_BOUNDS[kind];
  return `must be ${b.whole ? `a whole number of ${b.unit} ` : ''}from ${b.min} to ${b.max}${b.whole ? '' : ` ${b.unit}`}`;
}

/**
 * A quantity within {@link QUANTITY_BOUNDS}: refused by CEL on the apiserver and by the ajv mirror. A value that
 * is not a quantity at all is left to the pattern's message.
 */
export function boundedQuantity(kind: QuantityKind, description: string) {
  const b = QUANTITY_BOUNDS[kind];
  const q = 'quantity(string(self))';
  const whole = b.whole ? `${q}.isInteger() && ` : '';
  const range = `From ${b.min} to ${b.max}${b.whole ? `, in whole ${b.unit}` : ` ${b.unit}`}`;
  return withRules(quantity(`${description} ${range}.`), [
    {
      rule: `!isQuantity(string(self)) || (${whole}${q}.compareTo(quantity('${b.min}')) >= 0 && ${q}.compareTo(quantity('${b.max}')) <= 0)`,
      message: boundsMessage(kind),
      check: (v) => withinBounds(kind, v),
    },
  ]);
}

/** CPU and memory amounts (a subset of core/v1 ResourceList), within {@link QUANTITY_BOUNDS}. */
export const resourceAmounts = obj(
  {
    cpu: req(boundedQuantity('cpu', 'CPU in cores or millicores, e.g. "1" or "500m".')),
    memory: req(boundedQuantity('memory', 'Memory in bytes with a binary suffix, e.g. "2Gi".')),
  },
  'CPU and memory amounts.',
);

/** Stored type of CPU and memory amounts. */
export type ResourceAmounts = Infer<typeof resourceAmounts>;

/** `status.observedGeneration`. */
export function observedGeneration() {
  return int(
    'The metadata.generation the controller last reconciled; status is current when it equals metadata.generation.',
    {
      minimum: 0,
      format: 'int64',
    },
  );
}

/** A reference to a key of a Secret in the resource's own namespace. */
export const secretKeyRef = obj(
  {
    name: req(
      str("Name of the Secret, in the lab's namespace.", {
        pattern: DNS1123_SUBDOMAIN_PATTERN,
        maxLength: 253,
      }),
    ),
    key: req(str('Key within the Secret.', { pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 })),
    optional: def(bool('Whether the variable may be left unset when the Secret or key is missing.'), false),
  },
  "Selects a key of a Secret in the lab's namespace.",
);

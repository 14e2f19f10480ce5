// The chart's values.schema.json: strict (unknown keys are errors) and, for the sample NotebookProfile, the
// very schema of NotebookProfile.spec, so `helm install` rejects a bad profile before it reaches the apiserver.
import { notebookProfileSpec } from '../src/api/v1alpha1/index.js';
import type { JSONSchemaProps } from '../src/api/schema.js';
import type { ControllerModule } from '../src/runtime/index.js';
import { controllersValuesSchema } from './controllers.js';

type Json = Record<string, unknown>;

/** A CRD schema as plain JSON Schema draft-07: Kubernetes extensions dropped, objects closed. */
export function plainSchema(s: JSONSchemaProps): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(s)) {
    if (key.startsWith('x-kubernetes-') || key === 'default' || value === undefined) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JSONSchemaProps>).map(([k, v]) => [k, plainSchema(v)]),
      );
    } else if (key === 'items') out.items = plainSchema(value as JSONSchemaProps);
    else if (key === 'additionalProperties' && typeof value === 'object') {
      out.additionalProperties = plainSchema(value as JSONSchemaProps);
    } else if (key === 'anyOf') out.anyOf = (value as JSONSchemaProps[]).map(plainSchema);
    else out[key] = value;
  }
  if (s.properties !== undefined && s.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const str = (description: string, extra: Json = {}): Json => ({ type: 'string', description, ...extra });
const int = (description: string, extra: Json = {}): Json => ({ type: 'integer', description, ...extra });
const bool = (description: string): Json => ({ type: 'boolean', description });
const closed = (description: string, properties: Record<string, Json>, required: string[] = []): Json => ({
  type: 'object',
  description,
  additionalProperties: false,
  properties,
  ...(required.length > 0 ? { required } : {}),
});
const freeMap = (description: string, valueType = 'string'): Json => ({
  type: 'object',
  description,
  additionalProperties: { type: valueType },
});
const list = (description: string, items: Json = { type: 'object' }): Json => ({
  type: 'array',
  description,
  items,
});
const quantity: Json = { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^[0-9.]+[a-zA-Z]*$' }] };
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** The whole values.schema.json document; `controllers` from the controller list. */
export function valuesSchema(modules: readonly ControllerModule[]): Json {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'skyport chart values',
    type: 'object',
    additionalProperties: false,
    properties: {
      global: { type: 'object', description: 'Values shared with a parent chart.' },
      replicaCount: int('Operator replicas; one leads, others stand by.', { minimum: 1, maximum: 10 }),
      image: closed(
        'Operator image.',
        {
          repository: str('Image repository.', { minLength: 1 }),
          tag: str('Image tag; appVersion when empty.'),
          pullPolicy: { enum: ['IfNotPresent', 'Always', 'Never'], description: 'imagePullPolicy.' },
        },
        ['repository', 'pullPolicy'],
      ),
      imagePullSecrets: list(
        'Pull secrets for the operator image.',
        closed('A Secret reference.', { name: str('Secret name.') }, ['name']),
      ),
      nameOverride: str('Replaces the chart name in resource names.', {
        pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$',
        maxLength: 40,
      }),
      fullnameOverride: str('Replaces the full resource name.', {
        pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$',
        maxLength: 52,
      }),
      rbac: closed(
        'RBAC objects.',
        { create: bool('Create the generated ClusterRole, Role and bindings.') },
        ['create'],
      ),
      serviceAccount: closed(
        'The operator ServiceAccount.',
        {
          create: bool('Create the ServiceAccount.'),
          name: str('ServiceAccount name; the full name when empty.', {
            pattern: '^([a-z0-9]([-.a-z0-9]*[a-z0-9])?)?$',
          }),
          annotations: freeMap('Annotations, e.g. for workload identity.'),
        },
        ['create'],
      ),
      operator: closed(
        'Operator settings (become flags).',
        {
          watchNamespaces: list('Namespaces to watch; empty = all.', { type: 'string', pattern: DNS_LABEL }),
          workers: int('Concurrent reconciles per controller.', { minimum: 1, maximum: 64 }),
          logLevel: {
            enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
            description: 'Log level.',
          },
          resyncPeriod: str('Informer resync period, e.g. 10m.', {
            pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$',
          }),
          leaderElection: closed(
            'Leader election.',
            {
              enabled: bool('Elect a leader among replicas.'),
              leaseName: str('Lease name; the full name when empty.', {
                pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$',
              }),
            },
            ['enabled'],
          ),
        },
        ['workers', 'logLevel', 'leaderElection'],
      ),
      controllers: controllersValuesSchema(modules),
      probePort: int('Port of /healthz, /readyz and /metrics.', { minimum: 1024, maximum: 65535 }),
      resources: closed('Operator container resources.', {
        requests: closed('Requests.', { cpu: quantity, memory: quantity }),
        limits: closed('Limits.', { cpu: quantity, memory: quantity }),
      }),
      podAnnotations: freeMap('Extra Pod annotations.'),
      podLabels: freeMap('Extra Pod labels.'),
      nodeSelector: freeMap('Node selector.'),
      tolerations: list('Tolerations.'),
      affinity: { type: 'object', description: 'Affinity (core/v1 Affinity).' },
      priorityClassName: str('PriorityClass of the operator Pods.'),
      topologySpread: closed('Spread replicas across nodes.', {
        enabled: bool('Add a topologySpreadConstraint.'),
        maxSkew: int('maxSkew.', { minimum: 1 }),
        topologyKey: str('Node label to spread over.', { minLength: 1 }),
      }),
      metrics: closed('Metrics.', {
        service: closed('The metrics Service.', {
          enabled: bool('Create it.'),
          port: int('Service port.', { minimum: 1, maximum: 65535 }),
          annotations: freeMap('Service annotations.'),
        }),
      }),
      podDisruptionBudget: closed('PodDisruptionBudget (only with more than one replica).', {
        enabled: bool('Create it.'),
        maxUnavailable: {
          anyOf: [
            { type: 'integer', minimum: 0 },
            { type: 'string', pattern: '^[0-9]+%$' },
          ],
        },
      }),
      sampleProfile: closed(
        'An optional NotebookProfile installed with the chart.',
        {
          enabled: bool('Install it.'),
          name: str('Name of the NotebookProfile.', {
            pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
            maxLength: 253,
          }),
          spec: plainSchema(notebookProfileSpec.schema),
        },
        ['enabled', 'name'],
      ),
    },
    required: ['replicaCount', 'image', 'rbac', 'serviceAccount', 'operator', 'controllers', 'probePort'],
  };
}

// JSON Schemas of the API: ajv validates requests with them and /openapi.json publishes the same objects.

import { Ajv, type ErrorObject } from 'ajv';
import { PHASES } from '../store/store.js';
import { MAX_FIT_TREES } from './fit-size.js';
import { HttpError } from './errors.js';

/** Forest parameters as accepted over HTTP (all optional; defaults resolved by the handler). */
export const forestParamsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ntrees: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_FIT_TREES,
      default: 100,
      description:
        'Number of trees. A fit whose projected model size exceeds the 64 MiB a model can be loaded with is refused (400 ModelTooLarge, with the projection and the most trees that fit).',
    },
    sampleSize: {
      type: 'integer',
      minimum: 2,
      maximum: 16_777_216,
      default: 256,
      description: 'Subsample size ψ; clamped to the row count.',
    },
    extensionLevel: {
      type: 'integer',
      minimum: 0,
      description: 'Extension level e in 0..d−1 (0 = axis-parallel). Default 0.',
    },
    seed: {
      type: 'integer',
      minimum: 0,
      maximum: 9_007_199_254_740_991,
      description: 'RNG seed; random (and recorded) when omitted.',
    },
    standardize: {
      type: 'boolean',
      description: 'Standardise features; default true when extensionLevel > 0.',
    },
    compat: {
      type: 'string',
      enum: ['exact', 'reference'],
      description: '"reference" reproduces sahandha/eif c(n).',
    },
  },
} as const;

export const fitRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['datasetId'],
  properties: {
    datasetId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9._-]{1,64}$',
      description: 'Model name; refits of a name get increasing versions.',
    },
    params: forestParamsSchema,
    contamination: {
      type: 'number',
      exclusiveMinimum: 0,
      exclusiveMaximum: 0.5,
      description: 'Threshold = training-score quantile Q(1 − contamination). Default 0.01.',
    },
    threshold: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: 'Fixed score threshold; mutually exclusive with contamination.',
    },
    partitions: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      description: 'Tree partitions spread over workers; default one per 25 trees.',
    },
  },
} as const;

export const scoreJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['data'],
  properties: {
    data: {
      type: 'array',
      minItems: 1,
      items: { type: 'array', items: { type: 'number' } },
      description: 'Rows of feature values.',
    },
  },
} as const;

export const scoreDatasetSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['datasetId'],
  properties: { datasetId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
} as const;

export const webhookRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: {
      type: 'string',
      minLength: 8,
      maxLength: 2048,
      description: 'http(s) URL; the host must be on the allow-list.',
    },
  },
} as const;

export const errorSchema = {
  type: 'object',
  required: ['error', 'code', 'detail'],
  properties: {
    error: { type: 'string' },
    code: { type: 'string' },
    detail: {
      type: 'object',
      properties: {
        field: { type: 'string' },
        row: { type: 'integer', description: 'Zero-based data row.' },
        column: { type: 'integer', description: 'Zero-based column.' },
        columnName: { type: 'string' },
        line: { type: 'integer', description: 'One-based line of the input.' },
      },
    },
  },
} as const;

export const datasetSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    rows: { type: 'integer' },
    cols: { type: 'integer' },
    chunkRows: { type: 'integer' },
    chunks: { type: 'integer' },
    columns: { type: ['array', 'null'], items: { type: 'string' } },
    format: { type: 'string', enum: ['csv', 'ndjson', 'binary', 'json'] },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const modelSchema = {
  type: 'object',
  properties: {
    id: {
      type: 'string',
      description:
        'Model record id: sha256 of the fit job id and the content hash (each fit has its own record).',
    },
    contentHash: {
      type: 'string',
      description:
        'sha256 of the encoded model (GET /binary); fits that build equal forests share it and its bytes.',
    },
    name: { type: 'string' },
    version: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    datasetId: { type: 'string' },
    dims: { type: 'integer' },
    params: { type: 'object' },
    effectiveSampleSize: { type: 'integer' },
    threshold: { type: 'number' },
    thresholdSource: { type: 'string', enum: ['contamination', 'explicit'] },
    contamination: { type: ['number', 'null'] },
    trainingRows: { type: 'integer' },
    bytes: { type: 'integer' },
    columns: {
      type: ['array', 'null'],
      items: { type: 'string' },
      description: 'Column names scoring maps by.',
    },
  },
} as const;

export const jobSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['fit', 'score'] },
    phase: { type: 'string', enum: [...PHASES] },
    progress: { type: 'number', minimum: 0, maximum: 1 },
    tasks: { type: 'integer' },
    tasksDone: { type: 'integer' },
    createdAt: { type: 'string' },
    startedAt: { type: ['string', 'null'] },
    endedAt: { type: ['string', 'null'] },
    result: { type: ['object', 'null'] },
    error: { type: ['object', 'null'] },
  },
} as const;

export const scoresSchema = {
  type: 'object',
  properties: {
    modelId: { type: 'string' },
    threshold: { type: 'number' },
    scores: { type: 'array', items: { type: 'number' } },
    anomalies: {
      type: 'array',
      items: { type: 'integer' },
      description: 'Row indices with score ≥ threshold.',
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, useDefaults: false, strict: true });

/** Compiles a schema into a function that returns the typed body or throws a 400 naming the field. */
export function validator<T>(schema: object): (body: unknown) => T {
  const v = ajv.compile(schema);
  return (body: unknown): T => {
    if (v(body)) return body as T;
    const e: ErrorObject | undefined = v.errors?.[0];
    const field =
      e === undefined
        ? ''
        : e.instancePath +
          (e.keyword === 'required' || e.keyword === 'additionalProperties'
            ? `/${String(Object.values(e.params)[0])}`
            : '');
    throw new HttpError(400, 'InvalidRequest', `${field || '(body)'}: ${e?.message ?? 'invalid'}`, {
      field: field || '/',
    });
  };
}

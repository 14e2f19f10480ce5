// The OpenAPI 3 document, assembled from the same JSON Schemas ajv validates requests with.

import {
  datasetSchema,
  errorSchema,
  fitRequestSchema,
  forestParamsSchema,
  jobSchema,
  modelSchema,
  scoreDatasetSchema,
  scoreJsonSchema,
  scoresSchema,
  webhookRequestSchema,
} from './schemas.js';

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
const errors = {
  '400': {
    description: 'Invalid request; detail names the field, row or column',
    content: { 'application/json': { schema: ref('Error') } },
  },
  '401': {
    description: 'Missing or unknown bearer token',
    content: { 'application/json': { schema: ref('Error') } },
  },
  '404': {
    description: 'Not found (or owned by another tenant)',
    content: { 'application/json': { schema: ref('Error') } },
  },
};
/** The rules every data body follows (uploads, /score, /stream); stated once and shown on each of them. */
const INPUT_RULES = [
  'Header rule (CSV): the first non-comment row is a header unless the query says header=absent. A header name that ' +
    'is empty, a number (the first row looks like data) or repeated is refused (400 InvalidHeader / DuplicateColumn).',
  "Name mapping (scoring a model whose training data had names): a CSV header's names, NDJSON objects' keys and a " +
    "scored dataset's columns are matched to the model's columns by name, in any order; a name the model does not " +
    'have, or one of its names that is absent, is a 400 (UnknownColumn / MissingColumn) naming them. Arrays, ' +
    'headerless CSV, JSON {data} and float64 are positional, in the model’s column order, and so is everything ' +
    'sent to a model fitted on data without names (or with repeated ones, stored before they were refused).',
  'Values: every value must be a finite float64; NaN, Inf and numbers outside its range (1e309) are a 400 ' +
    'NonFiniteValue naming the row and column.',
  'Size limits: MAX_UPLOAD_BYTES of decoded body (413 PayloadTooLarge); 1 MiB per CSV or NDJSON line (413 ' +
    'LineTooLong naming the line); MAX_COLS columns; up to MAX_SYNC_ROWS rows /score answers at once, larger ' +
    'bodies become a job.',
  'Encodings: Content-Encoding gzip, x-gzip, deflate, br or identity (stacked codings are undone last first; ' +
    'anything else is a 415 UnsupportedContentEncoding); text charset utf-8 (default), us-ascii or latin1 / ' +
    'iso-8859-1 from Content-Type (anything else is a 415 UnsupportedCharset).',
].join('\n\n');

const headerParam = {
  name: 'header',
  in: 'query',
  required: false,
  description: 'CSV only: whether the first row is a header',
  schema: { type: 'string', enum: ['present', 'absent'], default: 'present' },
};
const encodingParam = {
  name: 'Content-Encoding',
  in: 'header',
  required: false,
  description: 'gzip, x-gzip, deflate, br or identity; byte limits apply to the decoded body',
  schema: { type: 'string' },
};
const tooLarge = {
  '413': {
    description:
      'Body over MAX_UPLOAD_BYTES (PayloadTooLarge) or a line over 1 MiB (LineTooLong, naming the line)',
    content: { 'application/json': { schema: ref('Error') } },
  },
  '415': {
    description: 'Unsupported Content-Type, Content-Encoding or charset (named in detail)',
    content: { 'application/json': { schema: ref('Error') } },
  },
};

const idParam = (name: string, description: string): object => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description,
});
const dataBody = {
  required: true,
  description: INPUT_RULES,
  content: {
    'text/csv': { schema: { type: 'string' }, example: 'x,y\n0.1,0.2\n' },
    'application/x-ndjson': { schema: { type: 'string' }, example: '[0.1,0.2]\n{"x":0.1,"y":0.2}\n' },
    'application/octet-stream': {
      schema: { type: 'string', format: 'binary' },
      description: 'Little-endian float64, row-major; requires X-Shape: rows,cols',
    },
    'application/json': { schema: ref('ScoreJson') },
  },
};
const jobAccepted = {
  '202': {
    description: 'Job accepted',
    headers: { Location: { schema: { type: 'string' } } },
    content: { 'application/json': { schema: ref('Job') } },
  },
};

/** Builds the OpenAPI document. */
export function openApiDocument(): object {
  return {
    openapi: '3.0.3',
    info: {
      title: 'skyport anomaly service',
      version: '1.0.0',
      description:
        'Extended Isolation Forest: datasets, models, batch scoring jobs on a Redis-brokered worker pool, online scoring with SSE and webhook alerts.\n\n' +
        INPUT_RULES +
        '\n\nModels: each fit job stores its own model record (name, version, threshold, dataset, columns); ' +
        'records of equal forests share one copy of the bytes (contentHash). A fit whose projected model size is ' +
        'over the 64 MiB a model can be loaded with is refused (400 ModelTooLarge) and ntrees is at most 10,000.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token from the TOKENS configuration; each token is a tenant.',
        },
      },
      schemas: {
        Error: errorSchema,
        ForestParams: forestParamsSchema,
        FitRequest: fitRequestSchema,
        ScoreJson: scoreJsonSchema,
        ScoreDataset: scoreDatasetSchema,
        Webhook: webhookRequestSchema,
        Dataset: datasetSchema,
        Model: modelSchema,
        Job: jobSchema,
        Scores: scoresSchema,
      },
    },
    paths: {
      '/v1/datasets': {
        post: {
          summary: 'Upload a dataset (CSV, NDJSON arrays or objects, JSON {data}, or raw float64)',
          parameters: [
            headerParam,
            encodingParam,
            {
              name: 'X-Shape',
              in: 'header',
              schema: { type: 'string' },
              description: 'rows,cols for application/octet-stream',
            },
          ],
          requestBody: dataBody,
          responses: {
            '201': { description: 'Stored', content: { 'application/json': { schema: ref('Dataset') } } },
            ...tooLarge,
            ...errors,
          },
        },
        get: { summary: 'List datasets', responses: { '200': { description: 'Datasets' }, ...errors } },
      },
      '/v1/datasets/{id}': {
        parameters: [idParam('id', 'Dataset id')],
        get: {
          summary: 'Dataset metadata',
          responses: {
            '200': { description: 'Dataset', content: { 'application/json': { schema: ref('Dataset') } } },
            ...errors,
          },
        },
        delete: { summary: 'Delete a dataset', responses: { '204': { description: 'Deleted' }, ...errors } },
      },
      '/v1/models': {
        post: {
          summary:
            'Fit a model from a dataset (a pool job). Refused with 400 ModelTooLarge (detail: projectedBytes, limitBytes, maxTrees) when the projected model size is over the 64 MiB a model can be loaded with',
          requestBody: { required: true, content: { 'application/json': { schema: ref('FitRequest') } } },
          responses: { ...jobAccepted, ...errors },
        },
        get: { summary: 'List models', responses: { '200': { description: 'Models' }, ...errors } },
      },
      '/v1/models/{id}': {
        parameters: [idParam('id', 'Model record id')],
        get: {
          summary: 'Model metadata (immutable)',
          responses: {
            '200': { description: 'Model', content: { 'application/json': { schema: ref('Model') } } },
            ...errors,
          },
        },
      },
      '/v1/models/{id}/binary': {
        parameters: [idParam('id', 'Model id')],
        get: {
          summary: 'Encoded model bytes',
          responses: {
            '200': { description: 'Model', content: { 'application/octet-stream': {} } },
            ...errors,
          },
        },
      },
      '/v1/models/{id}/score': {
        parameters: [idParam('id', 'Model id')],
        post: {
          summary: 'Score points: synchronous up to MAX_SYNC_ROWS rows, otherwise an async job',
          parameters: [headerParam, encodingParam],
          requestBody: dataBody,
          responses: {
            '200': {
              description: 'Scores (JSON, or CSV / float64 by Accept)',
              content: {
                'application/json': { schema: ref('Scores') },
                'text/csv': {},
                'application/octet-stream': {},
              },
            },
            ...jobAccepted,
            ...tooLarge,
            ...errors,
          },
        },
      },
      '/v1/models/{id}/score-dataset': {
        parameters: [idParam('id', 'Model id')],
        post: {
          summary:
            "Score a stored dataset (async job); when both name their columns, the dataset's are matched to the model's by name",
          requestBody: { required: true, content: { 'application/json': { schema: ref('ScoreDataset') } } },
          responses: { ...jobAccepted, ...errors },
        },
      },
      '/v1/models/{id}/stream': {
        parameters: [idParam('id', 'Model id')],
        post: {
          summary: 'Streaming scores: NDJSON points in, NDJSON scores out as each line arrives',
          parameters: [encodingParam],
          requestBody: {
            required: true,
            description:
              INPUT_RULES +
              '\n\nAn error after the 200 status line (a bad row, a line over 1 MiB) is the last line of the stream.',
            content: { 'application/x-ndjson': { schema: { type: 'string' } } },
          },
          responses: {
            '200': {
              description: 'One line per point: {row, score, anomaly, modelId, modelVersion}',
              content: { 'application/x-ndjson': {} },
            },
            ...errors,
          },
        },
      },
      '/v1/models/{id}/events': {
        parameters: [
          idParam('id', 'Model id'),
          {
            name: 'Last-Event-ID',
            in: 'header',
            required: false,
            description:
              'Id of the last event received (EventSource sends it on reconnect): the alerts after it among the ' +
              "model's 1,000 most recent are sent first, then live ones, each once",
            schema: { type: 'string' },
          },
        ],
        get: {
          summary:
            'Server-sent events: one `anomaly` event per point scored online at or above the threshold',
          responses: {
            '200': { description: 'Event stream', content: { 'text/event-stream': {} } },
            ...errors,
          },
        },
      },
      '/v1/models/{id}/webhooks': {
        parameters: [idParam('id', 'Model id')],
        post: {
          summary:
            'Register a webhook. The 201 body carries its secret once; each alert is POSTed as {type, alert} with X-Skyport-Signature: sha256=HMAC(secret, body), retried with exponential backoff. Without WEBHOOK_ALLOWED_HOSTS a target that is or resolves to a link-local (169.254.0.0/16, fe80::/10) or unspecified address, or to fd00:ec2::254, is refused (also IPv4-mapped, IPv4-compatible and NAT64 64:ff9b::/96 forms), at registration and on each delivery connection',
          requestBody: { required: true, content: { 'application/json': { schema: ref('Webhook') } } },
          responses: { '201': { description: 'Registered' }, ...errors },
        },
        get: { summary: 'List webhooks', responses: { '200': { description: 'Webhooks' }, ...errors } },
      },
      '/v1/models/{id}/webhooks/{hook}': {
        parameters: [idParam('id', 'Model id'), idParam('hook', 'Webhook id')],
        delete: { summary: 'Remove a webhook', responses: { '204': { description: 'Removed' }, ...errors } },
      },
      '/v1/status': {
        get: {
          summary:
            "The worker pool's status, for autoscaling: queueDepth (tasks waiting: waiting + prioritized + delayed), tasksRunning, jobsRunning (jobs with tasks still queued or running), workers (worker processes connected to the task queue), modelsStored (summed over tenants), time. Deployment-wide counts only",
          responses: { '200': { description: 'Pool status' }, ...errors },
        },
      },
      '/v1/jobs': {
        get: {
          summary: "The tenant's jobs, newest first (UWS-style job list)",
          parameters: [
            {
              name: 'phase',
              in: 'query',
              required: false,
              description:
                'Only jobs in these phases (repeat or comma-separate: PENDING, QUEUED, EXECUTING, COMPLETED, ERROR, ABORTED)',
              schema: { type: 'string' },
            },
            {
              name: 'kind',
              in: 'query',
              required: false,
              schema: { type: 'string', enum: ['fit', 'score'] },
            },
            {
              name: 'last',
              in: 'query',
              required: false,
              description: 'How many at most (default 100)',
              schema: { type: 'integer', minimum: 1, maximum: 1000 },
            },
          ],
          responses: {
            '200': {
              description: 'Jobs',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { items: { type: 'array', items: ref('Job') } } },
                },
              },
            },
            ...errors,
          },
        },
      },
      '/v1/jobs/{id}': {
        parameters: [idParam('id', 'Job id')],
        get: {
          summary: 'Job status: UWS phase and progress',
          responses: {
            '200': { description: 'Job', content: { 'application/json': { schema: ref('Job') } } },
            ...errors,
          },
        },
        delete: {
          summary: 'Abort a job',
          responses: {
            '200': { description: 'Job', content: { 'application/json': { schema: ref('Job') } } },
            ...errors,
          },
        },
      },
      '/v1/jobs/{id}/phase': {
        parameters: [
          idParam('id', 'Job id'),
          { name: 'PHASE', in: 'query', required: true, schema: { type: 'string', enum: ['ABORT'] } },
        ],
        post: { summary: 'UWS-style abort', responses: { '200': { description: 'Job' }, ...errors } },
      },
      '/v1/jobs/{id}/results': {
        parameters: [
          idParam('id', 'Job id'),
          { name: 'format', in: 'query', schema: { type: 'string', enum: ['csv', 'binary'] } },
        ],
        get: {
          summary: 'Results: scores as CSV (score,anomaly) or float64; a fit job returns its model id',
          responses: {
            '200': {
              description: 'Results',
              content: { 'text/csv': {}, 'application/octet-stream': {}, 'application/json': {} },
            },
            '409': { description: 'Not completed' },
            ...errors,
          },
        },
      },
      '/healthz': {
        get: { security: [], summary: 'Liveness', responses: { '200': { description: 'Alive' } } },
      },
      '/readyz': {
        get: {
          security: [],
          summary: 'Readiness (Redis reachable)',
          responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } },
        },
      },
      '/metrics': {
        get: {
          security: [],
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'Metrics' } },
        },
      },
    },
  };
}

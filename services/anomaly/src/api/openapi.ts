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
const idParam = (name: string, description: string): object => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description,
});
const dataBody = {
  required: true,
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
        'Extended Isolation Forest: datasets, models, batch scoring jobs on a Redis-brokered worker pool, online scoring with SSE and webhook alerts.',
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
          summary: 'Upload a dataset (CSV with optional header, NDJSON arrays or objects, or raw float64)',
          parameters: [
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
            '413': { description: 'Body too large' },
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
          summary: 'Fit a model from a dataset (a pool job)',
          requestBody: { required: true, content: { 'application/json': { schema: ref('FitRequest') } } },
          responses: { ...jobAccepted, ...errors },
        },
        get: { summary: 'List models', responses: { '200': { description: 'Models' }, ...errors } },
      },
      '/v1/models/{id}': {
        parameters: [idParam('id', 'Model id (content hash)')],
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
            ...errors,
          },
        },
      },
      '/v1/models/{id}/score-dataset': {
        parameters: [idParam('id', 'Model id')],
        post: {
          summary: 'Score a stored dataset (async job)',
          requestBody: { required: true, content: { 'application/json': { schema: ref('ScoreDataset') } } },
          responses: { ...jobAccepted, ...errors },
        },
      },
      '/v1/models/{id}/stream': {
        parameters: [idParam('id', 'Model id')],
        post: {
          summary: 'Streaming scores: NDJSON points in, NDJSON scores out as each line arrives',
          requestBody: {
            required: true,
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

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify, exitCode, StopError } from './errors.js';
import { FormatError } from './formats/index.js';
import { QueryError } from './reader.js';
import { parseSpec, SpecError } from './spec.js';
import { QueryValidationError } from './validate.js';
import { RUNNER_VERSION } from './version.js';

const GOOD = {
  query: 'SELECT 1',
  catalog: { name: 'desdr' },
  connection: { host: 'db', port: 5432 },
  output: { dir: '/results', format: 'parquet' },
  executionDurationSeconds: 600,
};

function problems(raw: unknown): readonly string[] {
  try {
    parseSpec(raw);
  } catch (err) {
    if (err instanceof SpecError) return err.problems;
    throw err;
  }
  return [];
}

describe('parseSpec', () => {
  it('fills the defaults (stem result, compression none) and keeps what was given', () => {
    expect(parseSpec(GOOD)).toEqual({
      ...GOOD,
      output: { dir: '/results', stem: 'result', format: 'parquet', compression: 'none' },
    });
  });

  it('names every bad field by its path', () => {
    expect(
      problems({
        ...GOOD,
        output: { dir: '/r', stem: '../x', format: 'parquet', compression: 'gzip', splitMaxBytes: -1 },
        maxRecords: 1.5,
        batchRows: 0,
        connection: { host: 3, passwordFile: '' },
      }),
    ).toEqual([
      'spec.connection.host: must be a non-empty string',
      'spec.connection.passwordFile: must be a non-empty string',
      "spec.output.stem: '../x' must be letters, digits, '.', '_' or '-'",
      'spec.output.splitMaxBytes: must be an integer ≥ 1, got -1',
      'spec.output.compression: gzip does not apply to parquet (it compresses inside the file); use none',
      'spec.maxRecords: must be an integer ≥ 0, got 1.5',
      'spec.batchRows: must be an integer ≥ 1, got 0',
    ]);
    expect(problems([])).toEqual(['spec: must be a JSON object']);
    expect(problems({ ...GOOD, output: 'x' })).toContain('spec.output: must be an object');
  });

  it('takes output.s3 with defaults (region us-east-1, virtual-host style) and checks endpoint and prefix', () => {
    const s3 = { endpoint: 'http://127.0.0.1:7070/', bucket: 'b', prefix: 'r/ns/qj/uid/' };
    expect(parseSpec({ ...GOOD, output: { ...GOOD.output, s3 } }).output.s3).toEqual({
      endpoint: 'http://127.0.0.1:7070',
      bucket: 'b',
      region: 'us-east-1',
      forcePathStyle: false,
      prefix: 'r/ns/qj/uid/',
    });
    expect(
      problems({
        ...GOOD,
        output: {
          ...GOOD.output,
          s3: { endpoint: 'ftp://x/y', prefix: 'r//x', forcePathStyle: 'yes', secretAccessKey: 'k' },
        },
      }),
    ).toEqual([
      'spec.output.s3.secretAccessKey: unknown field',
      "spec.output.s3.endpoint: 'ftp://x/y' must be http(s)://host[:port] with no path",
      'spec.output.s3.bucket: required',
      "spec.output.s3.prefix: 'r//x' must end in '/' and have no empty segment",
      'spec.output.s3.forcePathStyle: must be true or false',
    ]);
  });

  it('takes the QueryJob to report progress to, naming each bad field', () => {
    const target = { namespace: 'user-jsmith', name: 'gold-sample', intervalSeconds: 2 };
    expect(parseSpec({ ...GOOD, progress: target }).progress).toEqual(target);
    expect(parseSpec(GOOD).progress).toBeUndefined();
    expect(problems({ ...GOOD, progress: { namespace: 'Bad_NS', intervalSeconds: 0, extra: 1 } })).toEqual([
      'spec.progress.extra: unknown field',
      'spec.progress.name: required',
      "spec.progress.namespace: 'Bad_NS' is not a namespace name",
      'spec.progress.intervalSeconds: must be an integer ≥ 1, got 0',
    ]);
  });

  it('takes an applicationName of 1 to 63 printable ASCII characters', () => {
    const name = 'skyport-qj-0f3c1a2b-1111-2222-3333-444455556666';
    expect(parseSpec({ ...GOOD, connection: { applicationName: name } }).connection.applicationName).toBe(
      name,
    );
    expect(problems({ ...GOOD, connection: { applicationName: 'x'.repeat(64) } })).toEqual([
      'spec.connection.applicationName: must be 1 to 63 printable ASCII characters',
    ]);
  });
});

describe('classify', () => {
  it('tells transient from fatal, and maps them to exit codes', () => {
    const cases: [unknown, string, string, number][] = [
      [new QueryError('40001', 'could not serialize'), 'transient', 'DatabaseUnavailable', 75],
      [
        new QueryError('57P01', 'terminating connection due to administrator command'),
        'transient',
        'DatabaseUnavailable',
        75,
      ],
      [new QueryError('08006', 'connection failure'), 'transient', 'DatabaseUnavailable', 75],
      [new Error('Connection terminated unexpectedly'), 'transient', 'ConnectionLost', 75],
      [
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
        'transient',
        'ConnectionLost',
        75,
      ],
      [new QueryError('42501', 'permission denied for table x'), 'fatal', 'PermissionDenied', 1],
      [new QueryError('42601', 'syntax error'), 'fatal', 'QuerySyntax', 1],
      [new QueryError('57014', 'canceling statement due to statement timeout'), 'fatal', 'QueryCanceled', 1],
      [new StopError('ExecutionDurationExceeded', 'late'), 'fatal', 'ExecutionDurationExceeded', 1],
      [new QueryValidationError('QueryFunctionDenied', 'no'), 'fatal', 'QueryFunctionDenied', 1],
      [new FormatError('UnsupportedType', 'numeric'), 'fatal', 'UnsupportedType', 1],
      [new SpecError(['spec.query: required']), 'fatal', 'InvalidSpec', 2],
      [new TypeError('x is undefined'), 'fatal', 'InternalError', 1],
    ];
    for (const [err, type, code, exit] of cases) {
      const e = classify(err);
      expect({ type: e.type, code: e.code, exit: exitCode(e) }, String(err)).toEqual({ type, code, exit });
    }
    expect(classify(new QueryError('42501', 'permission denied')).message).toBe(
      'permission denied (SQLSTATE 42501)',
    );
  });
});

it('RUNNER_VERSION is the package version', () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  expect(RUNNER_VERSION).toBe(pkg.version);
});

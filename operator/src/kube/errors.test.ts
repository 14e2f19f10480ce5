// Error mapping: which apiserver and network failures retry and which stop, with the server's message.
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { TerminalError, TransientError } from '../errors.js';
import { describeFailure, isConflict, isNotFound, mapKubeError } from './errors.js';

function apiErr(
  code: number,
  reason: string,
  message: string,
  headers: Record<string, string> = {},
  details?: object,
): ApiException<string> {
  return new ApiException(
    code,
    'Unsuccessful HTTP Request',
    JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code, details }),
    headers,
  );
}

describe('mapKubeError', () => {
  it.each([
    [409, 'Conflict', TransientError, 'Conflict'],
    [429, 'TooManyRequests', TransientError, 'TooManyRequests'],
    [500, 'InternalError', TransientError, 'ApiUnavailable'],
    [503, 'ServiceUnavailable', TransientError, 'ApiUnavailable'],
    [403, 'Forbidden', TransientError, 'Forbidden'],
    [422, 'Invalid', TerminalError, 'Invalid'],
    [400, 'BadRequest', TerminalError, 'BadRequest'],
  ])('%i %s → %s', (code, reason, kind, expected) => {
    const e = mapKubeError(apiErr(code, reason, `the server said ${reason}`), 'apply Pod ns/p');
    expect(e).toBeInstanceOf(kind);
    expect(e.code).toBe(expected);
    expect(e.message).toBe(`apply Pod ns/p: the server said ${reason}`);
  });

  it('keeps the field path from a 422 message', () => {
    const msg =
      'NotebookLab.skyport.io "x" is invalid: spec.size: Unsupported value: "huge": supported values: "small", "large"';
    const e = mapKubeError(apiErr(422, 'Invalid', msg), 'apply NotebookLab ns/x');
    expect(e).toBeInstanceOf(TerminalError);
    expect(e.message).toContain('spec.size: Unsupported value');
  });

  it('honours Retry-After from headers or status details', () => {
    const h = mapKubeError(apiErr(429, 'TooManyRequests', 'slow down', { 'retry-after': '3' }), 'list');
    expect(h).toBeInstanceOf(TransientError);
    expect((h as TransientError).retryAfterMs).toBe(3000);
    const d = mapKubeError(apiErr(500, 'InternalError', 'x', {}, { retryAfterSeconds: 2 }), 'list');
    expect((d as TransientError).retryAfterMs).toBe(2000);
  });

  it('maps network failures to ApiUnreachable', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    const e = mapKubeError(err, 'get Lease');
    expect(e).toBeInstanceOf(TransientError);
    expect(e.code).toBe('ApiUnreachable');
    expect(e.message).toContain('ECONNREFUSED');
  });

  it('passes skyport errors through unchanged', () => {
    const t = new TerminalError('QueryNotSelectOnly', 'only SELECT');
    expect(mapKubeError(t, 'x')).toBe(t);
  });

  it('recognises 404 and 409, also from a typed client body object', () => {
    expect(isNotFound(apiErr(404, 'NotFound', 'nope'))).toBe(true);
    expect(isConflict(apiErr(409, 'Conflict', 'stale'))).toBe(true);
    const typed = new ApiException(404, 'x', { message: 'pods "p" not found', reason: 'NotFound' }, {});
    expect(describeFailure(typed)).toMatchObject({
      status: 404,
      message: 'pods "p" not found',
      reason: 'NotFound',
    });
  });
});

// SigV4 against the examples AWS publishes for S3 ("Signature Calculations for the Authorization Header" and
// "Authenticating Requests: Using Query Parameters"): same inputs, the documented signatures.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_SHA256, presignQuery, signHeaders, uriEncode } from './sigv4.js';

const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const base = {
  host: 'examplebucket.s3.amazonaws.com',
  region: 'us-east-1',
  credentials,
  now: new Date('2013-05-24T00:00:00Z'),
};
const sigOf = (auth: string | undefined): string => /Signature=([0-9a-f]{64})$/.exec(auth ?? '')?.[1] ?? '';

describe('signHeaders (AWS examples)', () => {
  it('GET Object with a Range header', () => {
    const h = signHeaders({
      ...base,
      method: 'GET',
      path: '/test.txt',
      headers: { range: 'bytes=0-9' },
      payloadSha256: EMPTY_SHA256,
    });
    expect(h['x-amz-date']).toBe('20130524T000000Z');
    expect(h.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('PUT Object with a payload, a Date header and a key needing encoding', () => {
    const body = 'Welcome to Amazon S3.';
    const h = signHeaders({
      ...base,
      method: 'PUT',
      path: '/' + uriEncode('test$file.text', true),
      headers: { date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY' },
      payloadSha256: createHash('sha256').update(body).digest('hex'),
    });
    expect(h.authorization).toContain(
      'SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,',
    );
    expect(sigOf(h.authorization)).toBe('98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd');
  });

  it('GET Bucket lifecycle (a query parameter without a value)', () => {
    const h = signHeaders({
      ...base,
      method: 'GET',
      path: '/',
      query: [['lifecycle', '']],
      payloadSha256: EMPTY_SHA256,
    });
    expect(sigOf(h.authorization)).toBe('fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
  });

  it('GET Bucket (list objects): query parameters sorted', () => {
    const h = signHeaders({
      ...base,
      method: 'GET',
      path: '/',
      query: [
        ['prefix', 'J'],
        ['max-keys', '2'],
      ],
      payloadSha256: EMPTY_SHA256,
    });
    expect(sigOf(h.authorization)).toBe('34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
  });

  it('a different secret, day or region gives a different signature', () => {
    const i = { ...base, method: 'GET', path: '/test.txt', payloadSha256: EMPTY_SHA256 };
    const ref = sigOf(signHeaders(i).authorization);
    expect(sigOf(signHeaders({ ...i, region: 'eu-west-1' }).authorization)).not.toBe(ref);
    expect(sigOf(signHeaders({ ...i, now: new Date('2013-05-25T00:00:00Z') }).authorization)).not.toBe(ref);
    expect(
      sigOf(signHeaders({ ...i, credentials: { ...credentials, secretAccessKey: 'x' } }).authorization),
    ).not.toBe(ref);
  });
});

describe('presignQuery (AWS example)', () => {
  it('GET test.txt for 86,400 s', () => {
    const q = new URLSearchParams(presignQuery({ ...base, method: 'GET', path: '/test.txt' }, 86_400));
    expect(q.get('X-Amz-Credential')).toBe('AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request');
    expect(q.get('X-Amz-Expires')).toBe('86400');
    expect(q.get('X-Amz-SignedHeaders')).toBe('host');
    expect(q.get('X-Amz-Signature')).toBe('aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404');
  });

  it('refuses lifetimes SigV4 does not allow', () => {
    const i = { ...base, method: 'GET', path: '/test.txt' };
    expect(() => presignQuery(i, 0)).toThrow(/expiresSeconds/);
    expect(() => presignQuery(i, 604_801)).toThrow(/expiresSeconds/);
  });
});

describe('uriEncode', () => {
  it('keeps unreserved characters and encodes UTF-8 bytes', () => {
    expect(uriEncode('a-b_c.d~e')).toBe('a-b_c.d~e');
    expect(uriEncode('a b/c+d=é')).toBe('a%20b%2Fc%2Bd%3D%C3%A9');
    expect(uriEncode('p/q r', true)).toBe('p/q%20r');
  });
});

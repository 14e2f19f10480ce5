// Unit tests for configuration parsing: every bad value names its variable.

import { describe, expect, it, vi } from 'vitest';
import { ConfigError, loadApiConfig, loadConfigOrExit, loadWorkerConfig, parseTokens } from './config.js';

const TOKENS = 'alice=alice-token-0123456789,bob=bob-token-0123456789ab';

describe('parseTokens', () => {
  it('maps tenant=token pairs', () => {
    expect(parseTokens(TOKENS)).toEqual([
      { name: 'alice', token: 'alice-token-0123456789' },
      { name: 'bob', token: 'bob-token-0123456789ab' },
    ]);
  });
  it.each([
    ['', /at least one/],
    ['alice', /entry 1 must be tenant=token/],
    ['alice=short', /entry 1/],
    ['a=aaaaaaaaaaaaaaaaaaaa,b=aaaaaaaaaaaaaaaaaaaa', /entry 2 repeats a token/],
  ])('rejects %j', (raw, msg) => {
    expect(() => parseTokens(raw)).toThrow(msg);
  });
});

describe('loadApiConfig', () => {
  it('applies defaults', () => {
    const c = loadApiConfig({ TOKENS });
    expect(c).toMatchObject({
      port: 8080,
      maxSyncRows: 10_000,
      chunkRows: 50_000,
      keyPrefix: 'skyport:anomaly',
      webhookAllowedHosts: [],
    });
  });
  it('parses limits and the allow-list', () => {
    const c = loadApiConfig({
      TOKENS,
      PORT: '9000',
      MAX_UPLOAD_BYTES: '2048',
      WEBHOOK_ALLOWED_HOSTS: 'Hooks.Example.org, *.svc.local',
    });
    expect(c).toMatchObject({
      port: 9000,
      maxUploadBytes: 2048,
      webhookAllowedHosts: ['hooks.example.org', '*.svc.local'],
    });
  });
  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ KEY_PREFIX: 'a b' }, 'KEY_PREFIX'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ CHUNK_ROWS: '10' }, 'CHUNK_ROWS'],
    [{ WEBHOOK_ALLOWED_HOSTS: 'http://x' }, 'WEBHOOK_ALLOWED_HOSTS'],
  ])('names the bad variable in %j', (env, variable) => {
    try {
      loadApiConfig({ TOKENS, ...env });
      expect.fail('accepted a bad value');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe(variable);
    }
  });
});

describe('loadWorkerConfig', () => {
  it('derives concurrency from threads and stall checks from the lock', () => {
    const c = loadWorkerConfig({ WORKER_THREADS: '3', LOCK_DURATION_MS: '2000' });
    expect(c).toMatchObject({
      threads: 3,
      concurrency: 4,
      lockDurationMs: 2000,
      stalledIntervalMs: 2000,
      maxStalledCount: 3,
    });
  });
  it('rejects zero threads', () => {
    expect(() => loadWorkerConfig({ WORKER_THREADS: '0' })).toThrow(/WORKER_THREADS/);
  });
});

describe('loadConfigOrExit', () => {
  it('exits 2 with the message naming the variable on a bad value, and passes other errors on', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => {
      throw new Error('exited');
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() => loadConfigOrExit(() => loadApiConfig({ TOKENS, PORT: 'abc' }))).toThrow('exited');
      expect(exit).toHaveBeenCalledWith(2);
      expect(String(stderr.mock.calls[0]?.[0])).toMatch(/PORT/);
      expect(() =>
        loadConfigOrExit(() => {
          throw new TypeError('boom');
        }),
      ).toThrow(TypeError);
      expect(loadConfigOrExit(() => 42)).toBe(42);
    } finally {
      exit.mockRestore();
      stderr.mockRestore();
    }
  });
});

// The results server's environment: defaults, and errors that name the variable.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSigningKey, reloadingUsers, serveConfig } from './config.js';

const BASE = {
  CUTOUT_SERVE_RESULTS_DIR: '/results',
  CUTOUT_SERVE_COLLECTION: 'des',
  CUTOUT_SERVE_TOKENS_FILE: '/s/tokens',
  CUTOUT_SERVE_SIGNING_KEY_FILE: '/s/signing-key',
};

describe('serveConfig', () => {
  it('fills in the port and URL lifetime, and trims a public URL', () => {
    expect(serveConfig({ ...BASE, CUTOUT_SERVE_PUBLIC_URL: 'https://cutouts.example.org/' })).toEqual({
      port: 8080,
      resultsDir: '/results',
      collection: 'des',
      tokensFile: '/s/tokens',
      signingKeyFile: '/s/signing-key',
      urlSeconds: 900,
      publicUrl: 'https://cutouts.example.org',
    });
  });

  it('names the variable at fault', () => {
    const { CUTOUT_SERVE_COLLECTION: _c, ...noCollection } = BASE;
    expect(() => serveConfig(noCollection)).toThrow('CUTOUT_SERVE_COLLECTION is required');
    expect(() => serveConfig({ ...BASE, CUTOUT_SERVE_PORT: '70000' })).toThrow(/CUTOUT_SERVE_PORT: expected/);
    expect(() => serveConfig({ ...BASE, CUTOUT_SERVE_URL_SECONDS: '5' })).toThrow(/CUTOUT_SERVE_URL_SECONDS/);
    expect(() => serveConfig({ ...BASE, CUTOUT_SERVE_APISERVER: 'https://127.0.0.1:6443' })).toThrow(
      /CUTOUT_SERVE_APISERVER needs CUTOUT_SERVE_APISERVER_TOKEN_FILE and CUTOUT_SERVE_NAMESPACE/,
    );
  });

  it('refuses a signing key shorter than 32 bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutout-serve-key-'));
    try {
      writeFileSync(join(dir, 'short'), 'x'.repeat(31) + '\n');
      writeFileSync(join(dir, 'ok'), 'x'.repeat(32) + '\n');
      expect(() => readSigningKey(join(dir, 'short'))).toThrow(/31 bytes; at least 32/);
      expect(readSigningKey(join(dir, 'ok')).length).toBe(32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('reloadingUsers', () => {
  it('re-reads a changed tokens file after the check interval, and keeps the last good one on a bad edit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutout-serve-tokens-'));
    const file = join(dir, 'tokens');
    const touch = (s: number) => utimesSync(file, s, s);
    try {
      let now = 0;
      writeFileSync(file, 'alice alice-token-0123456789\n');
      touch(1000);
      const users = reloadingUsers(file, 10_000, () => now);
      expect(users().fromToken('alice-token-0123456789')).toBe('alice');
      writeFileSync(file, 'alice alice-token-0123456789\nbob bob-token-0123456789ab\n');
      touch(2000);
      now = 9_999;
      expect(users().fromToken('bob-token-0123456789ab')).toBeUndefined();
      now = 10_000;
      expect(users().fromToken('bob-token-0123456789ab')).toBe('bob');
      writeFileSync(file, 'bob short\n');
      touch(3000);
      now = 20_000;
      expect(users().fromToken('bob-token-0123456789ab')).toBe('bob');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

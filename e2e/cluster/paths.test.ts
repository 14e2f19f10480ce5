// Unit tests of versions.env parsing and of the cache layout shared with build.sh.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterToolkitDir, controlPlaneCacheDir, parseEnvFile, readVersions } from './paths.js';

describe('parseEnvFile', () => {
  it('reads KEY=value lines, skipping comments and blanks, unquoting values', () => {
    expect(parseEnvFile('# c\nA=1\n\nB="two"\n')).toEqual({ A: '1', B: 'two' });
  });
  it('names the line of a malformed entry', () => {
    expect(() => parseEnvFile('A=1\nnot a pair\n', 'v.env')).toThrow(/v\.env:2: expected KEY=value/);
  });
});

describe('cache layout', () => {
  it('is the directory build.sh fills (same versions, same naming)', () => {
    const script = `source ${join(clusterToolkitDir, 'versions.env')}; echo "\${SKYPORT_CACHE:-$HOME/.cache/skyport}/cp-$K8S_VERSION-kwok-$KWOK_VERSION-etcd-$ETCD_VERSION"`;
    const fromShell = execFileSync('bash', ['-c', script]).toString().trim();
    expect(controlPlaneCacheDir()).toBe(fromShell);
    expect(readVersions().K8S_VERSION).toMatch(/^v1\.\d+\.\d+$/);
  });
});

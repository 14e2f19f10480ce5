import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  integrityOf,
  mmdebstrapArgs,
  pruneNodeModules,
  removeOthers,
  workspaceDependencies,
} from './stage.js';

describe('staging helpers', () => {
  let dir: string;
  const write = (rel: string, text = 'x'): void => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'skyport-stage-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds workspace dependencies through other workspaces (the operator needs the S3 client via the query runner)', () => {
    const ws = (path: string, name: string, deps: string[] = []): void =>
      write(
        `${path}/package.json`,
        JSON.stringify({ name, dependencies: Object.fromEntries(deps.map((d) => [d, '0.1.0'])) }),
      );
    const all = [
      'packages/s3',
      'operator',
      'services/anomaly',
      'services/query-runner',
      'services/cutout-runner',
    ];
    write('package.json', JSON.stringify({ workspaces: [...all, 'services/tap', 'e2e'] }));
    ws('packages/s3', '@skyport/s3');
    ws('services/query-runner', '@skyport/query-runner', ['@skyport/s3', 'pg']);
    ws('services/tap', '@skyport/tap', ['@skyport/query-runner', '@skyport/s3']);
    ws('services/cutout-runner', '@skyport/cutout-runner', ['@skyport/s3', 'pngjs']);
    ws('services/anomaly', '@skyport/anomaly', ['ioredis']);
    ws('operator', '@skyport/operator', ['@skyport/query-runner', '@skyport/anomaly']);
    ws('e2e', '@skyport/e2e');
    expect(workspaceDependencies(dir, 'operator')).toEqual([
      'packages/s3',
      'services/anomaly',
      'services/query-runner',
    ]);
    expect(workspaceDependencies(dir, 'services/tap')).toEqual(['packages/s3', 'services/query-runner']);
    expect(workspaceDependencies(dir, 'services/cutout-runner')).toEqual(['packages/s3']);
    expect(workspaceDependencies(dir, 'services/anomaly')).toEqual([]);
  });

  it('prunes declarations, source maps and docs from node_modules, keeping code, JSON and licences', () => {
    const keep = ['a/index.js', 'a/package.json', 'a/LICENSE', 'a/LICENSE.md', 'a/lib/x.mjs', 'b/src/y.ts'];
    const drop = ['a/index.d.ts', 'a/index.js.map', 'a/README.md', 'a/lib/x.d.mts', 'b/CHANGELOG.md'];
    for (const f of [...keep, ...drop]) write(`node_modules/${f}`);
    pruneNodeModules(join(dir, 'node_modules'));
    for (const f of keep) expect(existsSync(join(dir, 'node_modules', f)), f).toBe(true);
    for (const f of drop) expect(existsSync(join(dir, 'node_modules', f)), f).toBe(false);
  });

  it('computes npm integrity strings (sha512, base64)', () => {
    write('pkg.tgz', 'hello');
    const want = `sha512-${createHash('sha512').update('hello').digest('base64')}`;
    expect(integrityOf(join(dir, 'pkg.tgz'))).toBe(want);
  });

  it('keeps one cache entry per image, never a half-written one', () => {
    for (const f of ['node20-aaaa.tar', 'node20-bbbb.tar', 'node20-cccc.tar.tmp', 'operator-aaaa.tar'])
      write(f);
    removeOthers(dir, 'node20-', join(dir, 'node20-bbbb.tar'));
    expect(
      ['node20-aaaa.tar', 'node20-bbbb.tar', 'node20-cccc.tar.tmp', 'operator-aaaa.tar'].map((f) =>
        existsSync(join(dir, f)),
      ),
    ).toEqual([false, true, true, true]);
  });

  it('makes a root-mode tarball of the recipe from the given mirrors, trimmed of docs and host files', () => {
    const args = mmdebstrapArgs(
      { variant: 'extract', packages: ['libc6', 'busybox-static'] },
      'bookworm',
      'out.tar',
      ['deb http://mirror.example/debian bookworm main'],
    );
    expect(args.slice(0, 4)).toEqual([
      '--mode=root',
      '--variant=extract',
      '--include=libc6,busybox-static',
      '--format=tar',
    ]);
    expect(args.slice(-3)).toEqual(['bookworm', 'out.tar', 'deb http://mirror.example/debian bookworm main']);
    expect(args.find((a) => a.startsWith('--customize-hook='))).toMatch(
      /rm -f etc\/resolv\.conf etc\/hostname/,
    );
  });
});

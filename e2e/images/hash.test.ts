import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imageKeys } from './build.js';
import { collectInputs, contentKey, type KeyParts } from './hash.js';
import type { ImageSpec } from './spec.js';

const base: KeyParts = {
  dockerfile: 'FROM scratch\nCOPY a /a\n',
  files: [
    { path: 'images/x/a', executable: false, sha256: 'aa' },
    { path: 'images/x/b', executable: true, sha256: 'bb' },
  ],
  settings: { NODE_VERSION: '20.20.2', DEBIAN_SUITE: 'bookworm' },
  parents: { BASE: 'k1' },
};

describe('contentKey', () => {
  it('is a sha256 hex digest and stable for equal parts', () => {
    expect(contentKey(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(contentKey({ ...base })).toBe(contentKey(base));
  });

  it('ignores the order of files, settings and parents', () => {
    const reordered: KeyParts = {
      ...base,
      files: [...base.files].reverse(),
      settings: { DEBIAN_SUITE: 'bookworm', NODE_VERSION: '20.20.2' },
    };
    expect(contentKey(reordered)).toBe(contentKey(base));
  });

  it.each<[string, Partial<KeyParts>]>([
    ['the Dockerfile', { dockerfile: 'FROM scratch\nCOPY a /b\n' }],
    ['a file content', { files: [{ path: 'images/x/a', executable: false, sha256: 'ab' }, base.files[1]!] }],
    ['a file name', { files: [{ path: 'images/x/c', executable: false, sha256: 'aa' }, base.files[1]!] }],
    [
      'an executable bit',
      { files: [{ path: 'images/x/a', executable: true, sha256: 'aa' }, base.files[1]!] },
    ],
    ['a removed file', { files: [base.files[0]!] }],
    ['a pin', { settings: { NODE_VERSION: '20.20.3', DEBIAN_SUITE: 'bookworm' } }],
    ['the parent key', { parents: { BASE: 'k2' } }],
    ['no parent', { parents: {} }],
  ])('changes with %s', (_what, change) => {
    expect(contentKey({ ...base, ...change })).not.toBe(contentKey(base));
  });

  it('does not confuse a setting with a parent of the same name and value', () => {
    expect(contentKey({ ...base, settings: {}, parents: { X: 'y' } })).not.toBe(
      contentKey({ ...base, settings: { X: 'y' }, parents: {} }),
    );
  });

  it('rejects a file listed twice', () => {
    expect(() => contentKey({ ...base, files: [base.files[0]!, base.files[0]!] })).toThrow(
      /images\/x\/a is listed twice/,
    );
  });
});

describe('collectInputs and imageKeys on a tree', () => {
  let root: string;
  const write = (rel: string, text: string): void => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  const specs: ImageSpec[] = [
    { name: 'base', inputs: { paths: [] }, pins: ['SUITE'], stage: { kind: 'plain' }, purpose: 'base' },
    {
      name: 'app',
      base: 'base',
      inputs: { paths: ['package.json', 'app/src'], exclude: [/\.test\.ts$/] },
      pins: [],
      stage: { kind: 'app', workspace: 'app' },
      purpose: 'product',
    },
  ];
  const keys = (versions = { SUITE: 'bookworm' }): Map<string, string> =>
    imageKeys(specs, root, versions, []);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'skyport-hash-'));
    write('images/base/Dockerfile', 'FROM scratch\n');
    write('images/app/Dockerfile', 'ARG BASE\nFROM ${BASE}\n');
    write('package.json', '{}');
    write('app/src/main.ts', 'console.log(1);');
    write('app/src/main.test.ts', 'test');
    write('app/src/node_modules/x/index.js', 'x');
    write('app/dist/main.js', 'built');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('lists sources sorted, skipping tests, node_modules and dist', () => {
    const files = collectInputs(root, { paths: ['app/src', 'package.json'], exclude: [/\.test\.ts$/] });
    expect(files.map((f) => f.path)).toEqual(['app/src/main.ts', 'package.json']);
  });

  it('records the executable bit and symbolic links by target', () => {
    chmodSync(join(root, 'app/src/main.ts'), 0o755);
    symlinkSync('main.ts', join(root, 'app/src/link.ts'));
    const files = collectInputs(root, { paths: ['app/src'], exclude: [/\.test\.ts$/] });
    expect(files).toEqual([
      {
        path: 'app/src/link.ts',
        executable: false,
        sha256: expect.stringMatching(/^link:[0-9a-f]{64}$/) as string,
      },
      {
        path: 'app/src/main.ts',
        executable: true,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
      },
    ]);
  });

  it('fails naming a missing input', () => {
    expect(() => collectInputs(root, { paths: ['app/gone.ts'] })).toThrow(
      /image input app\/gone\.ts does not exist/,
    );
  });

  it('keeps every key when only excluded or unrelated files change', () => {
    const before = keys();
    write('app/src/main.test.ts', 'changed test');
    write('app/dist/main.js', 'rebuilt');
    write('README.md', 'docs');
    expect(keys()).toEqual(before);
  });

  it('changes only the app key when a source changes', () => {
    const before = keys();
    write('app/src/main.ts', 'console.log(2);');
    const after = keys();
    expect(after.get('base')).toBe(before.get('base'));
    expect(after.get('app')).not.toBe(before.get('app'));
  });

  it('changes the app key when its base changes (a pin of the base)', () => {
    const before = keys();
    const after = keys({ SUITE: 'trixie' });
    expect(after.get('base')).not.toBe(before.get('base'));
    expect(after.get('app')).not.toBe(before.get('app'));
  });

  it('changes a key when a file is added to the image folder', () => {
    const before = keys();
    write('images/base/extra.conf', 'x');
    expect(keys().get('base')).not.toBe(before.get('base'));
  });

  it('changes every key when a common input (the staging code) changes', () => {
    write('stage.ts', 'v1');
    const before = imageKeys(specs, root, { SUITE: 'bookworm' }, [], ['stage.ts']);
    write('stage.ts', 'v2');
    const after = imageKeys(specs, root, { SUITE: 'bookworm' }, [], ['stage.ts']);
    expect(after.get('base')).not.toBe(before.get('base'));
    expect(after.get('app')).not.toBe(before.get('app'));
  });

  it('names a missing pin', () => {
    expect(() => keys({} as { SUITE: string })).toThrow(/SUITE \(needed by image base\) is missing/);
  });
});

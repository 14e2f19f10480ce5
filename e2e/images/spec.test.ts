import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../cluster/paths.js';
import { readImageVersions } from './build.js';
import { numericUser, runtimeSpec, type ImageConfig } from './runc.js';
import { IMAGES, imageRef, MANIFESTS, selectImages } from './spec.js';
import { workspaceDependencies } from './stage.js';

describe('image specs', () => {
  it('selects an image with every base it needs, bases first', () => {
    expect(selectImages(['operator']).map((s) => s.name)).toEqual(['base-runtime', 'node20', 'operator']);
    expect(selectImages(['jupyterlab', 'pause']).map((s) => s.name)).toEqual([
      'base-python',
      'jupyterlab',
      'pause',
    ]);
  });

  it('selects everything when no name is given', () => {
    expect(selectImages([]).map((s) => s.name)).toEqual(IMAGES.map((s) => s.name));
  });

  it('names the known images when one is unknown', () => {
    expect(() => selectImages(['operatr'])).toThrow(
      /unknown image "operatr"; known: base-runtime, .*testbox/,
    );
  });

  it('lists every base before the images built from it', () => {
    const seen = new Set<string>();
    for (const s of IMAGES) {
      if (s.base !== undefined) expect(seen.has(s.base), `${s.name} after ${s.base}`).toBe(true);
      seen.add(s.name);
    }
  });

  it('has a Dockerfile for every image and every pin in versions.env', () => {
    const versions = readImageVersions();
    for (const s of IMAGES) {
      expect(existsSync(join(repoRoot, 'images', s.name, 'Dockerfile')), s.name).toBe(true);
      for (const pin of s.pins) expect(versions[pin], `${s.name} needs ${pin}`).toBeDefined();
    }
    expect(versions['NODE_VERSION']).toMatch(/^20\./);
    expect(versions['NODE_INTEGRITY']).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
  });

  it('runs every product image as a numeric non-root user', () => {
    for (const s of IMAGES.filter((i) => i.purpose !== 'base')) {
      const text = readFileSync(join(repoRoot, 'images', s.name, 'Dockerfile'), 'utf8');
      const users = [...text.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1] ?? '');
      expect(users.at(-1), `${s.name} USER`).toMatch(/^[1-9]\d*:\d+$/);
    }
  });

  it('pins every JupyterLab requirement with a hash', () => {
    const lines = readFileSync(join(repoRoot, 'images/jupyterlab/requirements.txt'), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) expect(l).toMatch(/^[a-z0-9-]+==[^\s]+ --hash=sha256:[0-9a-f]{64}$/);
    expect(lines.some((l) => l.startsWith('jupyterlab=='))).toBe(true);
  });

  it('makes every workspace manifest an input of every app image (npm ci checks them all)', () => {
    const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] };
    const manifests = root.workspaces.map((w) => `${w}/package.json`);
    expect(manifests.filter((m) => !MANIFESTS.includes(m))).toEqual([]);
    const apps = IMAGES.filter((s) => s.stage.kind === 'app');
    expect(apps.map((s) => s.name)).toContain('cutout-runner');
    for (const s of apps)
      expect(
        manifests.filter((m) => !s.inputs.paths.includes(m)),
        s.name,
      ).toEqual([]);
  });

  it('makes the sources of every workspace an app depends on inputs of its image (a change there rebuilds it)', () => {
    const apps = IMAGES.filter((s) => s.stage.kind === 'app');
    for (const s of apps) {
      if (s.stage.kind !== 'app') continue;
      const needed = [s.stage.workspace, ...workspaceDependencies(repoRoot, s.stage.workspace)].flatMap(
        (w) => [`${w}/tsconfig.json`, `${w}/src`],
      );
      expect(
        needed.filter((p) => !s.inputs.paths.includes(p)),
        s.name,
      ).toEqual([]);
    }
    expect(workspaceDependencies(repoRoot, 'services/tap')).toContain('packages/service-kit');
  });

  it('tags images under localhost/skyport', () => {
    expect(imageRef('operator')).toBe('localhost/skyport/operator:dev');
  });
});

describe('runtimeSpec', () => {
  const base = {
    process: { terminal: true, args: ['sh'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
    root: { path: 'rootfs', readonly: true },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc', options: [] }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'mount' }] },
  };
  const image: ImageConfig = {
    config: {
      Entrypoint: ['node', '/app/main.js'],
      Cmd: ['--serve'],
      Env: ['PATH=/usr/local/bin:/bin', 'NODE_ENV=production'],
      User: '65532:65532',
      WorkingDir: '/app',
    },
  };

  it('runs Entrypoint + Cmd as the image user in its working directory, read-only, without a terminal', () => {
    const s = runtimeSpec(base, image, {});
    expect(s.process).toEqual({
      terminal: false,
      args: ['node', '/app/main.js', '--serve'],
      env: ['PATH=/usr/local/bin:/bin', 'NODE_ENV=production'],
      cwd: '/app',
      user: { uid: 65532, gid: 65532 },
    });
    expect(s.root).toEqual({ path: 'rootfs', readonly: true });
    expect(s.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'network', 'mount']);
  });

  it('replaces Cmd with args and everything with command, like a Pod spec', () => {
    expect(runtimeSpec(base, image, { args: ['--help'] }).process.args).toEqual([
      'node',
      '/app/main.js',
      '--help',
    ]);
    expect(runtimeSpec(base, image, { command: ['id', '-u'] }).process.args).toEqual(['id', '-u']);
  });

  it('adds env, tmpfs mounts, a user override and host networking', () => {
    const s = runtimeSpec(base, image, {
      env: { A: '1' },
      tmpfs: ['/tmp'],
      user: '1000:100',
      hostNetwork: true,
    });
    expect(s.process.env.at(-1)).toBe('A=1');
    expect(s.process.user).toEqual({ uid: 1000, gid: 100 });
    expect(s.mounts.map((m) => m.destination)).toEqual(['/proc', '/tmp']);
    expect(s.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'mount']);
  });

  it('refuses a named user and an image with nothing to run', () => {
    expect(() => numericUser('jovyan')).toThrow(/not numeric/);
    expect(numericUser('1000')).toEqual({ uid: 1000, gid: 1000 });
    expect(() => runtimeSpec(base, { config: {} }, {})).toThrow(/neither Entrypoint nor Cmd/);
  });
});

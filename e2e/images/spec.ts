// The images `npm run images` builds, in build order: what each is made from and how its context is staged.
import type { InputSelection } from './hash.js';

/** A Debian root filesystem made by mmdebstrap, the first layer of a base image. */
export interface RootfsRecipe {
  /** mmdebstrap variant: `extract` unpacks packages without running their scripts; `minbase` installs them. */
  variant: 'extract' | 'minbase';
  packages: readonly string[];
}

/** How a context directory is filled beside the files of the image's own folder. */
export type Stage =
  | { kind: 'rootfs'; recipe: RootfsRecipe }
  | { kind: 'node' }
  | { kind: 'app'; workspace: string }
  | { kind: 'wheels' }
  | { kind: 'gcc-static'; source: string; output: string }
  | { kind: 'plain' };

/** One image. */
export interface ImageSpec {
  /** Short name: the folder under images/ and the last part of the image reference. */
  name: string;
  /** The image built FROM (passed as build-arg BASE), if not scratch. */
  base?: string;
  /** Repository files the staged context is made from, besides images/<name>/ (always an input). */
  inputs: InputSelection;
  /** Pins from images/versions.env that change the image. */
  pins: readonly string[];
  stage: Stage;
  /** Part of the platform (pushed for users) or only for the local node and tests. */
  purpose: 'product' | 'node' | 'test' | 'base';
}

const NO_TESTS: readonly RegExp[] = [/\.test\.ts$/, /(^|\/)(testdata|__snapshots__|golden)(\/|$)/];

/**
 * Every workspace manifest (the root package.json's `workspaces`): `npm ci` checks them all against the lock file,
 * so a dependency change in any workspace changes every app image's key (spec.test.ts checks the list is whole).
 */
export const MANIFESTS = [
  'package.json',
  'package-lock.json',
  'tsconfig.base.json',
  'packages/s3/package.json',
  'packages/service-kit/package.json',
  'operator/package.json',
  'services/anomaly/package.json',
  'services/query-runner/package.json',
  'services/tap/package.json',
  'services/cutout-runner/package.json',
  'e2e/package.json',
];

/** Build order: every image comes after its base. */
export const IMAGES: readonly ImageSpec[] = [
  {
    name: 'base-runtime',
    inputs: { paths: [] },
    pins: ['DEBIAN_SUITE'],
    stage: {
      kind: 'rootfs',
      recipe: {
        variant: 'extract',
        packages: ['base-files', 'netbase', 'libc6', 'libgcc-s1', 'libstdc++6', 'busybox-static', 'tini'],
      },
    },
    purpose: 'base',
  },
  {
    name: 'base-python',
    inputs: { paths: [] },
    pins: ['DEBIAN_SUITE'],
    stage: { kind: 'rootfs', recipe: { variant: 'minbase', packages: ['python3', 'python3-venv'] } },
    purpose: 'base',
  },
  {
    name: 'redis',
    inputs: { paths: [] },
    pins: ['DEBIAN_SUITE'],
    stage: { kind: 'rootfs', recipe: { variant: 'minbase', packages: ['redis-server'] } },
    purpose: 'test',
  },
  {
    name: 'node20',
    base: 'base-runtime',
    inputs: { paths: [] },
    pins: ['NODE_PACKAGE', 'NODE_VERSION', 'NODE_INTEGRITY'],
    stage: { kind: 'node' },
    purpose: 'base',
  },
  {
    name: 'operator',
    base: 'node20',
    // The operator validates queries with the query runner's validator, parses cutout positions with the
    // cutout runner's parser and sends job notifications with the anomaly service's webhook transport and SSRF
    // refusal list (workspace dependencies).
    inputs: {
      paths: [
        ...MANIFESTS,
        'packages/s3/tsconfig.json',
        'packages/s3/src',
        'packages/service-kit/tsconfig.json',
        'packages/service-kit/src',
        'operator/tsconfig.json',
        'operator/src',
        'services/anomaly/tsconfig.json',
        'services/anomaly/src',
        'services/query-runner/tsconfig.json',
        'services/query-runner/src',
        'services/cutout-runner/tsconfig.json',
        'services/cutout-runner/src',
      ],
      exclude: NO_TESTS,
    },
    pins: [],
    stage: { kind: 'app', workspace: 'operator' },
    purpose: 'product',
  },
  {
    name: 'anomaly',
    base: 'node20',
    inputs: {
      paths: [...MANIFESTS, 'services/anomaly/tsconfig.json', 'services/anomaly/src'],
      exclude: [...NO_TESTS, /^services\/anomaly\/src\/engine\/wasm\/build\.ts$/],
    },
    pins: [],
    stage: { kind: 'app', workspace: 'services/anomaly' },
    purpose: 'product',
  },
  {
    name: 'cutout-runner',
    base: 'node20',
    inputs: {
      paths: [
        ...MANIFESTS,
        'packages/s3/tsconfig.json',
        'packages/s3/src',
        'packages/service-kit/tsconfig.json',
        'packages/service-kit/src',
        'services/cutout-runner/tsconfig.json',
        'services/cutout-runner/src',
      ],
      exclude: NO_TESTS,
    },
    pins: [],
    stage: { kind: 'app', workspace: 'services/cutout-runner' },
    purpose: 'product',
  },
  {
    name: 'query-runner',
    base: 'node20',
    inputs: {
      paths: [
        ...MANIFESTS,
        'packages/s3/tsconfig.json',
        'packages/s3/src',
        'packages/service-kit/tsconfig.json',
        'packages/service-kit/src',
        'services/query-runner/tsconfig.json',
        'services/query-runner/src',
      ],
      exclude: [...NO_TESTS, /^services\/query-runner\/src\/sample\//],
    },
    pins: [],
    stage: { kind: 'app', workspace: 'services/query-runner' },
    purpose: 'product',
  },
  {
    name: 'tap',
    base: 'node20',
    // The TAP service imports the query runner's translator, validator, reader and writers (a workspace dependency).
    inputs: {
      paths: [
        ...MANIFESTS,
        'packages/s3/tsconfig.json',
        'packages/s3/src',
        'packages/service-kit/tsconfig.json',
        'packages/service-kit/src',
        'services/tap/tsconfig.json',
        'services/tap/src',
        'services/query-runner/tsconfig.json',
        'services/query-runner/src',
      ],
      exclude: [...NO_TESTS, /^services\/query-runner\/src\/sample\//],
    },
    pins: [],
    stage: { kind: 'app', workspace: 'services/tap' },
    purpose: 'product',
  },
  {
    name: 'jupyterlab',
    base: 'base-python',
    inputs: { paths: [] },
    pins: [],
    stage: { kind: 'wheels' },
    purpose: 'product',
  },
  {
    name: 'pause',
    inputs: { paths: [] },
    pins: [],
    stage: { kind: 'gcc-static', source: 'pause.c', output: 'pause' },
    purpose: 'node',
  },
  {
    name: 'testbox',
    base: 'base-runtime',
    inputs: { paths: [] },
    pins: [],
    stage: { kind: 'plain' },
    purpose: 'test',
  },
];

/** The images to build for `names` (all when empty), with every base they need, in build order. */
export function selectImages(names: readonly string[], all: readonly ImageSpec[] = IMAGES): ImageSpec[] {
  const byName = new Map(all.map((s) => [s.name, s]));
  const wanted = new Set<string>();
  const add = (name: string, from?: string): void => {
    const spec = byName.get(name);
    if (spec === undefined)
      throw new Error(
        `unknown image ${JSON.stringify(name)}${from ? ` (base of ${from})` : ''}; known: ${[...byName.keys()].join(', ')}`,
      );
    wanted.add(name);
    if (spec.base !== undefined) add(spec.base, name);
  };
  for (const n of names.length === 0 ? all.map((s) => s.name) : names) add(n);
  return all.filter((s) => wanted.has(s.name));
}

/** The reference an image is tagged with in the archive, in buildah's storage and on the node. */
export function imageRef(name: string, tag = 'dev'): string {
  return `localhost/skyport/${name}:${tag}`;
}

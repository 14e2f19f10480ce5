// Minimal OCI image archives from a few host files (one uncompressed layer), for the node's own images:
// the pause sandbox, CoreDNS and a busybox test image. Replaceable by the images built with `npm run images`.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A file copied from the host into the image. */
export interface ImageFile {
  src: string;
  /** Absolute path inside the image. */
  dest: string;
  mode?: number;
}

/** What goes into a single-layer image. */
export interface ImageSpec {
  /** Full reference, e.g. `registry.local/skyport/pause:1` (never pulled: the node has no registry). */
  ref: string;
  files: ImageFile[];
  /** Symlinks inside the image: path → target. */
  symlinks?: Record<string, string>;
  /** Empty directories to create (e.g. `/tmp`). */
  dirs?: string[];
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  env?: string[];
}

/** Splits `host/path/name:tag` into name and tag (tag defaults to `latest`). */
export function splitRef(ref: string): { name: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: 'latest' };
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** The config, manifest and index JSON of a single-layer linux/amd64 image (pure; digests given). */
export function imageDocuments(
  spec: ImageSpec,
  layer: { digest: string; size: number },
): { config: string; manifest: string; index: (manifestDigest: string, manifestSize: number) => string } {
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: {
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      ...(spec.cmd ? { Cmd: spec.cmd } : {}),
      ...(spec.user ? { User: spec.user } : {}),
      Env: spec.env ?? ['PATH=/bin:/usr/bin'],
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layer.digest}`] },
  });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${sha256(config)}`,
      size: Buffer.byteLength(config),
    },
    layers: [
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: `sha256:${layer.digest}`,
        size: layer.size,
      },
    ],
  });
  const index = (manifestDigest: string, manifestSize: number): string =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${manifestDigest}`,
          size: manifestSize,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: {
            'io.containerd.image.name': spec.ref,
            'org.opencontainers.image.ref.name': splitRef(spec.ref).tag,
          },
        },
      ],
    });
  return { config, manifest, index };
}

/** Writes an OCI image-layout tarball for `spec` to `outTar` (reproducible: sorted, mtime 0, uid 0). */
export function buildOciArchive(spec: ImageSpec, outTar: string): void {
  const work = mkdtempSync(join(tmpdir(), 'skyport-oci-'));
  try {
    const rootfs = join(work, 'rootfs');
    mkdirSync(rootfs);
    for (const d of spec.dirs ?? []) mkdirSync(join(rootfs, d), { recursive: true, mode: 0o1777 });
    for (const d of spec.dirs ?? []) chmodSync(join(rootfs, d), 0o1777);
    for (const f of spec.files) {
      const to = join(rootfs, f.dest);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(f.src, to);
      chmodSync(to, f.mode ?? 0o755);
    }
    for (const [path, target] of Object.entries(spec.symlinks ?? {})) {
      mkdirSync(dirname(join(rootfs, path)), { recursive: true });
      symlinkSync(target, join(rootfs, path));
    }
    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const layerTar = join(work, 'layer.tar');
    const tarOpts = ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0'];
    execFileSync('tar', [...tarOpts, '-C', rootfs, '-cf', layerTar, '.']);
    const layerBytes = readFileSync(layerTar);
    const layer = { digest: sha256(layerBytes), size: layerBytes.length };
    writeFileSync(join(blobs, layer.digest), layerBytes);
    const docs = imageDocuments(spec, layer);
    writeFileSync(join(blobs, sha256(docs.config)), docs.config);
    writeFileSync(join(blobs, sha256(docs.manifest)), docs.manifest);
    writeFileSync(
      join(layout, 'index.json'),
      docs.index(sha256(docs.manifest), Buffer.byteLength(docs.manifest)),
    );
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    mkdirSync(dirname(outTar), { recursive: true });
    execFileSync('tar', [...tarOpts, '-C', layout, '-cf', outTar, '.']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Busybox applets the test image links (busybox-static from Debian). */
const BUSYBOX_APPLETS = [
  'sh',
  'sleep',
  'cat',
  'echo',
  'wget',
  'nc',
  'httpd',
  'nslookup',
  'head',
  'tail',
  'dd',
  'ls',
  'hostname',
  'id',
  'env',
  'true',
  'false',
  'mkdir',
  'rm',
  'printf',
  'grep',
  'tr',
  'seq',
  'wc',
  'timeout',
];

/** The node's images: the pause sandbox (busybox sleep), CoreDNS and a busybox shell image for tests. */
export function nodeImageSpecs(opts: { busybox: string; coredns: string; corednsVersion: string }): {
  pause: ImageSpec;
  coredns: ImageSpec;
  busybox: ImageSpec;
} {
  const links = Object.fromEntries(BUSYBOX_APPLETS.map((a) => [`/bin/${a}`, 'busybox']));
  return {
    // PID 1 of every sandbox; containerd stops sandboxes with SIGKILL, so a plain sleep is enough.
    pause: {
      ref: 'registry.local/skyport/pause:busybox-1',
      files: [{ src: opts.busybox, dest: '/bin/busybox' }],
      entrypoint: ['/bin/busybox', 'sleep', '2147483647'],
      user: '65535:65535',
    },
    coredns: {
      ref: `registry.local/skyport/coredns:${opts.corednsVersion}`,
      files: [{ src: opts.coredns, dest: '/coredns' }],
      entrypoint: ['/coredns'],
      user: '65534:65534',
    },
    busybox: {
      ref: 'registry.local/skyport/busybox:1',
      files: [{ src: opts.busybox, dest: '/bin/busybox' }],
      symlinks: links,
      dirs: ['/tmp', '/www'],
      cmd: ['/bin/sh'],
      env: ['PATH=/bin'],
    },
  };
}

// buildah without a daemon: chroot isolation, its own storage under the skyport cache (never the machine's
// /var/lib/containers), images exchanged as docker-archive tarballs that containerd, Docker and kind all load.
import { join } from 'node:path';
import { run } from './exec.js';

/** Label holding an image's content key, so a stale image under the same tag is never reused. */
export const KEY_LABEL = 'io.skyport.content-key';

/** One buildah storage. */
export class Buildah {
  private readonly global: string[];

  /**
   * @param storageDir  holds `storage/` (layers) and `run/` (locks)
   * @param driver      `overlay` (default; needs root and a kernel with overlayfs) or `vfs` (works anywhere, copies
   *                    every layer in full)
   */
  constructor(storageDir: string, driver = process.env.SKYPORT_BUILDAH_DRIVER ?? 'overlay') {
    this.global = [
      '--root',
      join(storageDir, 'storage'),
      '--runroot',
      join(storageDir, 'run'),
      '--storage-driver',
      driver,
    ];
  }

  /** Runs `buildah <args>` against this storage. */
  buildah(args: readonly string[]): Promise<string> {
    return run('buildah', [...this.global, ...args]);
  }

  /** The content key of `ref` in storage, or undefined when the image is absent. */
  async keyOf(ref: string): Promise<string | undefined> {
    try {
      const out = await this.buildah([
        'inspect',
        '--type',
        'image',
        '--format',
        `{{index .OCIv1.Config.Labels "${KEY_LABEL}"}}`,
        ref,
      ]);
      return out.trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** Builds `Dockerfile` in `context` as `ref` (chroot isolation: no daemon; it shares the host network, which our Dockerfiles never use). */
  async bud(
    context: string,
    ref: string,
    buildArgs: Readonly<Record<string, string>>,
    labels: Readonly<Record<string, string>>,
  ): Promise<void> {
    const args = ['bud', '--isolation', 'chroot', '--pull=never', '-f', 'Dockerfile', '-t', ref];
    for (const [k, v] of Object.entries(buildArgs)) args.push('--build-arg', `${k}=${v}`);
    for (const [k, v] of Object.entries(labels)) args.push('--label', `${k}=${v}`);
    await this.buildah([...args, context]);
  }

  /** Writes `ref` as a docker-archive tarball tagged `ref`. */
  async save(ref: string, archive: string): Promise<void> {
    await this.buildah(['push', '--quiet', ref, `docker-archive:${archive}:${ref}`]);
  }

  /** Loads a docker-archive tarball into storage (its tag comes with it). */
  async load(archive: string): Promise<void> {
    await this.buildah(['pull', '--quiet', `docker-archive:${archive}`]);
  }

  /** Removes images no tag points to (stages of multi-stage builds, replaced versions). */
  async prune(): Promise<void> {
    await this.buildah(['rmi', '--prune']);
  }
}

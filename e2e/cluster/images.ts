// Loads images built by `npm run images` (docker-archive tarballs) into the real node's containerd, in the
// k8s.io namespace the kubelet reads, so Pods with `imagePullPolicy: IfNotPresent` start without a registry.
import { execFile } from 'node:child_process';

/** Options of {@link importImage}. */
export interface ImportOptions {
  /** The ctr binary (default `ctr` on PATH). */
  ctr?: string;
  /** containerd namespace; the kubelet's CRI uses `k8s.io`. */
  namespace?: string;
  timeoutMs?: number;
}

/**
 * Runs `ctr --address ADDRESS -n k8s.io images import TAR` and resolves with the image references ctr reports.
 * Importing again replaces what the tag points to, so a rebuilt image under the same tag is picked up by new Pods.
 */
export function importImage(
  tarPath: string,
  ctrAddress: string,
  opts: ImportOptions = {},
): Promise<string[]> {
  const ctr = opts.ctr ?? 'ctr';
  const args = ['--address', ctrAddress, '-n', opts.namespace ?? 'k8s.io', 'images', 'import', tarPath];
  return new Promise((resolveRefs, reject) => {
    execFile(
      ctr,
      args,
      { timeout: opts.timeoutMs ?? 300_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(
            new Error(`${ctr} ${args.join(' ')} failed: ${(stderr || err.message).trim()}`, { cause: err }),
          );
          return;
        }
        // ctr prints "unpacking REF (sha256:…)...done" per image (or "Importing …" lines in containerd 2).
        const refs = [...`${stdout}\n${stderr}`.matchAll(/(?:unpacking|saved)\s+(\S+:\S+?)\s/g)].map(
          (m) => m[1] ?? '',
        );
        resolveRefs([...new Set(refs.filter((r) => r !== ''))]);
      },
    );
  });
}

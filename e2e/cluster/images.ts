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
 * Runs `ctr --address ADDRESS -n k8s.io images import TAR`; rejects with ctr's complaint. Importing again moves the
 * tag to the new content, so a rebuilt image under the same tag is what new Pods get.
 */
export function importImage(tarPath: string, ctrAddress: string, opts: ImportOptions = {}): Promise<void> {
  const ctr = opts.ctr ?? 'ctr';
  const args = ['--address', ctrAddress, '-n', opts.namespace ?? 'k8s.io', 'images', 'import', tarPath];
  return new Promise((resolveDone, reject) => {
    execFile(
      ctr,
      args,
      { timeout: opts.timeoutMs ?? 300_000, maxBuffer: 16 * 1024 * 1024 },
      (err, _out, stderr) => {
        if (err)
          reject(
            new Error(`${ctr} ${args.join(' ')} failed: ${(stderr || err.message).trim()}`, { cause: err }),
          );
        else resolveDone();
      },
    );
  });
}

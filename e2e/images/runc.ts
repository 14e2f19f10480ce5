// Runs an image without a node: unpacks a docker-archive into a plain rootfs and starts it with runc, the way
// containerd would (image config → OCI runtime spec), to prove an image runs before any kubelet sees it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from './exec.js';

/** The parts of an image config (docker-archive `<digest>.json`) a container is started from. */
export interface ImageConfig {
  config: {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    User?: string;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
  };
}

/** An unpacked image: its rootfs directory and its config. */
export interface Unpacked {
  rootfs: string;
  image: ImageConfig;
  repoTags: string[];
}

/**
 * Unpacks a docker-archive tarball into `dir/rootfs`, applying layers in order with their whiteouts (`.wh.NAME`
 * deletes NAME from lower layers; `.wh..wh..opq` empties the directory).
 */
export async function unpackArchive(archive: string, dir: string): Promise<Unpacked> {
  const raw = join(dir, 'archive');
  const rootfs = join(dir, 'rootfs');
  mkdirSync(raw, { recursive: true });
  mkdirSync(rootfs, { recursive: true });
  await run('tar', ['-xf', archive, '-C', raw]);
  const manifest = JSON.parse(readFileSync(join(raw, 'manifest.json'), 'utf8')) as {
    Config: string;
    RepoTags: string[] | null;
    Layers: string[];
  }[];
  const m = manifest[0];
  if (m === undefined) throw new Error(`${archive}: manifest.json lists no image`);
  for (const layer of m.Layers) {
    const entries = (await run('tar', ['-tf', join(raw, layer)])).split('\n').filter((e) => e !== '');
    for (const e of entries) {
      const path = e.replace(/^\.\//, '').replace(/\/$/, '');
      const base = path.split('/').pop() ?? '';
      if (base === '.wh..wh..opq') {
        const d = join(rootfs, dirname(path));
        if (existsSync(d))
          for (const f of readdirSync(d)) rmSync(join(d, f), { recursive: true, force: true });
      } else if (base.startsWith('.wh.')) {
        rmSync(join(rootfs, dirname(path), base.slice(4)), { recursive: true, force: true });
      }
    }
    await run('tar', [
      '-xf',
      join(raw, layer),
      '-C',
      rootfs,
      '--same-owner',
      '--numeric-owner',
      '--exclude=.wh.*',
      '--exclude=*/.wh.*',
    ]);
  }
  const image = JSON.parse(readFileSync(join(raw, m.Config), 'utf8')) as ImageConfig;
  rmSync(raw, { recursive: true, force: true });
  return { rootfs, image, repoTags: m.RepoTags ?? [] };
}

/** How to run a container of an unpacked image. */
export interface RuncRun {
  /** Replaces the image's Cmd (the Entrypoint stays, as in Kubernetes `args`). */
  args?: string[];
  /** Replaces Entrypoint and Cmd (Kubernetes `command`). */
  command?: string[];
  /** Numeric `uid:gid`; the image's USER when omitted (must then be numeric). */
  user?: string;
  env?: Record<string, string>;
  /** Read-only root filesystem (as the charts run it); default true. */
  readonlyRoot?: boolean;
  /** Join the host's network namespace (so a server is reachable on loopback); default false. */
  hostNetwork?: boolean;
  /** Writable tmpfs mounts (for example /tmp and a home directory). */
  tmpfs?: string[];
  /**
   * Sends this signal to the container's first process `afterMs` after start, or after its stdout first matches
   * `whenStdout` (a process that is PID 1 ignores TERM until it has installed a handler).
   */
  signal?: { name: 'TERM' | 'INT' | 'KILL'; afterMs: number; whenStdout?: RegExp };
  timeoutMs?: number;
}

/** Result of {@link runContainer}. */
export interface RuncResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Parses a numeric `uid[:gid]`. */
export function numericUser(user: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m?.[1]) throw new Error(`user ${JSON.stringify(user)} is not numeric uid[:gid]`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

type Spec = {
  process: {
    terminal: boolean;
    args: string[];
    env: string[];
    cwd: string;
    user: { uid: number; gid: number };
  };
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  linux: { namespaces: { type: string }[] };
};

/** The OCI runtime spec for one run, from runc's default spec and the image config. */
export function runtimeSpec(base: Spec, image: ImageConfig, opts: RuncRun): Spec {
  const c = image.config;
  const args = opts.command ?? [...(c.Entrypoint ?? []), ...(opts.args ?? c.Cmd ?? [])];
  if (args.length === 0) throw new Error('image has neither Entrypoint nor Cmd and no command was given');
  const env = [...(c.Env ?? []), ...Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  const user = numericUser(opts.user ?? (c.User || '0'));
  // Owned by the container's user, as kubelet makes an emptyDir writable through fsGroup.
  const tmpfs = (opts.tmpfs ?? []).map((destination) => ({
    destination,
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nosuid', 'nodev', 'size=65536k', `uid=${user.uid}`, `gid=${user.gid}`, 'mode=0700'],
  }));
  const namespaces = base.linux.namespaces.filter((n) => !(opts.hostNetwork && n.type === 'network'));
  return {
    ...base,
    process: { ...base.process, terminal: false, args, env, cwd: c.WorkingDir || '/', user },
    root: { path: 'rootfs', readonly: opts.readonlyRoot ?? true },
    hostname: 'skyport-runc',
    mounts: [...base.mounts, ...tmpfs],
    linux: { ...base.linux, namespaces },
  };
}

let seq = 0;

/** Runs one container to completion under runc (state in `dir/state`); never throws on a non-zero exit. */
export async function runContainer(dir: string, unpacked: Unpacked, opts: RuncRun = {}): Promise<RuncResult> {
  const state = join(dir, 'state');
  mkdirSync(state, { recursive: true });
  rmSync(join(dir, 'config.json'), { force: true });
  await run('runc', ['spec', '--bundle', dir]);
  const base = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(runtimeSpec(base, unpacked.image, opts), null, 2));
  const id = `skyport-img-${process.pid}-${++seq}`;
  const signal = opts.signal;
  let timer: NodeJS.Timeout | undefined;
  let exited = false;
  const arm = (): void => {
    if (signal === undefined || timer !== undefined) return;
    // Sent once the container is running (its process exec'd), as the kubelet does: the state is polled every
    // 10 ms until then. Before that, runc's own init is PID 1 and the signal would be lost to it.
    const kill = (): void => {
      run('runc', ['--root', state, 'state', id])
        .then((out) => {
          if ((JSON.parse(out) as { status?: string }).status !== 'running')
            throw new Error('not running yet');
          return run('runc', ['--root', state, 'kill', id, signal.name]);
        })
        .catch(() => {
          if (!exited) timer = setTimeout(kill, 10);
        });
    };
    timer = setTimeout(kill, signal.afterMs);
  };
  if (signal?.whenStdout === undefined) arm();
  try {
    const stdout = await run('runc', ['--root', state, 'run', '--bundle', dir, id], {
      timeoutMs: opts.timeoutMs ?? 120_000,
      onStdout: (soFar) => {
        if (signal?.whenStdout?.test(soFar)) arm();
      },
    });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { exitCode?: number | null; stdout?: string; stderr?: string };
    if (e.exitCode === undefined) throw err;
    return { code: e.exitCode ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  } finally {
    exited = true;
    clearTimeout(timer);
    try {
      execFileSync('runc', ['--root', state, 'delete', '--force', id], { stdio: 'ignore' });
    } catch {
      // Already gone: `runc run` deletes a container that exited.
    }
  }
}

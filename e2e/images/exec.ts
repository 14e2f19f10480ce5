// Runs the image tools (buildah, mmdebstrap, npm, pip, gcc, runc, tar): resolves with stdout, throws with the
// tail of the output so a failed build says why.
import { spawn } from 'node:child_process';

/** Options of {@link run}. */
export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long; default 20 minutes. */
  timeoutMs?: number;
  input?: string;
  /** Called with the stdout received so far, after each chunk. */
  onStdout?: (soFar: string) => void;
}

/** A command exited non-zero (or was killed); the message ends with the last lines of its output. */
export class ExecError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const tail = `${stderr}\n${stdout}`.trim().split('\n').slice(-25).join('\n');
    super(`${command} failed (exit ${exitCode ?? 'signal'}):\n${tail}`);
    this.name = 'ExecError';
  }
}

/** Runs `cmd args` without a shell; resolves with stdout once it exits 0. */
export function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  return new Promise((resolveOut, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: 'pipe' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      opts.onStdout?.(Buffer.concat(out).toString('utf8'));
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20 * 60_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      const hint = (e as NodeJS.ErrnoException).code === 'ENOENT' ? ` (${cmd} is not installed)` : '';
      reject(new Error(`${cmd}: ${e.message}${hint}`, { cause: e }));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      if (code === 0) return resolveOut(stdout);
      const command = `${cmd} ${args.join(' ')}`.slice(0, 300);
      reject(new ExecError(command, code, stdout, Buffer.concat(err).toString('utf8')));
    });
    // A command that exits without reading its input must not fail the caller with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Whether `cmd` can be started (found on PATH and answering `--version`). */
export async function available(cmd: string): Promise<boolean> {
  try {
    await run(cmd, ['--version'], { timeoutMs: 20_000 });
    return true;
  } catch {
    return false;
  }
}

// Starting, probing and stopping the control plane's component processes, tracked by PID only.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { get as httpGet } from 'node:http';

/** A component process as recorded in the cluster's state file. */
export interface ComponentRecord {
  name: string;
  pid: number;
  /** Executable path; checked against /proc/<pid>/cmdline before signalling so a reused PID is spared. */
  exe: string;
  logFile: string;
}

/** A running component: its record and whether it has exited (with code) while we watched. */
export interface Component extends ComponentRecord {
  exited: { code: number | null; signal: string | null } | null;
}

/** Starts `exe args` detached with stdout+stderr appended to `logFile`. */
export function startComponent(
  name: string,
  exe: string,
  args: string[],
  logFile: string,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Component {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(exe, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', fd, fd],
      // Own process group so a Ctrl-C in the terminal doesn't race our orderly shutdown.
      detached: true,
    });
    if (child.pid === undefined) throw new Error(`${name}: spawn of ${exe} returned no PID`);
    const comp: Component = { name, pid: child.pid, exe, logFile, exited: null };
    child.once('exit', (code, signal) => {
      comp.exited = { code, signal };
    });
    child.once('error', (err) => {
      comp.exited = { code: null, signal: `spawn error: ${err.message}` };
    });
    child.unref();
    return comp;
  } finally {
    closeSync(fd);
  }
}

/** Last `lines` lines of a log file (empty string when missing). */
export function tailFile(file: string, lines = 40): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8');
  return text
    .split('\n')
    .slice(-lines - 1)
    .join('\n');
}

/** Thrown when a component exits or never becomes ready; the message carries the tail of its log. */
export class ComponentError extends Error {
  constructor(
    readonly component: string,
    reason: string,
    readonly logFile: string,
  ) {
    super(`${component} ${reason}; last lines of ${logFile}:\n${tailFile(logFile, 30)}`);
    this.name = 'ComponentError';
  }
}

/** TLS material for probing HTTPS endpoints. */
export interface ProbeTls {
  ca?: string;
  cert?: string;
  key?: string;
  /** Components' self-signed serving certs (kcm, scheduler) are not from our CA. */
  insecure?: boolean;
}

/** One HTTP(S) GET; resolves with status and body, rejects on connection errors or after `timeoutMs`. */
export function httpProbe(
  url: string,
  tls: ProbeTls = {},
  timeoutMs = 2000,
): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const onRes = (res: import('node:http').IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    };
    const req = url.startsWith('https:')
      ? httpsGet(
          url,
          {
            ...(tls.ca ? { ca: tls.ca } : {}),
            ...(tls.cert ? { cert: tls.cert } : {}),
            ...(tls.key ? { key: tls.key } : {}),
            rejectUnauthorized: !tls.insecure,
            timeout: timeoutMs,
          },
          onRes,
        )
      : httpGet(url, { timeout: timeoutMs }, onRes);
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', fail);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `url` until it answers 200, failing fast when the component exits and with the tail of its log
 * after `timeoutMs`.
 */
export async function waitHealthy(
  comp: Component,
  url: string,
  tls: ProbeTls,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    if (comp.exited) {
      const { code, signal } = comp.exited;
      throw new ComponentError(
        comp.name,
        `exited (code ${code ?? '-'}, signal ${signal ?? '-'}) before ${url} was healthy`,
        comp.logFile,
      );
    }
    try {
      const res = await httpProbe(url, tls);
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${res.body.slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new ComponentError(
        comp.name,
        `was not healthy at ${url} within ${timeoutMs} ms (last: ${last})`,
        comp.logFile,
      );
    }
    await sleep(150);
  }
}

/**
 * True when `pid` is alive and still runs `exe` (guards against PID reuse after a crash or reboot). Compares
 * /proc/<pid>/exe with the real path of `exe`, so servers that rewrite their process title still match.
 */
export function isOurProcess(pid: number, exe: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  let running: string;
  try {
    running = readlinkSync(`/proc/${pid}/exe`);
  } catch (err) {
    // ENOENT: a zombie that has exited. EACCES or no /proc: trust the signal-0 check.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  try {
    return running === realpathSync(exe);
  } catch {
    return running === exe;
  }
}

/**
 * Sends `signal` (default SIGTERM), waits up to `graceMs`, then SIGKILL; only if the PID still runs the
 * recorded executable. `signal: 'SIGKILL'` simulates a crash.
 */
export async function stopProcess(
  rec: ComponentRecord,
  graceMs = 5000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<'not-running' | 'terminated' | 'killed'> {
  if (!isOurProcess(rec.pid, rec.exe)) return 'not-running';
  try {
    process.kill(rec.pid, signal);
  } catch {
    return 'not-running';
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline || signal === 'SIGKILL') {
    if (!isOurProcess(rec.pid, rec.exe)) return signal === 'SIGKILL' ? 'killed' : 'terminated';
    await sleep(20);
  }
  try {
    process.kill(rec.pid, 'SIGKILL');
  } catch {
    return 'terminated';
  }
  while (isOurProcess(rec.pid, rec.exe)) await sleep(20);
  return 'killed';
}

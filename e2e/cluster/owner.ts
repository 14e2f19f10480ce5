// Ties a cluster's lifetime to the process that started it: a detached watchdog stops the cluster (and the
// real node's host changes) when that process is gone, however it died (SIGKILL included).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterToolkitDir, repoRoot } from './paths.js';

/** The start time (clock ticks since boot) of `pid`, or undefined when it is not running. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces and parentheses): state is field 3.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

/** True while the process `pid` that started at `startTime` runs (a reused PID does not count). */
export function ownerAlive(pid: number, startTime: string): boolean {
  return processStartTime(pid) === startTime;
}

/**
 * Starts the watchdog for the cluster in `dir`, owned by `ownerPid` (default: this process). It polls every
 * `intervalMs` and runs `stopClusterAt(dir, {removeDir})` once the owner is gone; it exits by itself when
 * the cluster's state file disappears (a normal stop). Returns the watchdog's PID.
 */
export function spawnWatchdog(
  dir: string,
  opts: { ownerPid?: number; removeDir?: boolean; intervalMs?: number } = {},
): number {
  const owner = opts.ownerPid ?? process.pid;
  const start = processStartTime(owner);
  if (!start) throw new Error(`owner process ${owner} is not running`);
  const fd = openSync(join(dir, 'logs', 'watchdog.log'), 'a');
  try {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(clusterToolkitDir, 'watchdog-main.ts'),
        dir,
        String(owner),
        start,
        opts.removeDir ? 'remove-dir' : 'keep-dir',
        String(opts.intervalMs ?? 500),
      ],
      { cwd: repoRoot, detached: true, stdio: ['ignore', fd, fd] },
    );
    child.unref();
    if (child.pid === undefined) throw new Error('watchdog spawn returned no PID');
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** A process the cluster's watchdog kills (SIGKILL) before it stops the cluster: one the owner started beside it. */
interface OwnedProcess {
  pid: number;
  start: string;
}

const ownedFile = (dir: string): string => join(dir, 'owned-processes.json');

/**
 * Records `pid` (e.g. a local operator the owner started against this cluster) so that the watchdog kills it
 * too when the owner dies: a process orphaned with its cluster gone would otherwise retry forever.
 */
export function recordOwnedProcess(dir: string, pid: number): void {
  const start = processStartTime(pid);
  if (start === undefined) return;
  writeFileSync(ownedFile(dir), JSON.stringify([...ownedProcesses(dir), { pid, start }]));
}

/** The processes recorded by {@link recordOwnedProcess}. */
export function ownedProcesses(dir: string): OwnedProcess[] {
  if (!existsSync(ownedFile(dir))) return [];
  return JSON.parse(readFileSync(ownedFile(dir), 'utf8')) as OwnedProcess[];
}

/** SIGKILLs every recorded process still running (a reused PID does not count); returns one line per process. */
export function killOwnedProcesses(dir: string): string[] {
  return ownedProcesses(dir).map(({ pid, start }) => {
    if (!ownerAlive(pid, start)) return `owned process ${pid}: already gone`;
    process.kill(pid, 'SIGKILL');
    return `owned process ${pid}: killed`;
  });
}

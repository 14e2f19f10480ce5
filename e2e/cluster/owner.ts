// Ties a cluster's lifetime to the process that started it: a detached watchdog stops the cluster (and the
// real node's host changes) when that process is gone, however it died (SIGKILL included).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
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

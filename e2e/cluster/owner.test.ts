import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  killOwnedProcesses,
  ownedProcesses,
  ownerAlive,
  processStartTime,
  recordOwnedProcess,
} from './owner.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'skyport-owner-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const exitOf = (p: ReturnType<typeof spawn>): Promise<string | number | null> =>
  new Promise((resolve) => p.on('exit', (code, signal) => resolve(signal ?? code)));

describe('owned processes (killed by the watchdog before it stops the cluster)', () => {
  it('records a process with its start time and SIGKILLs it while it runs', async () => {
    const dir = tempDir();
    const child = spawn('sleep', ['60']);
    const exited = exitOf(child);
    const pid = child.pid ?? 0;
    recordOwnedProcess(dir, pid);
    expect(ownedProcesses(dir)).toEqual([{ pid, start: processStartTime(pid) }]);
    expect(killOwnedProcesses(dir)).toEqual([`owned process ${pid}: killed`]);
    expect(await exited).toBe('SIGKILL');
    expect(ownerAlive(pid, ownedProcesses(dir)[0]?.start ?? '')).toBe(false);
  });

  it('leaves alone a process that is already gone, and records nothing for a PID that is not running', async () => {
    const dir = tempDir();
    const child = spawn('sleep', ['60']);
    const exited = exitOf(child);
    const pid = child.pid ?? 0;
    recordOwnedProcess(dir, pid);
    child.kill('SIGTERM');
    await exited;
    expect(killOwnedProcesses(dir)).toEqual([`owned process ${pid}: already gone`]);
    const none = tempDir();
    recordOwnedProcess(none, 2 ** 22 + 1); // above pid_max's default ceiling: never a running process
    expect(ownedProcesses(none)).toEqual([]);
  });
});

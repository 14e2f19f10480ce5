// A full garbage collection on demand, for the runner's memory bound. V8 grows its old generation lazily:
// streaming 10^6 rows promotes short-lived batches (they live across the file writes' awaits) and the
// heap grows to several times what is live before it collects — tens of MB of RSS for nothing. Collecting
// every few batches keeps the heap near its live size (about 10 MB) for a few ms each time.

import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | undefined;

/** Runs a full collection (exposing V8's gc() on first use: Node's documented flag, set at run time). */
export function collectGarbage(): void {
  if (gc === undefined) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}

/**
 * This process's peak RSS in bytes: VmHWM of /proc/self/status (Linux), the high-water mark of this program's
 * own memory. getrusage's maxRSS is the fallback elsewhere: on Linux it is the larger of that and the peak of
 * the process that forked this one (exec keeps the old image's high-water mark), so a runner spawned by a
 * test or benchmark process of 150 MB reported 150 MB whatever it used itself.
 */
export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m !== null) return Number(m[1]) * 1024;
  } catch {
    // Not Linux.
  }
  return process.resourceUsage().maxRSS * 1024;
}

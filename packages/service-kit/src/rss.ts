// A process's own peak memory, for the runners' memory bounds and the summaries they report.
import { readFileSync } from 'node:fs';

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

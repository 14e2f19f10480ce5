// A full garbage collection on demand, for the runner's memory bound. V8 grows its old generation lazily:
// streaming 10^6 rows promotes short-lived batches (they live across the file writes' awaits) and the
// heap grows to several times what is live before it collects — tens of MB of RSS for nothing. Collecting
// every few batches keeps the heap near its live size (about 10 MB) for a few ms each time.

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

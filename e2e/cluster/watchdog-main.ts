// watchdog-main.ts <dir> <owner-pid> <owner-start-time> <remove-dir|keep-dir> <interval-ms>: see owner.ts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { stopClusterAt } from './cluster.js';
import { killOwnedProcesses, ownerAlive } from './owner.js';

const [dir, pid, start, mode, interval] = process.argv.slice(2);
if (!dir || !pid || !start || !mode) {
  console.error(
    'usage: watchdog-main.ts <dir> <owner-pid> <owner-start-time> <remove-dir|keep-dir> [interval-ms]',
  );
  process.exit(2);
}
// The watchdog itself must survive the terminal's signals: it is what cleans up after them.
for (const s of ['SIGINT', 'SIGHUP'] as const) process.on(s, () => undefined);
const timer = setInterval(
  () => {
    if (!existsSync(join(dir, 'state.json'))) {
      clearInterval(timer);
      return;
    }
    if (ownerAlive(Number(pid), start)) return;
    clearInterval(timer);
    console.log(`${new Date().toISOString()} owner ${pid} is gone: stopping the cluster in ${dir}`);
    for (const line of killOwnedProcesses(dir)) console.log(`  ${line}`);
    stopClusterAt(dir, { removeDir: mode === 'remove-dir' }).then(
      (report) => {
        for (const line of report) console.log(`  ${line}`);
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`stop failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  },
  Number(interval ?? 500),
);

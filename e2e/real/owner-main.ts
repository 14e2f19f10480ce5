// Test helper: starts a cluster with the real node in `dir`, hands it to a watchdog owned by this process,
// prints READY and waits. The teardown test then kills this process to check the watchdog cleans up.
import { startCluster } from '../cluster/cluster.js';
import { spawnWatchdog } from '../cluster/owner.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: owner-main.ts <cluster-dir>');
  process.exit(2);
}
const c = await startCluster({ dir, realNode: true, timeoutMs: 120_000 });
spawnWatchdog(c.dir, { removeDir: false, intervalMs: 200 });
console.log('READY');
setInterval(() => undefined, 60_000);

// The operator's entry point: runs every registered controller (controllers/registry.ts).
import { setFlagsFromString } from 'node:v8';

/**
 * Loading the operator's modules takes seconds (7 s measured on a busy 2-core machine, mostly client-node). As PID
 * 1 of a container the process ignores any signal it has no handler for, so a SIGTERM in that window (a Pod
 * deleted or rolled while starting) would wait out the whole grace period. Until the manager installs its graceful
 * handlers there is nothing to drain and no Lease held: a signal exits at once. Installed before the heavy
 * imports below, which are dynamic for that reason. It cannot cover Node's own start-up before this line; our images
 * close that gap by running node under tini (images/README.md), so this matters where node is PID 1 itself
 * (operator/Dockerfile, `docker run` without `--init`).
 */
function exitWhileStarting(signal: NodeJS.Signals): void {
  process.stderr.write(`skyport-operator: received ${signal} while starting; exiting\n`);
  process.exit(0);
}
process.on('SIGTERM', exitWhileStarting);
process.on('SIGINT', exitWhileStarting);

/**
 * V8 lets the old generation grow to up to 4x its live data before a full collection; under a start storm (1,000
 * labs) that put 110-125 MB of garbage on a ~50 MB working set in one run of three, and peak RSS at 207 MB. A
 * growing factor of 1.5 collects earlier for the same CPU (bench:operator: peak 144 MB, operator CPU 15.8 s against
 * 17.2 s). NODE_OPTIONS does not accept this flag, so it is set here, before the operator allocates its caches.
 */
setFlagsFromString('--heap-growing-percent=50');

const [{ errorMessage }, { controllers }, { runOperator }] = await Promise.all([
  import('./errors.js'),
  import('./controllers/registry.js'),
  import('./operator.js'),
]);

runOperator(controllers, {
  // The manager's handlers (drain, release the Lease, exit) replace the start-up ones, with no gap between.
  beforeSignalHandlers: () => {
    process.off('SIGTERM', exitWhileStarting);
    process.off('SIGINT', exitWhileStarting);
  },
}).catch((err: unknown) => {
  process.stderr.write(`skyport-operator: ${errorMessage(err)}\n`);
  process.exit(1);
});

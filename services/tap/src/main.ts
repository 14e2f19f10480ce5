// The TAP service's entry point: configuration from the environment (config.ts), then startTap.
// SIGTERM/SIGINT close the server, abort running jobs (their backends cancelled) and exit.

import { loadConfig } from './config.js';
import { startTap } from './server.js';

const cfg = loadConfig(process.env);
const tap = await startTap(cfg);
console.log(JSON.stringify({ msg: 'tap listening', port: tap.port, basePath: cfg.basePath }));
const stop = (): void => {
  tap.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

// Process entry of the apiserver forwarder: forward-main.ts <listen-host> <port> <target-host> <ready-file>
import { writeFileSync } from 'node:fs';
import { startForwarder } from './forward.js';

const [host, port, targetHost, readyFile] = process.argv.slice(2);
if (!host || !port || !targetHost || !readyFile) {
  console.error('usage: forward-main.ts <listen-host> <port> <target-host> <ready-file>');
  process.exit(2);
}
const p = Number(port);
startForwarder({ host, port: p }, { host: targetHost, port: p }).then(
  () => {
    writeFileSync(readyFile, `${process.pid}\n`);
    console.log(`forwarding ${host}:${p} -> ${targetHost}:${p}`);
  },
  (err: unknown) => {
    console.error(`forwarder: ${(err as Error).message}`);
    process.exit(1);
  },
);
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, () => process.exit(0));

// Process entry of the PV provisioner: `provisioner-main.ts <kubeconfig> <storageClass> <readyFile> [volumeRoot]`.
import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { startProvisioner } from './provisioner.js';

const [kubeconfigPath, storageClass, readyFile, volumeRoot] = process.argv.slice(2);
if (!kubeconfigPath || !storageClass || !readyFile) {
  console.error('usage: provisioner-main.ts <kubeconfig> <storageClass> <readyFile> [volumeRoot]');
  process.exit(2);
}
const log = pino({ name: 'provisioner' });
startProvisioner({ kubeconfigPath, storageClass, logger: log, ...(volumeRoot ? { volumeRoot } : {}) }).then(
  (p) => {
    // The ready file tells the cluster starter that both informers have listed.
    writeFileSync(readyFile, String(process.pid));
    log.info({ storageClass }, 'Started provisioner');
    const shutdown = (): void => {
      p.stop();
      log.info('Stopped provisioner');
      process.exit(0);
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  },
  (err: unknown) => {
    log.fatal({ err }, 'Failed to start provisioner');
    process.exit(1);
  },
);

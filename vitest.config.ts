// Test tiers (CONTRIBUTING.md §12): unit tests sit beside the code; integration tests talk to real Redis and
// PostgreSQL; e2e tests talk to the real local control plane started once per run by a global setup.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'operator/src/**/*.test.ts',
            'services/*/src/**/*.test.ts',
            'packages/*/src/**/*.test.ts',
            'e2e/cluster/**/*.test.ts',
            'e2e/images/**/*.test.ts',
            'e2e/bench/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', '**/dist/**', '**/*.e2e.test.ts', '**/*.int.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'services/*/test/**/*.int.test.ts',
            'packages/*/test/**/*.int.test.ts',
            'operator/test/**/*.int.test.ts',
            'e2e/images/**/*.int.test.ts',
            'e2e/cutoutjob/**/*.int.test.ts',
          ],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.test.ts'],
          globalSetup: ['e2e/cluster/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // The "real" tier: e2e/real/*.real.test.ts on a cluster with the real node (kubelet, containerd, runc).
        // Run it with SKYPORT_REAL_NODE=1 (`npm run test:real`); only one real node can run on a machine.
        test: {
          name: 'real',
          include: ['e2e/real/**/*.real.test.ts'],
          globalSetup: ['e2e/cluster/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

// The set-up and tear-down every operator e2e file repeated: chart installed once, a fresh test namespace, the
// operator processes the file starts, and at the end those processes, the namespace and the file's profiles gone.
// Apart from support.ts because it registers vitest hooks, and support.ts is also loaded outside vitest (bench).
import { afterAll, beforeAll, onTestFailed } from 'vitest';
import { createNamespace, deleteNamespace, dumpDiagnostics, kubectl } from '../cluster/index.js';
import {
  installChartOnce,
  startOperator,
  type OperatorProcess,
  type StartOperatorOptions,
} from './support.js';

/** Options of {@link operatorSuite}. */
export interface OperatorSuiteOptions {
  /** Prefix of the test namespace's name. */
  namespace: string;
  /** The (cluster-scoped) NotebookProfiles the file creates, deleted at the end whether they exist or not. */
  profiles: readonly string[];
  /** Runs once the namespace exists, before the file's tests (and before {@link OperatorSuite.start} is usable). */
  setUp?: (ns: string) => Promise<void>;
  /** Runs after the operators stopped, before the namespace is deleted. */
  tearDown?: () => Promise<void>;
  /** How the operators still running at the end are stopped (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}

/** Accessors of what {@link operatorSuite}'s hooks set up (valid once beforeAll ran). */
export interface OperatorSuite {
  /** A kubeconfig authenticated as the chart's ServiceAccount. */
  kubeconfig(): string;
  /** The test namespace. */
  ns(): string;
  /** Starts an operator process as the chart's ServiceAccount; it is stopped at the end. */
  start(opts: Omit<StartOperatorOptions, 'kubeconfig'>): Promise<OperatorProcess>;
  /** Every operator process started so far, in order. */
  readonly started: readonly OperatorProcess[];
  /** On the current test's failure, prints events, pods, the operators' logs and the namespace's labs. */
  dumpOnFailure(): void;
}

/** Registers the file's beforeAll/afterAll (call it at top level) and returns accessors to what they made. */
export function operatorSuite(opts: OperatorSuiteOptions): OperatorSuite {
  let kubeconfig = '';
  let ns = '';
  const started: OperatorProcess[] = [];

  beforeAll(async () => {
    kubeconfig = await installChartOnce();
    ns = await createNamespace(opts.namespace);
    await opts.setUp?.(ns);
  });

  afterAll(async () => {
    for (const op of started) await op.stop(opts.stopSignal);
    await opts.tearDown?.();
    // SKYPORT_E2E_KEEP=1 keeps the namespace for inspection after a failure.
    if (ns !== '' && process.env['SKYPORT_E2E_KEEP'] !== '1') await deleteNamespace(ns);
    for (const p of opts.profiles)
      await kubectl(['delete', 'notebookprofile', p, '--ignore-not-found', '--wait=false']).catch(
        () => undefined,
      );
  });

  return {
    kubeconfig: () => kubeconfig,
    ns: () => ns,
    async start(o) {
      const op = await startOperator({ ...o, kubeconfig });
      started.push(op);
      return op;
    },
    started,
    dumpOnFailure() {
      onTestFailed(async () => {
        console.error(
          await dumpDiagnostics(
            ns,
            started.map((o) => o.logFile),
          ),
        );
        console.error(
          await kubectl(['get', 'notebooklabs', '-n', ns, '-o', 'yaml']).catch((e: unknown) => String(e)),
        );
      });
    },
  };
}

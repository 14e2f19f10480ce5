// pino JSON logger for the operator; controllers get children bound to {controller, namespace, name}.
import { pino, type LevelWithSilent, type Logger } from 'pino';

/** The root logger: JSON lines on stdout, ISO timestamps, level names instead of numbers. */
export function createLogger(level: LevelWithSilent = 'info', name = 'skyport-operator'): Logger {
  return pino({
    name,
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** A child logger for one reconcile, Kubernetes style. */
export function reconcileLogger(
  base: Logger,
  controller: string,
  namespace: string | undefined,
  name: string,
): Logger {
  return base.child(namespace === undefined ? { controller, name } : { controller, namespace, name });
}

export type { Logger };

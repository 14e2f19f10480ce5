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

export type { Logger };

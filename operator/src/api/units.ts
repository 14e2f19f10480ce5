// Parsers for the two unit syntaxes in our schemas, mirroring what CEL's quantity() and duration() accept.

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};
const QUANTITY =
  /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))?$/;

/**
 * Parses a Kubernetes resource quantity (`"500m"`, `"2Gi"`, `"1e3"`, or a bare number) into a plain number
 * of base units (cores, bytes). Precision is that of a double, which is ample for comparing requests.
 *
 * @throws Error naming the value when it is not a quantity.
 */
export function parseQuantity(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = QUANTITY.exec(value);
  if (m === null) throw new Error(`"${value}" is not a Kubernetes quantity (e.g. "500m", "2Gi")`);
  const num = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY) return num * (BINARY[suffix] ?? 1);
  if (suffix in DECIMAL) return num * (DECIMAL[suffix] ?? 1);
  return num * 10 ** Number(suffix.slice(1));
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)/g;

/**
 * Parses a Go duration (`"30m"`, `"1h30m"`, `"24h"`) into milliseconds.
 *
 * @throws Error naming the value when it is not a duration.
 */
export function parseDuration(value: string): number {
  if (!/^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/.test(value)) {
    throw new Error(`"${value}" is not a duration (e.g. "30m", "24h", "1h30m")`);
  }
  let total = 0;
  for (const m of value.matchAll(DURATION_PART)) total += Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1);
  return total;
}

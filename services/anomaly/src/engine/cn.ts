// c(n), the mean path length of an unsuccessful BST search: exact harmonic numbers by default, and the
// reference implementation's ln-approximation (sahandha/eif `c_factor`, bug B1) for parity runs.

const EULER_GAMMA = 0.5772156649015329;
/** Below this n the harmonic number comes from an exact running sum; above, from the asymptotic series. */
const TABLE_SIZE = 4096;

// H[i] = 1 + 1/2 + … + 1/i with Neumaier-compensated summation: a plain running sum drifts by ~1e-14 over
// 4096 terms, which would show up as a step where the table hands over to the asymptotic series.
const HARMONIC = ((): Float64Array => {
  const h = new Float64Array(TABLE_SIZE + 1);
  let sum = 0;
  let comp = 0;
  for (let i = 1; i <= TABLE_SIZE; i++) {
    const term = 1 / i;
    const t = sum + term;
    comp += Math.abs(sum) >= term ? sum - t + term : term - t + sum;
    sum = t;
    h[i] = sum + comp;
  }
  return h;
})();

/** The n-th harmonic number H(n) (H(0) = 0); exact table up to 4096, then ln n + γ + 1/2n − 1/12n² + 1/120n⁴. */
export function harmonic(n: number): number {
  if (n <= 0) return 0;
  if (n <= TABLE_SIZE) return HARMONIC[n] ?? 0;
  const inv = 1 / n;
  const inv2 = inv * inv;
  // At n > 4096 the next term (1/252n⁶) is below 1e-24, far beneath float64 resolution of H ≈ 9.
  return Math.log(n) + EULER_GAMMA + 0.5 * inv - inv2 / 12 + (inv2 * inv2) / 120;
}

/** Exact c(n) = 2·H(n−1) − 2(n−1)/n = 2·(H(n) − 1) for n ≥ 2; c(0) = c(1) = 0. c(2) = 1, c(256) ≈ 10.248690. */
export function cExact(n: number): number {
  if (n <= 1) return 0;
  return 2 * (harmonic(n) - 1);
}

/** The reference's c(n) = 2·(ln(n−1) + 0.5772156649) − 2(n−1)/n (so c(2) ≈ 0.1544); 0 for n ≤ 1. */
export function cReference(n: number): number {
  if (n <= 1) return 0;
  // The reference truncates γ to 10 digits; keep that literal for bit-level parity of its scores.
  return 2 * (Math.log(n - 1) + 0.5772156649) - (2 * (n - 1)) / n;
}

/** c(n) for the chosen compatibility mode. */
export function cFactor(n: number, compat: 'exact' | 'reference'): number {
  return compat === 'reference' ? cReference(n) : cExact(n);
}

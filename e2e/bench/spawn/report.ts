// Pure parts of `npm run bench:spawn`: percentiles of spawn times, the side-by-side table and the target verdicts.

/** Spawn times (ms) of one way of starting a lab, in the order they were measured. */
export interface Series {
  name: string;
  ms: number[];
  /** Labs that never answered (counted, not timed). */
  failed: number;
}

/** Nearest-rank percentile (q in 0..1) of `xs`; NaN when empty. */
export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * s.length));
  return s[rank - 1] ?? NaN;
}

const sec = (ms: number): string => (Number.isNaN(ms) ? '—' : `${(ms / 1000).toFixed(2)} s`);

/** One line per series: n, p50, p95, min, max, failures. */
export function table(series: readonly Series[]): string {
  const w = Math.max(...series.map((s) => s.name.length), 10);
  const head = `${'how'.padEnd(w)}  ${'n'.padStart(3)}  ${'p50'.padStart(8)}  ${'p95'.padStart(8)}  ${'min'.padStart(8)}  ${'max'.padStart(8)}  failed`;
  const rows = series.map(
    (s) =>
      `${s.name.padEnd(w)}  ${String(s.ms.length).padStart(3)}  ${sec(percentile(s.ms, 0.5)).padStart(8)}  ${sec(
        percentile(s.ms, 0.95),
      ).padStart(
        8,
      )}  ${sec(Math.min(...s.ms)).padStart(8)}  ${sec(Math.max(...s.ms)).padStart(8)}  ${s.failed}`,
  );
  return [head, ...rows].join('\n');
}

/** A target: `ratio = p50(subject) / p50(baseline)` must be at most `max`. */
export interface Verdict {
  text: string;
  ratio: number;
  max: number;
  met: boolean;
}

/** `p50(subject) / p50(baseline) ≤ max`; never met when a subject's lab failed. */
export function verdict(subject: Series, baseline: Series, max: number): Verdict {
  const ratio = percentile(subject.ms, 0.5) / percentile(baseline.ms, 0.5);
  return {
    text: `${subject.name} p50 / ${baseline.name} p50 = ${ratio.toFixed(2)} (target ≤ ${max})`,
    ratio,
    max,
    met: subject.failed === 0 && Number.isFinite(ratio) && ratio <= max,
  };
}

/** The targets: warm p50 ≤ 1.5× the bare process and ≤ 0.7× JupyterHub + KubeSpawner (warm). */
export function verdicts(skyportWarm: Series, bare: Series, hubWarm: Series | undefined): Verdict[] {
  return [verdict(skyportWarm, bare, 1.5), ...(hubWarm ? [verdict(skyportWarm, hubWarm, 0.7)] : [])];
}

// The tree builder's per-node scans for narrow forests (d ≤ NARROW_MAX_D, left-to-right sums) as generated
// straight-line JS. The sample is moved, not indexed: a node's rows sit contiguously at [from, to) of one of
// two column-major buffers, and the partition copies them into the other (left rows from `from` up, right
// rows from `to − 1` down), so the children's box scans and partitions read consecutive values with no row
// index in between (ADR 0002, "the narrow fit").

/** Widest sample moved row by row; wider ones keep the row index (moving d columns costs more than one index). */
export const NARROW_MAX_D = 5;

/** Box scan: lo[j], hi[j] = min, max of kept axis j over rows [from, to) of z (either zero for a ±0 tie). */
type BoxFn = (
  z: Float64Array,
  from: number,
  to: number,
  kept: Int32Array,
  lo: Float64Array,
  hi: Float64Array,
) => void;

/** Partition: rows [from, to) of src into dst, x·coef < pn first; returns the split position. */
type PartitionFn = (
  src: Float64Array,
  dst: Float64Array,
  from: number,
  to: number,
  pn: number,
  kept: Int32Array,
  coef: Float64Array,
) => number;

/** A narrow builder's two sample buffers and the scans over them. */
export interface NarrowScans {
  /**
   * Column-major ψ × d buffers: row r, column c at [c·ψ + r]. The gather fills buffers[0]; the rows of a
   * node at depth t are at [from, to) of buffers[t mod 2].
   */
  readonly buffers: readonly [Float64Array, Float64Array];
  readonly box: BoxFn;
  readonly partition: PartitionFn;
}

function checkShape(d: number, k: number, psi: number): void {
  if (
    !Number.isInteger(d) ||
    !Number.isInteger(k) ||
    !Number.isInteger(psi) ||
    d < 1 ||
    d > NARROW_MAX_D ||
    k < 1 ||
    k > d ||
    psi < 1 ||
    psi > 2 ** 24
  ) {
    throw new RangeError(`narrowScans: invalid shape d=${d}, k=${k}, psi=${psi}`);
  }
}

/**
 * The kept axes' column offsets as locals: constants when every axis is kept (kept[j] = j), else read from
 * `kept` once per call.
 */
function offsets(d: number, k: number, psi: number): string {
  const lines: string[] = [];
  for (let j = 0; j < k; j++)
    lines.push(k === d ? `const o${j} = ${j * psi};` : `const o${j} = kept[${j}] * ${psi};`);
  return lines.join('\n');
}

function boxSource(d: number, k: number, psi: number): string {
  const js = Array.from({ length: k }, (_, j) => j);
  // Math.min and Math.max (minsd, maxsd and a fix-up, no branch): −12% of a d = 3 build against the selects
  // `v < lo ? v : lo` of the indexed scans. They differ only in which zero a ±0 tie keeps, and a zero's sign
  // in the box cannot reach the split: p_c = lo + u·(hi − lo) is −0 only if lo = −0 and hi − lo = −0, which
  // needs lo = +0 (ADR 0002); the data are finite, so NaN never occurs.
  return `
    ${offsets(d, k, psi)}
    ${js.map((j) => `let mn${j} = Infinity, mx${j} = -Infinity;`).join('\n')}
    for (let i = from; i < to; i++) {
      ${js.map((j) => `const v${j} = z[o${j} + i];`).join('\n')}
      ${js.map((j) => `mn${j} = Math.min(v${j}, mn${j}); mx${j} = Math.max(v${j}, mx${j});`).join('\n')}
    }
    ${js.map((j) => `lo[${j}] = mn${j}; hi[${j}] = mx${j};`).join('\n')}`;
}

function partitionSource(d: number, k: number, psi: number): string {
  const cs = Array.from({ length: d }, (_, c) => c);
  const js = Array.from({ length: k }, (_, j) => j);
  // The dot product is the builder's JS one, summed left to right over the kept axes in ascending order:
  // the comparison is the scoring kernels' (a leading 0 + or a trailing + 0·x changes only a zero's sign).
  const dot =
    k === d
      ? js.map((j) => `v${j} * c${j}`).join(' + ')
      : js.map((j) => `src[o${j} + i] * c${j}`).join(' + ');
  // Branch-free: q is l for a left row and r for a right one (g·(l − r) + r), so the loop has no
  // data-dependent jump (left or right is a coin flip no predictor learns).
  return `
    ${k === d ? '' : offsets(d, k, psi)}
    ${js.map((j) => `const c${j} = coef[${j}];`).join('\n')}
    let l = from, r = to - 1;
    for (let i = from; i < to; i++) {
      ${cs.map((c) => `const v${c} = src[${c * psi} + i];`).join('\n')}
      const g = ${dot} < pn ? 1 : 0;
      const q = r + g * (l - r);
      ${cs.map((c) => `dst[${c * psi} + q] = v${c};`).join('\n')}
      l += g;
      r += g - 1;
    }
    return l;`;
}

const cache = new Map<string, { box: BoxFn; partition: PartitionFn }>();

/** The scans and buffers for a ψ × d sample whose splits keep k axes (d ≤ NARROW_MAX_D). */
export function narrowScans(d: number, k: number, psi: number): NarrowScans {
  checkShape(d, k, psi);
  const key = `${d}:${k}:${psi}`;
  let fns = cache.get(key);
  if (!fns) {
    // The sources are built only from the validated integers d, k and ψ, never from user strings: straight-line
    // code with constant offsets is what V8 turns into a tight loop (the scoring kernels do the same).
    fns = {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      box: new Function('z', 'from', 'to', 'kept', 'lo', 'hi', boxSource(d, k, psi)) as BoxFn,
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      partition: new Function(
        'src',
        'dst',
        'from',
        'to',
        'pn',
        'kept',
        'coef',
        partitionSource(d, k, psi),
      ) as PartitionFn,
    };
    // Shapes are few (d ≤ 5, k ≤ d, ψ per fit): a bound only guards a process that fits many ψ.
    if (cache.size >= 64) cache.clear();
    cache.set(key, fns);
  }
  return {
    buffers: [new Float64Array(psi * d), new Float64Array(psi * d)],
    box: fns.box,
    partition: fns.partition,
  };
}

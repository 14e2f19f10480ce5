// The dense scoring kernel (every coefficient non-zero, k = d > 5) in WebAssembly SIMD, and the blocked
// dot product it computes. V8 compiles a JS dot product to scalar loads with bounds checks; the wasm loop
// does two terms per f64x2 multiply-add with four independent accumulators: 2.0×, 4.5× and 10.7× the JS
// kernels' rate at d = 10, 36 and 100 (ADR 0002). The tree builder partitions with the same sum in the same
// order (the module's `partition`, or blockedDot without wasm), so a training point takes the same side of
// every split when it is scored.

// Typed-array reads marked `!` index rows and nodes inside arrays sized for them.

import { DENSE_WASM_BASE64 } from './dense-wasm.js';
import type { Forest } from './model.js';

/** Partial sums in the blocked dot product; the wasm loop keeps them in four f64x2 registers. */
export const DOT_LANES = 8;

/**
 * x·c over k terms in the blocked order the SIMD kernel uses: eight partial sums s_m over j ≡ m (mod 8),
 * each left to right from 0, then ((s0 + s2) + (s4 + s6)) + ((s1 + s3) + (s5 + s7)). `x` is read at
 * xo + j·xs (xs = 1 for a row-major row, ψ for the builder's column-major sample), `c` at co + j.
 */
export function blockedDot(
  x: Float64Array,
  xo: number,
  xs: number,
  c: Float64Array,
  co: number,
  k: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let s5 = 0;
  let s6 = 0;
  let s7 = 0;
  let j = 0;
  let xi = xo;
  for (; j + DOT_LANES <= k; j += DOT_LANES, xi += DOT_LANES * xs) {
    const cj = co + j;
    s0 += x[xi]! * c[cj]!;
    s1 += x[xi + xs]! * c[cj + 1]!;
    s2 += x[xi + 2 * xs]! * c[cj + 2]!;
    s3 += x[xi + 3 * xs]! * c[cj + 3]!;
    s4 += x[xi + 4 * xs]! * c[cj + 4]!;
    s5 += x[xi + 5 * xs]! * c[cj + 5]!;
    s6 += x[xi + 6 * xs]! * c[cj + 6]!;
    s7 += x[xi + 7 * xs]! * c[cj + 7]!;
  }
  // The tail: terms j ≡ 0 … k mod 8 − 1 go to their own partial sums (the kernel's zero padding adds ±0).
  const rest = k - j;
  if (rest > 0) s0 += x[xi]! * c[co + j]!;
  if (rest > 1) s1 += x[xi + xs]! * c[co + j + 1]!;
  if (rest > 2) s2 += x[xi + 2 * xs]! * c[co + j + 2]!;
  if (rest > 3) s3 += x[xi + 3 * xs]! * c[co + j + 3]!;
  if (rest > 4) s4 += x[xi + 4 * xs]! * c[co + j + 4]!;
  if (rest > 5) s5 += x[xi + 5 * xs]! * c[co + j + 5]!;
  if (rest > 6) s6 += x[xi + 6 * xs]! * c[co + j + 6]!;
  return s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7));
}

/** True when forests of width d with k coefficients per node are scored (and built) with blockedDot. */
export function usesBlockedDot(d: number, k: number, maxInterleavedK: number): boolean {
  return k === d && k > maxInterleavedK;
}

/** Rows copied into wasm memory per call of the wasm walk. */
const WASM_ROWS = 2048;
const PAGE = 65536;

// The lib is ES2023 without DOM and @types/node 20 does not declare WebAssembly, so the little of it used
// here is typed by hand.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
/** A compiled module (opaque here). */
type WasmModule = object;
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => WasmModule;
  readonly Instance: new (mod: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** One forest laid out in its own wasm instance's memory. */
interface WasmForest {
  readonly walk: (...args: number[]) => void;
  readonly f64: Float64Array;
  readonly dp: number;
  readonly ptr: { treeStart: number; right: number; value: number; coef: number; x: number; acc: number };
}

let compiled: WasmModule | null | undefined;

/** The compiled kernel module, or null where WebAssembly SIMD is unavailable (then the JS kernels run). */
export function denseModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = wasmApi ? new wasmApi.Module(Buffer.from(DENSE_WASM_BASE64, 'base64')) : null;
    } catch {
      // A runtime without WebAssembly SIMD rejects the module; the JS kernels compute the same sums.
      compiled = null;
    }
  }
  return compiled;
}

/**
 * A fresh instance of the kernel module whose memory holds at least `bytes`, or null where WebAssembly
 * SIMD is unavailable. Its memory never grows after this, so typed-array views on it stay valid.
 */
export function denseInstance(
  bytes: number,
): { readonly exports: Record<string, unknown>; readonly buffer: ArrayBuffer } | null {
  const mod = denseModule();
  if (!mod || !wasmApi) return null;
  const instance = new wasmApi.Instance(mod, {});
  const memory = instance.exports.memory as WasmMemory;
  const pages = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE;
  if (pages > 0) memory.grow(pages);
  return { exports: instance.exports, buffer: memory.buffer };
}

const laidOut = new WeakMap<Forest, WasmForest>();

/** Copies a forest into a fresh instance's memory once; forests are immutable, so it is cached. */
function layout(api: WasmApi, mod: WasmModule, f: Forest, d: number): WasmForest {
  const cached = laidOut.get(f);
  if (cached) return cached;
  const dp = Math.ceil(d / DOT_LANES) * DOT_LANES;
  const nodes = f.right.length;
  const trees = f.treeStart.length;
  // Byte offsets, each 16-byte aligned: treeStart, right, value, coef, x, acc.
  const align = (n: number): number => Math.ceil(n / 16) * 16;
  const treeStart = 0;
  const right = align(treeStart + 4 * trees);
  const value = align(right + 4 * nodes);
  const coef = align(value + 8 * nodes);
  const x = align(coef + 8 * nodes * dp);
  const acc = align(x + 8 * WASM_ROWS * dp);
  const bytes = acc + 8 * WASM_ROWS;
  const instance = new api.Instance(mod, {});
  const memory = instance.exports.memory as WasmMemory;
  const pages = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE;
  if (pages > 0) memory.grow(pages);
  const buf = memory.buffer;
  new Int32Array(buf, treeStart, trees).set(f.treeStart);
  new Int32Array(buf, right, nodes).set(f.right);
  new Float64Array(buf, value, nodes).set(f.value);
  const f64 = new Float64Array(buf);
  // Each node's k = d coefficients, zero-padded to dp (fresh memory is zero).
  for (let n = 0; n < nodes; n++) f64.set(f.coef.subarray(n * d, n * d + d), coef / 8 + n * dp);
  const w: WasmForest = {
    walk: instance.exports.walk as (...args: number[]) => void,
    f64,
    dp,
    ptr: { treeStart, right, value, coef, x, acc },
  };
  laidOut.set(f, w);
  return w;
}

/** Largest forest (bytes of wasm memory) laid out for the wasm kernel; bigger ones use the JS kernel. */
const MAX_WASM_BYTES = 2 ** 31;

/** The wasm kernel for dense forests of width d, or null when wasm is unavailable. */
export function wasmDenseKernel(
  d: number,
  fallback: (f: Forest, x: Float64Array, nb: number, acc: Float64Array, t0: number, t1: number) => void,
): typeof fallback | null {
  const mod = denseModule();
  if (!mod || !wasmApi) return null;
  const api = wasmApi;
  const dp = Math.ceil(d / DOT_LANES) * DOT_LANES;
  return (f, x, nb, acc, t0, t1) => {
    if (8 * f.right.length * (dp + 2) + 8 * WASM_ROWS * (dp + 1) > MAX_WASM_BYTES) {
      fallback(f, x, nb, acc, t0, t1);
      return;
    }
    const w = layout(api, mod, f, d);
    const { f64, ptr } = w;
    const x8 = ptr.x / 8;
    const acc8 = ptr.acc / 8;
    for (let r0 = 0; r0 < nb; r0 += WASM_ROWS) {
      const rows = Math.min(WASM_ROWS, nb - r0);
      for (let r = 0; r < rows; r++) f64.set(x.subarray((r0 + r) * d, (r0 + r + 1) * d), x8 + r * dp);
      f64.set(acc.subarray(r0, r0 + rows), acc8);
      w.walk(ptr.treeStart, ptr.right, ptr.value, ptr.coef, dp, ptr.x, rows, ptr.acc, t0, t1);
      acc.set(f64.subarray(acc8, acc8 + rows), r0);
    }
  };
}

/** A forest in the axis kernel's layout (wasm/dense.wat `axis`): 24-byte node records and tree roots. */
interface WasmAxisForest {
  readonly axis: (...args: number[]) => void;
  readonly f64: Float64Array;
  readonly roots: number;
  readonly x: number;
  readonly acc: number;
}

const laidOutAxis = new WeakMap<Forest, WasmAxisForest>();

/** Bytes of one node record in the axis layout: value f64, coef f64, column byte offset i32, right i32. */
const AXIS_NODE = 24;

/** Copies an e = 0 forest into a fresh instance's memory once (cached per forest, which is immutable). */
function layoutAxis(f: Forest, d: number): WasmAxisForest | null {
  const cached = laidOutAxis.get(f);
  if (cached) return cached;
  const nodes = f.right.length;
  const trees = f.treeStart.length - 1;
  const align = (n: number): number => Math.ceil(n / 16) * 16;
  const roots = 0;
  const base = align(4 * trees);
  const x = align(base + AXIS_NODE * nodes);
  const acc = align(x + 8 * WASM_ROWS * d);
  const inst = denseInstance(acc + 8 * WASM_ROWS);
  if (!inst) return null;
  const buf = inst.buffer;
  const rootView = new Int32Array(buf, roots, trees);
  for (let t = 0; t < trees; t++) rootView[t] = base + AXIS_NODE * f.treeStart[t]!;
  const rec64 = new Float64Array(buf, base, (AXIS_NODE / 8) * nodes);
  const rec32 = new Int32Array(buf, base, (AXIS_NODE / 4) * nodes);
  const { right, value, coef, index } = f;
  for (let n = 0; n < nodes; n++) {
    const rc = right[n]!;
    rec64[3 * n] = value[n]!;
    rec64[3 * n + 1] = coef[n]!;
    rec32[6 * n + 4] = 8 * (index ? index[n]! : 0);
    rec32[6 * n + 5] = rc < 0 ? -1 : base + AXIS_NODE * rc;
  }
  const w: WasmAxisForest = {
    axis: inst.exports.axis as (...args: number[]) => void,
    f64: new Float64Array(buf),
    roots,
    x,
    acc,
  };
  laidOutAxis.set(f, w);
  return w;
}

/**
 * The wasm kernel for axis-parallel forests (k = 1) of width d, or null when wasm is unavailable. The same
 * decisions (x·coef < value) and the same per-row sums in tree order as the JS kernels, so the same bits.
 */
export function wasmAxisKernel(
  d: number,
  fallback: (f: Forest, x: Float64Array, nb: number, acc: Float64Array, t0: number, t1: number) => void,
): typeof fallback | null {
  if (!denseModule()) return null;
  return (f, x, nb, acc, t0, t1) => {
    const w =
      AXIS_NODE * f.right.length + 8 * WASM_ROWS * (d + 1) <= MAX_WASM_BYTES ? layoutAxis(f, d) : null;
    if (!w) {
      fallback(f, x, nb, acc, t0, t1);
      return;
    }
    const { f64 } = w;
    const x8 = w.x / 8;
    const acc8 = w.acc / 8;
    for (let r0 = 0; r0 < nb; r0 += WASM_ROWS) {
      const rows = Math.min(WASM_ROWS, nb - r0);
      f64.set(x.subarray(r0 * d, (r0 + rows) * d), x8);
      f64.set(acc.subarray(r0, r0 + rows), acc8);
      w.axis(w.roots, w.x, 8 * d, rows, w.acc, t0, t1);
      acc.set(f64.subarray(acc8, acc8 + rows), r0);
    }
  };
}

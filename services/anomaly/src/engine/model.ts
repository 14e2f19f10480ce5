// The in-memory model (one flat forest of typed arrays), its compact versioned binary encoding, tree-block
// encoding for partitioned builds, assembly of blocks into a model, and the content-hash model id.

import { createHash } from 'node:crypto';
import { ByteReader, ByteWriter } from './codec.js';
import { cFactor } from './cn.js';
import type { FeatureStats, ResolvedParams, TreeBlock } from './contract.js';
import { EngineError } from './errors.js';
import { heightLimitFor, MAX_DIMS, MAX_SAMPLE_SIZE, MAX_TREES } from './params.js';
import type { TreeArrays } from './tree.js';

/** Current model and tree-block format version; decoders reject anything else. */
export const FORMAT_VERSION = 1;
const MODEL_MAGIC = 'EIFM';
const BLOCK_MAGIC = 'EIFB';
const FLAG_STANDARDIZE = 1;
const FLAG_COMPAT_REFERENCE = 2;
const TAG_LEAF = 0;
const TAG_INTERNAL = 1;
/** Axis-layout (k = 1) nodes whose coefficient is +1 / −1: only the feature and threshold are stored. */
const TAG_AXIS_POS = 2;
const TAG_AXIS_NEG = 3;

/**
 * All trees of a model in one set of flat arrays. Tree t owns nodes [treeStart[t], treeStart[t+1]), in
 * preorder: internal node i's left child is i + 1 and `right[i]` its right child (a global index), or −1 for
 * a leaf. `value[i]` is p·n for internal nodes and depth + c(size) for leaves. Each node has `k` = e + 1
 * slope coefficients at `coef[i·k …]`; when k < d their feature indices are at `index[i·k …]` (ascending),
 * when k = d the layout is dense and `index` is null. k = 1 (extension 0) is the axis-parallel layout:
 * one feature index, coef ±1 and `value` the threshold t (left iff ±x < t), encoded without the coef.
 */
export interface Forest {
  readonly k: number;
  readonly treeStart: Int32Array;
  readonly right: Int32Array;
  readonly value: Float64Array;
  readonly index: Uint16Array | null;
  readonly coef: Float64Array;
}

/** A fitted Extended Isolation Forest; immutable once built. */
export interface Model {
  readonly params: ResolvedParams;
  readonly stats: FeatureStats;
  /** c(ψ) for the effective ψ and the model's compat mode: the score's normaliser. */
  readonly cPsi: number;
  readonly forest: Forest;
}

function blockError(message: string, field: string): EngineError {
  return new EngineError('InvalidBlocks', message, { field });
}

function corrupt(what: string, message: string, field: string): EngineError {
  return new EngineError('CorruptModel', `${what}: ${message}`, { field });
}

/** Writes one tree; `base` is subtracted from `right` so stored child indices are tree-relative. */
function writeTree(
  w: ByteWriter,
  right: Int32Array,
  value: Float64Array,
  index: Uint16Array | null,
  coef: Float64Array,
  from: number,
  to: number,
  k: number,
): void {
  w.u32(to - from);
  for (let i = from; i < to; i++) {
    const r = right[i] ?? -1;
    if (r < 0) {
      w.u8(TAG_LEAF);
      w.f64(value[i] ?? 0);
      continue;
    }
    const c0 = coef[i * k] ?? 0;
    const axis = k === 1 && (c0 === 1 || c0 === -1);
    w.u8(axis ? (c0 === 1 ? TAG_AXIS_POS : TAG_AXIS_NEG) : TAG_INTERNAL);
    w.u32(r - from);
    w.f64(value[i] ?? 0);
    if (index) for (let j = 0; j < k; j++) w.u16(index[i * k + j] ?? 0);
    if (!axis) for (let j = 0; j < k; j++) w.f64(coef[i * k + j] ?? 0);
  }
}

/**
 * Reads one tree and checks it is well formed: every internal node's children lie strictly after it and
 * inside the tree (so a walk always terminates), indices are ascending features < d, numbers are finite.
 */
function readTree(r: ByteReader, d: number, k: number, what: string, field: string): TreeArrays {
  const n = r.u32(`${field}.nodeCount`);
  if (n < 1) throw corrupt(what, 'a tree has no nodes', field);
  // Each node takes at least 9 bytes, so a huge count in a short buffer is rejected before allocating.
  r.need(n * 9, `${field}.nodes`);
  const sparse = k < d;
  const right = new Int32Array(n);
  const value = new Float64Array(n);
  const index = sparse ? new Uint16Array(n * k) : null;
  const coef = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const tag = r.u8(`${field}.node[${i}].kind`);
    if (tag === TAG_LEAF) {
      right[i] = -1;
      value[i] = r.f64(`${field}.node[${i}].value`);
      if (!Number.isFinite(value[i])) throw corrupt(what, `leaf ${i} has a non-finite value`, field);
      continue;
    }
    const axis = tag === TAG_AXIS_POS || tag === TAG_AXIS_NEG;
    if (tag !== TAG_INTERNAL && !(axis && k === 1))
      throw corrupt(what, `node ${i} has unknown kind ${tag}`, field);
    const rc = r.u32(`${field}.node[${i}].right`);
    if (rc <= i + 1 || rc >= n)
      throw corrupt(what, `node ${i} has right child ${rc} outside (${i + 1}, ${n})`, field);
    right[i] = rc;
    value[i] = r.f64(`${field}.node[${i}].offset`);
    if (index) {
      let prev = -1;
      for (let j = 0; j < k; j++) {
        const c = r.u16(`${field}.node[${i}].index`);
        if (c >= d || c <= prev) throw corrupt(what, `node ${i} has feature index ${c} (d = ${d})`, field);
        index[i * k + j] = c;
        prev = c;
      }
    }
    if (axis) coef[i] = tag === TAG_AXIS_POS ? 1 : -1;
    else for (let j = 0; j < k; j++) coef[i * k + j] = r.f64(`${field}.node[${i}].normal`);
    let finite = Number.isFinite(value[i]);
    for (let j = 0; j < k; j++) finite &&= Number.isFinite(coef[i * k + j]);
    if (!finite) throw corrupt(what, `node ${i} has a non-finite split`, field);
  }
  return { nodeCount: n, right, value, index, coef };
}

/** Encodes built trees [start, end) as a self-describing block (what a partition worker returns). */
export function encodeTreeBlock(
  trees: readonly TreeArrays[],
  start: number,
  d: number,
  k: number,
): TreeBlock {
  const w = new ByteWriter(trees.length * (16 + 128 * (9 + 8 * k)));
  for (const ch of BLOCK_MAGIC) w.u8(ch.charCodeAt(0));
  w.u16(FORMAT_VERSION);
  w.u16(0);
  w.u32(d);
  w.u32(k);
  w.u32(start);
  w.u32(start + trees.length);
  for (const t of trees) writeTree(w, t.right, t.value, t.index, t.coef, 0, t.nodeCount, k);
  return { start, end: start + trees.length, bytes: w.finish() };
}

/** Decodes and validates a tree block; `field` names it in errors (e.g. `blocks[3]`). */
export function decodeTreeBlock(
  bytes: Uint8Array,
  field = 'block',
): { start: number; end: number; d: number; k: number; trees: TreeArrays[] } {
  const what = `tree block ${field}`;
  const r = new ByteReader(bytes, what);
  const magic = r.tag(`${field}.magic`);
  if (magic !== BLOCK_MAGIC) {
    throw new EngineError(
      'BadModelMagic',
      `${what}: bad magic ${JSON.stringify(magic)}, expected "${BLOCK_MAGIC}"`,
      {
        field,
      },
    );
  }
  const version = r.u16(`${field}.version`);
  if (version !== FORMAT_VERSION) {
    throw new EngineError(
      'UnsupportedModelVersion',
      `${what}: format version ${version}, this engine reads ${FORMAT_VERSION}`,
      {
        field,
      },
    );
  }
  r.u16(`${field}.flags`);
  const d = r.u32(`${field}.dims`);
  const k = r.u32(`${field}.k`);
  const start = r.u32(`${field}.start`);
  const end = r.u32(`${field}.end`);
  if (d < 1 || d > MAX_DIMS || k < 1 || k > d || end < start || end - start > MAX_TREES) {
    throw corrupt(what, `invalid header (d ${d}, k ${k}, trees ${start}..${end})`, field);
  }
  const trees: TreeArrays[] = [];
  for (let t = start; t < end; t++) trees.push(readTree(r, d, k, what, `${field}.tree[${t}]`));
  if (r.remaining !== 0) throw corrupt(what, `${r.remaining} trailing bytes`, field);
  return { start, end, d, k, trees };
}

/** Concatenates per-tree arrays into one flat forest with global child indices. */
export function forestFromTrees(trees: readonly TreeArrays[], d: number, k: number): Forest {
  let total = 0;
  for (const t of trees) total += t.nodeCount;
  const treeStart = new Int32Array(trees.length + 1);
  const right = new Int32Array(total);
  const value = new Float64Array(total);
  const index = k < d ? new Uint16Array(total * k) : null;
  const coef = new Float64Array(total * k);
  let off = 0;
  trees.forEach((t, i) => {
    treeStart[i] = off;
    for (let j = 0; j < t.nodeCount; j++) {
      const rc = t.right[j] ?? -1;
      right[off + j] = rc < 0 ? -1 : rc + off;
    }
    value.set(t.value, off);
    if (index && t.index) index.set(t.index, off * k);
    coef.set(t.coef, off * k);
    off += t.nodeCount;
  });
  treeStart[trees.length] = off;
  return { k, treeStart, right, value, index, coef };
}

/**
 * Assembles tree blocks built anywhere (any partitioning of [0, ntrees), any order) into a model. The
 * blocks must cover every tree exactly once and match the parameters' shape; the result is bit-identical
 * to `fit` with the same inputs.
 */
export function assembleModel(
  resolved: ResolvedParams,
  stats: FeatureStats,
  blocks: readonly TreeBlock[],
): Model {
  const d = resolved.dims;
  const k = resolved.extensionLevel + 1;
  if (stats.mean.length !== d || stats.std.length !== d) {
    throw new EngineError(
      'DimensionMismatch',
      `stats have ${stats.mean.length} features, parameters have ${d}`,
      {
        field: 'stats',
      },
    );
  }
  const decoded = blocks.map((b, i) => {
    const blk = decodeTreeBlock(b.bytes, `blocks[${i}]`);
    if (blk.start !== b.start || blk.end !== b.end) {
      throw blockError(
        `blocks[${i}] says trees ${b.start}..${b.end} but encodes ${blk.start}..${blk.end}`,
        `blocks[${i}]`,
      );
    }
    if (blk.d !== d || blk.k !== k) {
      throw blockError(
        `blocks[${i}] was built for d ${blk.d}, k ${blk.k}; parameters need d ${d}, k ${k}`,
        `blocks[${i}]`,
      );
    }
    return blk;
  });
  decoded.sort((a, b) => a.start - b.start);
  const trees: TreeArrays[] = [];
  let next = 0;
  for (const blk of decoded) {
    if (blk.start !== next) {
      throw blockError(
        blk.start < next
          ? `tree ${blk.start} appears in more than one block`
          : `trees ${next}..${blk.start} are missing from the blocks`,
        'blocks',
      );
    }
    trees.push(...blk.trees);
    next = blk.end;
  }
  if (next !== resolved.ntrees) {
    throw blockError(`blocks cover trees 0..${next}, the model needs ${resolved.ntrees}`, 'blocks');
  }
  return {
    params: resolved,
    stats: { mean: Float64Array.from(stats.mean), std: Float64Array.from(stats.std) },
    cPsi: cFactor(resolved.sampleSize, resolved.compat),
    forest: forestFromTrees(trees, d, k),
  };
}

/**
 * Encodes a model: magic "EIFM", u16 version, u16 flags (bit0 standardize, bit1 compat reference), u32 d,
 * ntrees, ψ, requested ψ, e, height limit, f64 seed, f64 c(ψ), [f64 mean[d], f64 std[d] if standardised],
 * u32 treeOffsets[ntrees + 1] (relative to the tree section, so a reader can slice trees), then the trees.
 * A tree is u32 nodeCount and its nodes in preorder: a leaf is u8 0, f64 depth + c(size); an internal node
 * is u8 kind (1 general, 2/3 axis split with coefficient +1/−1), u32 right child (tree-relative), f64 offset
 * or threshold, [u16 feature index × k if k < d], [f64 coefficient × k unless kind 2/3].
 * Deterministic: equal models encode to equal bytes, which is what makes {@link modelId} a content hash.
 */
export function encodeModel(model: Model): Uint8Array {
  const { params: p, forest: f } = model;
  const d = p.dims;
  const w = new ByteWriter(64 + 16 * d + 4 * (p.ntrees + 1) + f.value.length * 9 + f.coef.length * 10);
  for (const ch of MODEL_MAGIC) w.u8(ch.charCodeAt(0));
  w.u16(FORMAT_VERSION);
  w.u16((p.standardize ? FLAG_STANDARDIZE : 0) | (p.compat === 'reference' ? FLAG_COMPAT_REFERENCE : 0));
  w.u32(d);
  w.u32(p.ntrees);
  w.u32(p.sampleSize);
  w.u32(p.requestedSampleSize);
  w.u32(p.extensionLevel);
  w.u32(p.heightLimit);
  w.f64(p.seed);
  w.f64(model.cPsi);
  if (p.standardize) {
    for (let c = 0; c < d; c++) w.f64(model.stats.mean[c] ?? 0);
    for (let c = 0; c < d; c++) w.f64(model.stats.std[c] ?? 1);
  }
  const offsetsAt = w.length;
  for (let t = 0; t <= p.ntrees; t++) w.u32(0);
  const treesAt = w.length;
  for (let t = 0; t < p.ntrees; t++) {
    w.patchU32(offsetsAt + 4 * t, w.length - treesAt);
    writeTree(w, f.right, f.value, f.index, f.coef, f.treeStart[t] ?? 0, f.treeStart[t + 1] ?? 0, f.k);
  }
  w.patchU32(offsetsAt + 4 * p.ntrees, w.length - treesAt);
  return w.finish();
}

/** Reads and checks the fixed header fields after magic, version and flags (everything but c(ψ)). */
function readHeader(r: ByteReader, flags: number): ResolvedParams {
  const dims = r.u32('dims');
  const ntrees = r.u32('ntrees');
  const sampleSize = r.u32('sampleSize');
  const requestedSampleSize = r.u32('requestedSampleSize');
  const extensionLevel = r.u32('extensionLevel');
  const heightLimit = r.u32('heightLimit');
  const seed = r.f64('seed');
  const standardize = (flags & FLAG_STANDARDIZE) !== 0;
  const compat = (flags & FLAG_COMPAT_REFERENCE) !== 0 ? 'reference' : 'exact';
  const ok =
    (flags & ~(FLAG_STANDARDIZE | FLAG_COMPAT_REFERENCE)) === 0 &&
    dims >= 1 &&
    dims <= MAX_DIMS &&
    ntrees >= 1 &&
    ntrees <= MAX_TREES &&
    sampleSize >= 2 &&
    sampleSize <= MAX_SAMPLE_SIZE &&
    requestedSampleSize >= sampleSize &&
    extensionLevel < dims &&
    heightLimit === heightLimitFor(sampleSize) &&
    Number.isSafeInteger(seed);
  if (!ok) throw corrupt('model', 'inconsistent header', 'header');
  return {
    ntrees,
    sampleSize,
    requestedSampleSize,
    extensionLevel,
    seed,
    standardize,
    compat,
    dims,
    heightLimit,
  };
}

/** Limits for {@link decodeModel}. */
export interface DecodeOptions {
  /** Reject encodings larger than this many bytes (default {@link DEFAULT_MAX_MODEL_BYTES}). */
  readonly maxBytes?: number;
}

/** 64 MiB: about 6,000 fully extended d = 10 trees, far beyond any sensible forest. */
export const DEFAULT_MAX_MODEL_BYTES = 64 * 1024 * 1024;

/** Decodes and fully validates a model; throws `ModelTooLarge`, `BadModelMagic`, `UnsupportedModelVersion`, `TruncatedModel` or `CorruptModel`. */
export function decodeModel(bytes: Uint8Array, options: DecodeOptions = {}): Model {
  const what = 'model';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
  if (bytes.length > maxBytes) {
    throw new EngineError(
      'ModelTooLarge',
      `model is ${bytes.length} bytes, over the ${maxBytes}-byte limit`,
      {
        field: 'model',
      },
    );
  }
  const r = new ByteReader(bytes, what);
  const magic = r.tag('magic');
  if (magic !== MODEL_MAGIC) {
    throw new EngineError(
      'BadModelMagic',
      `model: bad magic ${JSON.stringify(magic)}, expected "${MODEL_MAGIC}"`,
      {
        field: 'magic',
      },
    );
  }
  const version = r.u16('version');
  if (version !== FORMAT_VERSION) {
    throw new EngineError(
      'UnsupportedModelVersion',
      `model: format version ${version}, this engine reads ${FORMAT_VERSION}`,
      {
        field: 'version',
      },
    );
  }
  const flags = r.u16('flags');
  const params = readHeader(r, flags);
  const { dims, ntrees, extensionLevel, standardize } = params;
  const cPsi = r.f64('cPsi');
  if (cPsi !== cFactor(params.sampleSize, params.compat))
    throw corrupt(what, 'c(ψ) does not match ψ', 'cPsi');
  const mean = new Float64Array(dims);
  const std = new Float64Array(dims).fill(1);
  if (standardize) {
    for (let c = 0; c < dims; c++) mean[c] = r.f64(`stats.mean[${c}]`);
    for (let c = 0; c < dims; c++) std[c] = r.f64(`stats.std[${c}]`);
    for (let c = 0; c < dims; c++) {
      if (!Number.isFinite(mean[c]) || !((std[c] ?? 0) > 0) || !Number.isFinite(std[c])) {
        throw corrupt(what, `feature ${c} has invalid standardisation stats`, 'stats');
      }
    }
  }
  const offsets = new Uint32Array(ntrees + 1);
  r.need(4 * (ntrees + 1), 'treeOffsets');
  for (let t = 0; t <= ntrees; t++) offsets[t] = r.u32('treeOffsets');
  const treesAt = r.pos;
  const k = extensionLevel + 1;
  const trees: TreeArrays[] = [];
  for (let t = 0; t < ntrees; t++) {
    if (r.pos - treesAt !== offsets[t])
      throw corrupt(what, `tree ${t} offset does not match its position`, `trees[${t}]`);
    trees.push(readTree(r, dims, k, what, `trees[${t}]`));
  }
  if (r.pos - treesAt !== offsets[ntrees]) throw corrupt(what, 'tree section length does not match', 'trees');
  if (r.remaining !== 0) throw corrupt(what, `${r.remaining} trailing bytes`, 'trees');
  return {
    params,
    stats: { mean, std },
    cPsi,
    forest: forestFromTrees(trees, dims, k),
  };
}

/** The model's content id: lowercase sha256 hex of its canonical encoding. */
export function modelId(model: Model): string {
  return createHash('sha256').update(encodeModel(model)).digest('hex');
}

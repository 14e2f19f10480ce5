// Snappy compression of Parquet pages, byte for byte what hyparquet-writer's snappyCompress writes (its
// port of snappyjs: one block, a hash table of up to 2^14 entries, copies within 64 KiB), but into one
// scratch buffer sized for the worst case instead of a ByteWriter grown a byte at a time from 1 KiB: the
// growth left about twice a page's size of garbage per page and cost a bounds check per output byte.
// snappy.test.ts checks the bytes against hyparquet-writer's on varied inputs.

const MAX_HASH_TABLE_BITS = 14;
const MAX_OFFSET = 0xffff;
const INPUT_MARGIN = 15;
const hashTables: (Uint32Array | undefined)[] = [];
let scratch = new Uint8Array(0);

function hash(key: number, shift: number): number {
  return Math.imul(key, 0x1e35a7bd) >>> shift;
}

function load32(a: Uint8Array, p: number): number {
  return (
    (a[p] as number) +
    ((a[p + 1] as number) << 8) +
    ((a[p + 2] as number) << 16) +
    ((a[p + 3] as number) << 24)
  );
}

function equals32(a: Uint8Array, p: number, q: number): boolean {
  return a[p] === a[q] && a[p + 1] === a[q + 1] && a[p + 2] === a[q + 2] && a[p + 3] === a[q + 3];
}

/** The output being written: the scratch buffer and the next index. */
interface Out {
  readonly b: Uint8Array;
  o: number;
}

function literal(out: Out, input: Uint8Array, ip: number, len: number): void {
  const b = out.b;
  if (len <= 60) b[out.o++] = (len - 1) << 2;
  else {
    const value = len - 1;
    const bytes = value < 0x100 ? 1 : value < 0x10000 ? 2 : value < 0x1000000 ? 3 : 4;
    b[out.o++] = (59 + bytes) << 2;
    for (let i = 0; i < bytes; i++) b[out.o++] = (value >>> (i * 8)) & 0xff;
  }
  b.set(input.subarray(ip, ip + len), out.o);
  out.o += len;
}

function copyLessThan64(out: Out, offset: number, len: number): void {
  const b = out.b;
  if (len < 12 && offset < 2048) {
    b[out.o++] = (1 + ((len - 4) << 2) + ((offset >>> 8) << 5)) & 0xff;
    b[out.o++] = offset & 0xff;
  } else {
    b[out.o++] = (2 + ((len - 1) << 2)) & 0xff;
    b[out.o++] = offset & 0xff;
    b[out.o++] = (offset >>> 8) & 0xff;
  }
}

function copy(out: Out, offset: number, len: number): void {
  while (len >= 68) {
    copyLessThan64(out, offset, 64);
    len -= 64;
  }
  if (len > 64) {
    copyLessThan64(out, offset, 60);
    len -= 60;
  }
  copyLessThan64(out, offset, len);
}

/**
 * `input` Snappy-compressed. The result is a view of a scratch buffer that the next call overwrites: copy
 * it (or append it to the file's bytes) before compressing anything else.
 */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const n = input.length;
  // Snappy's worst case (32 + n + n/6) covers this variant's too: a literal's header is at most 5 bytes.
  const bound = 32 + n + Math.ceil(n / 6);
  if (scratch.length < bound) scratch = new Uint8Array(Math.max(bound, 2 * scratch.length));
  const out: Out = { b: scratch, o: 0 };
  const b = scratch;
  // The uncompressed length as a varint.
  for (let v = n; ; v >>>= 7) {
    if ((v & ~0x7f) === 0) {
      b[out.o++] = v;
      break;
    }
    b[out.o++] = (v & 0x7f) | 0x80;
  }
  compress(out, input);
  return scratch.subarray(0, out.o);
}

/** snappyjs's compressInput, statement for statement. */
function compress(out: Out, input: Uint8Array): void {
  const inputSize = input.length;
  let bits = 1;
  while (1 << bits <= inputSize && bits <= MAX_HASH_TABLE_BITS) bits++;
  bits--;
  const shift = 32 - bits;
  const table = (hashTables[bits] ??= new Uint32Array(1 << bits));
  table.fill(0);
  let ip = 0;
  let nextEmit = 0;
  if (inputSize >= INPUT_MARGIN) {
    const ipLimit = inputSize - INPUT_MARGIN;
    ip++;
    let nextHash = hash(load32(input, ip), shift);
    for (;;) {
      let skip = 32;
      let nextIp = ip;
      let candidate = 0;
      let ended = false;
      do {
        ip = nextIp;
        const h = nextHash;
        const step = skip >>> 5;
        skip++;
        nextIp = ip + step;
        if (ip > ipLimit) {
          ended = true;
          break;
        }
        nextHash = hash(load32(input, nextIp), shift);
        candidate = table[h] as number;
        table[h] = ip;
      } while (ip - candidate > MAX_OFFSET || !equals32(input, ip, candidate));
      if (ended) break;
      literal(out, input, nextEmit, ip - nextEmit);
      do {
        const base = ip;
        let matched = 4;
        while (ip + matched < inputSize && input[ip + matched] === input[candidate + matched]) matched++;
        ip += matched;
        copy(out, base - candidate, matched);
        nextEmit = ip;
        if (ip >= ipLimit) {
          ended = true;
          break;
        }
        table[hash(load32(input, ip - 1), shift)] = ip - 1;
        const h = hash(load32(input, ip), shift);
        candidate = table[h] as number;
        table[h] = ip;
      } while (ip - candidate <= MAX_OFFSET && equals32(input, ip, candidate));
      if (ended) break;
      ip++;
      nextHash = hash(load32(input, ip), shift);
    }
  }
  if (nextEmit < inputSize) literal(out, input, nextEmit, inputSize - nextEmit);
}

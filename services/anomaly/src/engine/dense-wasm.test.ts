// The embedded WebAssembly kernel is exactly what wabt assembles from wasm/dense.wat (run
// `npm run generate:wasm` after editing the .wat), and it loads with SIMD on this Node.

import { describe, expect, it } from 'vitest';
import { DENSE_WASM_BASE64 } from './dense-wasm.js';
import { denseModule } from './simd.js';
import { assemble, moduleSource } from './wasm/build.js';

describe('dense-wasm', () => {
  it('embeds the bytes wabt assembles from dense.wat', async () => {
    const bytes = await assemble();
    expect(Buffer.from(DENSE_WASM_BASE64, 'base64').equals(Buffer.from(bytes))).toBe(true);
    expect(moduleSource(bytes)).toContain(DENSE_WASM_BASE64.slice(0, 100));
  });

  it('compiles on this runtime (so scoring does not silently fall back to JS)', () => {
    expect(denseModule()).not.toBeNull();
  });
});

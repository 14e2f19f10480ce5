// The API's error shape ({error, code, detail}, CONTRIBUTING.md §6) as the integration tests check it.

import { expect } from 'vitest';

/** Expects `status` with error `code` and a human `error` message; returns the error's located detail. */
export async function expectError(
  res: Response,
  status: number,
  code: string,
): Promise<Record<string, unknown>> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const b = JSON.parse(text) as { error: string; code: string; detail: Record<string, unknown> };
  expect(b.code, text).toBe(code);
  expect(typeof b.error).toBe('string');
  return b.detail;
}

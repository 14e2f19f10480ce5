// The astropy side of e2e/real/cutoutjob.real.test.ts: e2e/real/cutout_fits.py run in the cutout runner's astropy
// venv, started before the job so astropy's import overlaps the run.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { astropyPython } from '../../services/cutout-runner/test/support/astropy.js';

/** What e2e/real/cutout_fits.py says of one cutout. */
export interface Checked {
  path: string;
  hdus: {
    name: string;
    shape: [number, number];
    nan: number;
    pixel: [number, number];
    reference: [number, number];
    same: boolean | null;
  }[];
}

/**
 * Starts cutout_fits.py in the cutout runner's astropy venv (scripts/compat-venv.sh, cached) so astropy is imported
 * while the job runs: `check` sends the request and resolves with the answer; `close` ends a process never asked.
 */
export function astropyChecker(): {
  check: (request: readonly { path: string; tile: string; ra: number; dec: number }[]) => Promise<Checked[]>;
  close: () => void;
} {
  let answer: Promise<Checked[]> | undefined;
  const child = spawn(astropyPython(), [join(import.meta.dirname, 'cutout_fits.py')]);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    check: (request) => {
      child.stdin?.end(JSON.stringify(request));
      answer ??= exited.then((code) => {
        if (code !== 0) throw new Error(`cutout_fits.py exited ${code}: ${stderr}`);
        return JSON.parse(stdout) as Checked[];
      });
      return answer;
    },
    close: () => {
      if (answer === undefined) child.kill();
    },
  };
}

// Short-lived signed result URLs: `…/results/<job>/<file>?expires=<unix s>&sig=<hex>` where sig is
// HMAC-SHA256 over `<job>/<file>\n<expires>` with the service's key. A URL is minted when its owner
// asks for a job's result (so it never expires before anyone looks) and works without the token until
// `expires`; a changed job, file or expiry, or a late request, is refused.

import { createHmac, timingSafeEqual } from 'node:crypto';

export type Clock = () => number;

export class Signer {
  constructor(
    private readonly key: Buffer,
    private readonly lifetimeSeconds: number,
    private readonly now: Clock = Date.now,
  ) {}

  private mac(path: string, expires: number): Buffer {
    return createHmac('sha256', this.key).update(`${path}\n${expires}`).digest();
  }

  /** The query string for `path` (`<job>/<file>`), valid for the configured lifetime from now. */
  sign(path: string): { expires: number; sig: string } {
    const expires = Math.floor(this.now() / 1000) + this.lifetimeSeconds;
    return { expires, sig: this.mac(path, expires).toString('hex') };
  }

  /** Why `path` with `expires`/`sig` is refused, or undefined when it is valid now. */
  check(path: string, expires: string | undefined, sig: string | undefined): string | undefined {
    if (
      expires === undefined ||
      sig === undefined ||
      !/^\d{1,12}$/.test(expires) ||
      !/^[0-9a-f]{64}$/.test(sig)
    )
      return 'the URL is not signed';
    const want = this.mac(path, Number(expires));
    if (!timingSafeEqual(want, Buffer.from(sig, 'hex'))) return 'the signature does not match';
    if (Number(expires) * 1000 <= this.now()) return 'the URL has expired';
    return undefined;
  }
}

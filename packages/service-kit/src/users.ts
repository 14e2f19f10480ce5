// Who a request is: `Authorization: Bearer <token>` looked up in the tokens file (a mounted Secret), one
// `user token` pair a line (`#` comments and blank lines ignored). Tokens are compared by their sha256 in
// constant time over every entry, so a lookup's time does not depend on where a token matches.

import { createHash, timingSafeEqual } from 'node:crypto';

export class TokensError extends Error {
  override readonly name = 'TokensError';
}

const USER = /^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/;
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Bearer tokens → user names. */
export class Users {
  private readonly entries: readonly { readonly user: string; readonly hash: Buffer }[];

  private constructor(entries: readonly { user: string; hash: Buffer }[]) {
    this.entries = entries;
  }

  /** Parses a tokens file's text; an error names the line. */
  static parse(text: string, source = 'tokens file'): Users {
    const entries: { user: string; hash: Buffer }[] = [];
    const seen = new Set<string>();
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const parts = line.split(/\s+/);
      const [user, token] = parts;
      const at = `${source} line ${i + 1}`;
      if (parts.length !== 2 || user === undefined || token === undefined)
        throw new TokensError(`${at}: expected 'user token', got ${parts.length} fields`);
      if (!USER.test(user)) throw new TokensError(`${at}: user '${user}' must be lower-case [a-z0-9._-]`);
      if (token.length < 16)
        throw new TokensError(`${at}: the token of '${user}' is shorter than 16 characters`);
      if (seen.has(token)) throw new TokensError(`${at}: this token is already given to another line`);
      seen.add(token);
      entries.push({ user, hash: digest(token) });
    });
    return new Users(entries);
  }

  /** The user of `Authorization` header value, or undefined (no header, not Bearer, unknown token). */
  fromHeader(header: string | undefined): string | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return m?.[1] === undefined ? undefined : this.fromToken(m[1]);
  }

  fromToken(token: string): string | undefined {
    const h = digest(token);
    let found: string | undefined;
    for (const e of this.entries) if (timingSafeEqual(h, e.hash)) found = e.user;
    return found;
  }
}

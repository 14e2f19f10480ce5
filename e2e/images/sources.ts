// Finds the Debian mirror this machine's apt uses, so base images come from the same packages (and the same
// proxy or snapshot) as everything else apt installs here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One apt source: `deb URI SUITE COMPONENT...` (binary packages only). */
export interface AptSource {
  uri: string;
  suite: string;
  components: string[];
}

/** Parses one-line style (`sources.list`) text; `deb-src` lines, options in brackets and comments are ignored. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw
      .replace(/#.*$/, '')
      .replace(/\[[^\]]*\]/, ' ')
      .trim();
    const [type, uri, suite, ...components] = line.split(/\s+/);
    if (type !== 'deb' || uri === undefined || suite === undefined) continue;
    out.push({ uri, suite, components });
  }
  return out;
}

/** Parses deb822 style (`*.sources`) text: stanzas of `Types`, `URIs`, `Suites`, `Components`. */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = '';
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (m?.[1] !== undefined && m[2] !== undefined) {
        last = m[1].toLowerCase();
        fields.set(last, m[2].trim());
      } else if (/^\s/.test(raw) && last !== '') {
        fields.set(last, `${fields.get(last) ?? ''} ${raw.trim()}`.trim());
      }
    }
    const words = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter((w) => w !== '');
    if (!words('types').includes('deb') || fields.get('enabled')?.toLowerCase() === 'no') continue;
    for (const uri of words('uris'))
      for (const suite of words('suites')) out.push({ uri, suite, components: words('components') });
  }
  return out;
}

/**
 * The sources of one Debian release: suite `release` and its `-updates` / `-security` suites, main component
 * only, so third-party repositories (with their own keys) never reach an image. Throws when there is none.
 */
export function debianSourcesFor(all: readonly AptSource[], release: string): AptSource[] {
  const suites = new Set([release, `${release}-updates`, `${release}-security`]);
  const picked = all
    .filter((s) => suites.has(s.suite) && s.components.includes('main'))
    .map((s) => ({ uri: s.uri, suite: s.suite, components: ['main'] }));
  if (!picked.some((s) => s.suite === release))
    throw new Error(
      `no apt source for Debian ${release} (main) found; configure one in /etc/apt/sources.list(.d)`,
    );
  const seen = new Set<string>();
  return picked.filter((s) => {
    const k = `${s.uri} ${s.suite}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Reads the machine's apt sources (`sources.list` and `sources.list.d/*.list|*.sources`) under `etcApt`. */
export function readAptSources(etcApt = '/etc/apt'): AptSource[] {
  const out: AptSource[] = [];
  const main = join(etcApt, 'sources.list');
  if (existsSync(main)) out.push(...parseOneLineSources(readFileSync(main, 'utf8')));
  const dir = join(etcApt, 'sources.list.d');
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      const text = (): string => readFileSync(join(dir, name), 'utf8');
      if (name.endsWith('.list')) out.push(...parseOneLineSources(text()));
      else if (name.endsWith('.sources')) out.push(...parseDeb822Sources(text()));
    }
  }
  return out;
}

/** A source as an mmdebstrap mirror argument. */
export function sourceLine(s: AptSource): string {
  return `deb ${s.uri} ${s.suite} ${s.components.join(' ')}`;
}

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  debianSourcesFor,
  parseDeb822Sources,
  parseOneLineSources,
  readAptSources,
  sourceLine,
} from './sources.js';

const deb822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main contrib

Types: deb
URIs: https://deb.example.org/node
Suites: nodistro
Components: main

Types: deb
Enabled: no
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
`;

describe('apt sources', () => {
  it('parses deb822 stanzas, skipping disabled ones', () => {
    const got = parseDeb822Sources(deb822);
    expect(got.map((s) => `${s.uri} ${s.suite}`)).toEqual([
      'http://deb.debian.org/debian bookworm',
      'http://deb.debian.org/debian bookworm-updates',
      'http://deb.debian.org/debian-security bookworm-security',
      'https://deb.example.org/node nodistro',
    ]);
  });

  it('parses one-line sources with options and comments', () => {
    const text = [
      '# a comment',
      'deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main contrib # trailing',
      'deb-src http://mirror.example/debian bookworm main',
      'deb https://packages.example.com/apt cloud-sdk-bookworm main',
    ].join('\n');
    expect(parseOneLineSources(text)).toEqual([
      { uri: 'http://mirror.example/debian', suite: 'bookworm', components: ['main', 'contrib'] },
      { uri: 'https://packages.example.com/apt', suite: 'cloud-sdk-bookworm', components: ['main'] },
    ]);
  });

  it('keeps only the release, its updates and security suites, main only, once each', () => {
    const all = [
      ...parseDeb822Sources(deb822),
      ...parseOneLineSources('deb https://packages.example.com/apt cloud-sdk-bookworm main'),
      ...parseOneLineSources('deb http://deb.debian.org/debian bookworm main'),
    ];
    expect(debianSourcesFor(all, 'bookworm').map(sourceLine)).toEqual([
      'deb http://deb.debian.org/debian bookworm main',
      'deb http://deb.debian.org/debian bookworm-updates main',
      'deb http://deb.debian.org/debian-security bookworm-security main',
    ]);
  });

  it('says what is missing when the release has no source', () => {
    expect(() => debianSourcesFor(parseDeb822Sources(deb822), 'trixie')).toThrow(
      /no apt source for Debian trixie/,
    );
  });

  it('reads sources.list and sources.list.d of an apt directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyport-apt-'));
    try {
      mkdirSync(join(dir, 'sources.list.d'));
      writeFileSync(join(dir, 'sources.list'), 'deb http://a.example/debian bookworm main\n');
      writeFileSync(join(dir, 'sources.list.d', 'debian.sources'), deb822);
      writeFileSync(
        join(dir, 'sources.list.d', 'ignored.save'),
        'deb http://b.example/debian bookworm main\n',
      );
      expect(readAptSources(dir).map((s) => s.uri)).toEqual([
        'http://a.example/debian',
        'http://deb.debian.org/debian',
        'http://deb.debian.org/debian',
        'http://deb.debian.org/debian-security',
        'https://deb.example.org/node',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

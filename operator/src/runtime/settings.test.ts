// Controller settings from the environment: defaults, parsing per type, errors naming the value and the variable.
import { describe, expect, it } from 'vitest';
import { SettingError, durationMs, parseSettings } from './settings.js';

const schema = {
  interval: { type: 'duration', env: 'T_INTERVAL', default: '60s', description: 'd' },
  url: {
    type: 'string',
    env: 'T_URL',
    default: '',
    pattern: { regex: '^https?://', hint: 'must start with http:// or https://' },
    description: 'u',
  },
  prefixes: { type: 'list', env: 'T_PREFIXES', default: [], reservedPrefix: 'skyport.io/', description: 'p' },
} as const;

describe('parseSettings', () => {
  it('takes defaults for unset or empty variables', () => {
    expect(parseSettings('t', schema, {})).toEqual({ interval: 60_000, url: '', prefixes: [] });
    expect(parseSettings('t', schema, { T_INTERVAL: '', T_URL: ' ', T_PREFIXES: '' })).toEqual({
      interval: 60_000,
      url: '',
      prefixes: [],
    });
  });

  it('parses durations, strings and comma-separated lists', () => {
    const s = parseSettings('t', schema, {
      T_INTERVAL: '1.5s',
      T_URL: 'http://127.0.0.1:9/{name}',
      T_PREFIXES: ' a/, ,b.io/ ',
    });
    expect(s).toEqual({ interval: 1500, url: 'http://127.0.0.1:9/{name}', prefixes: ['a/', 'b.io/'] });
  });

  it.each([
    [{ T_INTERVAL: 'soon' }, 'invalid controllers.t.interval (env T_INTERVAL): "soon" is not a duration'],
    [
      { T_INTERVAL: '500ms' },
      'invalid controllers.t.interval (env T_INTERVAL): 500 ms is below the 1s minimum',
    ],
    [{ T_URL: 'ftp://x' }, '"ftp://x" must start with http:// or https://'],
    [{ T_PREFIXES: 'a/,skyport.io/x' }, '(env T_PREFIXES): "skyport.io/x" is reserved (skyport.io/…)'],
  ])('rejects %o naming the value and the variable', (env, message) => {
    const err = (() => {
      try {
        parseSettings('t', schema, env);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SettingError);
    expect((err as Error).message).toContain(message);
  });
});

describe('durationMs', () => {
  it('reads ms, s, m, h and bare milliseconds; undefined when malformed', () => {
    expect([
      durationMs('500ms'),
      durationMs('2s'),
      durationMs('10m'),
      durationMs('1h'),
      durationMs('250'),
    ]).toEqual([500, 2000, 600_000, 3_600_000, 250]);
    expect(durationMs('1d')).toBeUndefined();
    expect(durationMs('')).toBeUndefined();
  });
});

// Config parsing: defaults, flags over env, and clear errors naming the flag.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from './config.js';

describe('loadConfig', () => {
  it('has sensible defaults', () => {
    const c = loadConfig([], { POD_NAME: 'op-0' });
    expect(c).toMatchObject({
      namespaces: [],
      workers: 4,
      leaderElection: {
        enabled: true,
        leaseName: 'skyport-operator',
        leaseNamespace: 'skyport-system',
        identity: 'op-0',
      },
      probePort: 8081,
      logLevel: 'info',
      kubeconfig: undefined,
      resyncPeriodMs: 600_000,
    });
  });

  it('reads env and lets flags win', () => {
    const env = {
      SKYPORT_NAMESPACES: 'a, b,a',
      SKYPORT_WORKERS: '3',
      SKYPORT_LEADER_ELECT: 'false',
      KUBECONFIG: '/k',
    };
    expect(loadConfig([], env)).toMatchObject({
      namespaces: ['a', 'b'],
      workers: 3,
      leaderElection: { enabled: false },
      kubeconfig: '/k',
    });
    const c = loadConfig(
      ['--workers=5', '--namespaces', 'c', '--leader-elect', '--resync-period=30s', '--log-level=DEBUG'],
      env,
    );
    expect(c).toMatchObject({
      namespaces: ['c'],
      workers: 5,
      leaderElection: { enabled: true },
      resyncPeriodMs: 30_000,
      logLevel: 'debug',
    });
    expect(loadConfig(['--no-leader-elect'], {}).leaderElection.enabled).toBe(false);
    expect(loadConfig(['--namespaces=*'], {}).namespaces).toEqual([]);
  });

  it('reads the controllers to run: unset = all, an explicit empty flag = none', () => {
    expect(loadConfig([], {}).controllers).toBeUndefined();
    expect(loadConfig([], { SKYPORT_CONTROLLERS: '' }).controllers).toBeUndefined();
    expect(loadConfig(['--controllers='], {}).controllers).toEqual([]);
    expect(loadConfig([], { SKYPORT_CONTROLLERS: 'a, b,a' }).controllers).toEqual(['a', 'b']);
  });

  it.each([
    [['--workers=0'], /--workers: 0 is out of range 1..64/],
    [['--workers=two'], /--workers: "two" is not an integer/],
    [['--probe-port=70000'], /--probe-port: 70000 is out of range/],
    [['--leader-elect=maybe'], /--leader-elect: "maybe" is not a boolean/],
    [['--namespaces=Good,bad_ns'], /--namespaces: "Good" is not a DNS-1123 label/],
    [['--lease-name=UPPER'], /--lease-name/],
    [['--log-level=loud'], /--log-level: "loud" is not one of/],
    [['--resync-period=soon'], /--resync-period: "soon" is not a duration/],
    [['--resync-period=10ms'], /--resync-period: 10 ms is below the 1s minimum/],
    [['--wrokers=2'], /--wrokers: unknown flag/],
    [['--workers'], /--workers: missing value/],
    [['stray'], /unexpected positional argument/],
  ])('rejects %j', (argv, msg) => {
    expect(() => loadConfig(argv, {})).toThrow(ConfigError);
    expect(() => loadConfig(argv, {})).toThrow(msg);
  });

  it('names the flag for a bad env value too', () => {
    expect(() => loadConfig([], { SKYPORT_WORKERS: '-1' })).toThrow(/--workers/);
  });

  it('parses durations', () => {
    expect(parseDuration('x', '1h')).toBe(3_600_000);
    expect(parseDuration('x', '1.5s')).toBe(1500);
    expect(parseDuration('x', '250')).toBe(250);
  });
});

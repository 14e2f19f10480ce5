// Unit tests for webhook URL checks: http(s) only, no credentials, allow-list by exact host or *.suffix, and no
// link-local (instance metadata) targets without an allow-list.

import { describe, expect, it } from 'vitest';
import { checkWebhookTarget, checkWebhookUrl, type Lookup } from './alerts.js';
import { HttpError } from './errors.js';

function code(url: string, allowed: string[]): string {
  try {
    checkWebhookUrl(url, allowed);
    return 'ok';
  } catch (err) {
    return err instanceof HttpError ? err.code : 'other';
  }
}

describe('checkWebhookUrl', () => {
  it('accepts http and https on an empty allow-list', () => {
    expect(code('http://hooks.example.org/a', [])).toBe('ok');
    expect(code('https://10.0.0.1:8443/a', [])).toBe('ok');
  });
  it.each(['ftp://h/x', 'file:///etc/passwd', 'javascript:alert(1)', 'gopher://h', 'not a url'])(
    'rejects %s',
    (u) => {
      expect(code(u, [])).toBe('InvalidWebhookUrl');
    },
  );
  it('rejects credentials in the URL', () => {
    expect(code('https://user:pw@h.example.org/', [])).toBe('InvalidWebhookUrl');
  });
  it('enforces the allow-list by exact host and by suffix pattern', () => {
    const allowed = ['127.0.0.1', '*.svc.local'];
    expect(code('http://127.0.0.1:9000/x', allowed)).toBe('ok');
    expect(code('http://alerts.ns.svc.local/x', allowed)).toBe('ok');
    expect(code('http://svc.local/x', allowed)).toBe('WebhookHostNotAllowed');
    expect(code('http://evilsvc.local/x', allowed)).toBe('WebhookHostNotAllowed');
    expect(code('http://127.0.0.2/x', allowed)).toBe('WebhookHostNotAllowed');
  });
});

describe('checkWebhookTarget', () => {
  const dns: Record<string, string[]> = {
    'hooks.example.org': ['93.184.215.14'],
    'metadata.internal': ['169.254.169.254'],
    'sneaky.example.org': ['10.0.0.7', 'fe80::1'],
  };
  const lookup: Lookup = (host) => {
    const a = dns[host];
    return a === undefined ? Promise.reject(new Error(`ENOTFOUND ${host}`)) : Promise.resolve(a);
  };
  async function target(url: string, allowed: string[] = []): Promise<string> {
    try {
      await checkWebhookTarget(new URL(url), allowed, lookup);
      return 'ok';
    } catch (err) {
      return err instanceof HttpError ? `${err.code}: ${err.message}` : `other: ${String(err)}`;
    }
  }

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]:8080/x',
    'http://[::ffff:169.254.169.254]/x',
    'http://0.0.0.0:9000/x',
    'http://[::]/x',
    // AWS's IPv6 instance metadata address, and link-local IPv4 written as IPv4-mapped (hex and dotted),
    // IPv4-compatible and NAT64 (64:ff9b::/96) IPv6.
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://[::ffff:a9fe:a9fe]/x',
    'http://[::ffff:169.254.0.1]/x',
    'http://[::169.254.169.254]/x',
    'http://[64:ff9b::169.254.169.254]/x',
    'http://[64:ff9b::a9fe:1]/x',
    'http://[64:ff9b::0.0.0.0]/x',
  ])('refuses the link-local or unspecified address in %s', async (u) => {
    expect(await target(u)).toMatch(/^WebhookHostNotAllowed: url: host \S+ is a link-local/);
  });

  it('refuses a name that resolves to one (any of its addresses), naming the address', async () => {
    expect(await target('http://metadata.internal/x')).toBe(
      'WebhookHostNotAllowed: url: host metadata.internal resolves to 169.254.169.254, a link-local or unspecified ' +
        'address (instance metadata); name it in WEBHOOK_ALLOWED_HOSTS to allow it',
    );
    expect(await target('https://sneaky.example.org/x')).toMatch(/resolves to fe80::1,/);
  });

  it('accepts public, private and loopback targets, unresolvable names, and anything an allow-list names', async () => {
    expect(await target('https://hooks.example.org/a')).toBe('ok');
    expect(await target('http://10.1.2.3:8080/a')).toBe('ok');
    expect(await target('http://127.0.0.1:9000/a')).toBe('ok');
    expect(await target('http://nowhere.invalid/a')).toBe('ok');
    expect(await target('http://169.254.169.254/x', ['169.254.169.254'])).toBe('ok');
    // Neighbours of the refused ranges stay reachable: NAT64 of a public address, another fd00::/8 host.
    expect(await target('http://[64:ff9b::93.184.215.14]/a')).toBe('ok');
    expect(await target('http://[fd00:ec2::253]/a')).toBe('ok');
    expect(await target('http://[::1]:9000/a')).toBe('ok');
  });
});

// Unit tests for webhook URL checks: http(s) only, no credentials, allow-list by exact host or *.suffix.

import { describe, expect, it } from 'vitest';
import { checkWebhookUrl } from './alerts.js';
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

// spec.notify and status.notification, shared by the job kinds (QueryJob, CutoutJob): a webhook the operator POSTs
// one event to when the job ends, and the record of that delivery (runtime/notify.ts sends it).
import { bool, dateTime, def, int, obj, req, str, withRules } from '../schema.js';
import type { Infer } from '../schema.js';
import { DNS1123_SUBDOMAIN_PATTERN } from './common.js';

/** Longest webhook URL. */
export const WEBHOOK_URL_MAX = 2048;

/** The URL's host without IPv6 brackets, or undefined when `raw` is not an absolute URL. */
function hostOf(raw: string): string | undefined {
  try {
    return new URL(raw).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
}

// CEL (Kubernetes' URL library): the host as the apiserver parses it.
const HOST = 'url(self).getHostname()';
// Address literals are matched by regular expressions, the same text in CEL (RE2, case-insensitive by `(?i)`) and
// JS (flag i): the URL and IP libraries together in one rule cost more than the apiserver's estimate budget.
// CEL reads them as raw strings (r'…'), so the backslashes mean the same to both.
const AUTHORITY = '^[a-z][a-z0-9+.-]*://';
/** An IPv4-mapped IPv6 literal (`[::ffff:…]`), which hides an IPv4 address from IPv6 checks. */
const MAPPED = `${AUTHORITY}\\[[0:]*:ffff:`;
/** 169.254.0.0/16, 0.0.0.0, fe80::/10, [::] and AWS's fd00:ec2::254 written as the URL's host. */
const FORBIDDEN_LITERAL = `${AUTHORITY}(169\\.254\\.|0\\.0\\.0\\.0([:/?#]|$)|\\[fe[89ab][0-9a-f]:|\\[::\\]|\\[fd00:ec2::254\\])`;

/**
 * What the apiserver refuses of a webhook URL, naming the field: not http(s), credentials in it, or a host that is
 * an address literal no notification may reach (link-local — the instance metadata service —, unspecified, AWS's
 * IPv6 metadata address, or an IPv4-mapped IPv6 literal, which hides an IPv4 address). Names, loopback
 * and the admin's policy (http, allowed hosts) are checked by the operator, again after DNS resolution at send time.
 */
const webhookUrl = withRules(
  str(
    'Where the operator POSTs the event: https, or http to a host the admin allows (controllers.<kind>.notifyAllowedHosts).',
    { minLength: 1, maxLength: WEBHOOK_URL_MAX },
  ),
  [
    {
      rule: "isURL(self) && url(self).getScheme() in ['http', 'https'] && " + `${HOST} != ''`,
      message: 'must be an absolute http or https URL',
      check: (s) => {
        const h = hostOf(s);
        return h !== undefined && h !== '' && /^https?:\/\//i.test(s);
      },
    },
    {
      rule: "!self.matches('^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@')",
      message: 'must not carry credentials (use secretRef to sign the events)',
      check: (s) => !/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/.test(s),
    },
    {
      rule: `!self.matches(r'(?i)${MAPPED}')`,
      message: 'an IPv6 host must not be an IPv4-mapped address (write the IPv4 address)',
      check: (s) => !new RegExp(MAPPED, 'i').test(s),
    },
    {
      rule: `!self.matches(r'(?i)${FORBIDDEN_LITERAL}')`,
      message: 'must not be a link-local (instance metadata) or unspecified address',
      check: (s) => !new RegExp(FORBIDDEN_LITERAL, 'i').test(s),
    },
  ],
);

/** Schema of `spec.notify`. */
export const notify = obj(
  {
    webhook: req(
      obj(
        {
          url: req(webhookUrl),
          secretRef: obj(
            {
              name: req(
                str("Name of the Secret, in the job's namespace.", {
                  pattern: DNS1123_SUBDOMAIN_PATTERN,
                  maxLength: 253,
                }),
              ),
              key: def(
                str('Key within the Secret holding the HMAC key.', {
                  pattern: '^[-._a-zA-Z0-9]+$',
                  maxLength: 253,
                }),
                'secret',
              ),
            },
            'A Secret key whose value signs each event: X-Skyport-Signature: sha256=<hex HMAC-SHA256 of the body>.',
          ),
        },
        'A webhook: one POST of a JSON event when the job reaches COMPLETED, ERROR or ABORTED.',
      ),
    ),
  },
  "Tell the owner when the job ends. At least once: a receiver drops repeats by the event's idempotencyKey " +
    '(also the X-Skyport-Idempotency-Key header).',
);

/** Schema of `status.notification`. */
export const notification = obj(
  {
    phase: req(str('The phase the event announces.', { maxLength: 32 })),
    idempotencyKey: req(str('<uid>/<phase>: the same in every attempt.', { maxLength: 128 })),
    delivered: req(bool('Whether the receiver answered 2xx.')),
    gaveUp: bool('Whether the operator stopped trying (attempts used up, or the destination refused).'),
    attempts: req(int('POSTs made so far.', { minimum: 0 })),
    lastAttemptTime: dateTime('When the last POST ended.'),
    lastError: str('Why the last attempt failed.', { maxLength: 1024 }),
  },
  "The job's end notification (spec.notify): attempts and outcome.",
);

/** spec.notify. */
export type Notify = Infer<typeof notify>;
/** status.notification. */
export type Notification = Infer<typeof notification>;

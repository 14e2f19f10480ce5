// A throw-away PKI for the local control plane, made with the openssl CLI (node:crypto cannot issue X.509).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate subject: common name plus organisations (Kubernetes maps O to groups). */
export interface Subject {
  cn: string;
  orgs?: string[];
}

/** Renders a subject in openssl's `-subj` syntax, escaping the separators openssl treats specially. */
export function subjectArg({ cn, orgs = [] }: Subject): string {
  const esc = (s: string): string => {
    if (s === '') throw new Error('certificate subject parts must not be empty');
    return s.replace(/[\\/+=,]/g, (c) => `\\${c}`);
  };
  return [...orgs.map((o) => `/O=${esc(o)}`), `/CN=${esc(cn)}`].join('');
}

/** What a leaf certificate is for. */
export interface LeafSpec extends Subject {
  /** File stem: writes `<name>.crt` and `<name>.key`. */
  name: string;
  usage: 'server' | 'client';
  ips?: string[];
  dnsNames?: string[];
}

/** The openssl x509 extension file for a leaf certificate. */
export function leafExtensions(spec: Pick<LeafSpec, 'usage' | 'ips' | 'dnsNames'>): string {
  const lines = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${spec.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
  ];
  const sans = [...(spec.ips ?? []).map((ip) => `IP:${ip}`), ...(spec.dnsNames ?? []).map((d) => `DNS:${d}`)];
  if (spec.usage === 'server' && sans.length === 0)
    throw new Error('a server certificate needs at least one SAN');
  if (sans.length > 0) lines.push(`subjectAltName=${sans.join(',')}`);
  return lines.join('\n') + '\n';
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0] ?? ''} failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

function newKey(dir: string, file: string): void {
  // P-256 keys: much faster to generate than RSA, and accepted by every component (incl. SA signing).
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], dir);
}

/** Creates a self-signed CA (`ca.crt`, `ca.key`) in `dir`. */
export function createCA(dir: string, cn = 'skyport-e2e-ca', days = 3650): void {
  newKey(dir, 'ca.key');
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      subjectArg({ cn }),
      '-days',
      String(days),
      '-out',
      'ca.crt',
    ],
    dir,
  );
}

/** Issues `<name>.crt`/`<name>.key` signed by the CA in `dir`. */
export function issueLeaf(dir: string, spec: LeafSpec, days = 365): void {
  newKey(dir, `${spec.name}.key`);
  openssl(
    ['req', '-new', '-key', `${spec.name}.key`, '-subj', subjectArg(spec), '-out', `${spec.name}.csr`],
    dir,
  );
  writeFileSync(join(dir, `${spec.name}.ext`), leafExtensions(spec));
  const serial = '0x' + randomBytes(12).toString('hex');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${spec.name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      serial,
      '-days',
      String(days),
      '-extfile',
      `${spec.name}.ext`,
      '-out',
      `${spec.name}.crt`,
    ],
    dir,
  );
}

/** Creates the ServiceAccount token signing pair (`sa.key`, `sa.pub`). */
export function createServiceAccountKeys(dir: string): void {
  newKey(dir, 'sa.key');
  openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

/** Reads a PEM file written by this module. */
export function readPem(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8');
}

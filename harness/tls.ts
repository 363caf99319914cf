/**
 * A TLS certificate made for the test host names, so the origin table can compare
 * `http://www.example.test:P` with `https://www.example.test:P`. Only the test browsers accept it
 * (engines launched with `ignoreTlsErrors`, Chromium trusting its public key); nothing on the machine
 * trusts it. `selfsigned` makes it with WebCrypto keys — a maintained library instead of hand-built
 * ASN.1.
 *
 * Made once per set of host names and kept in corsproof's cache (node_modules/.cache/corsproof/,
 * readable by its owner only) until a day before it expires: loading `selfsigned` and making a
 * certificate cost ≈ 0.33 s of CPU, on the path to the first engine's launch, in every run whose
 * page origin is https. A certificate for test names, trusted by no one outside the launched
 * browsers, is no secret worth a fresh key per run.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { engineCacheDir, writeCacheFile } from '../engines/cache-dir.js';

/** How long a certificate is valid, and how long before its end a cached one is replaced. */
const VALID_DAYS = 30;
const RENEW_MS = 24 * 3600 * 1000;

export interface TestCertificate {
  key: string;
  cert: string;
}

export async function makeTestCertificate(hosts: readonly string[]): Promise<TestCertificate> {
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: hosts[0] ?? 'corsproof.test' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + VALID_DAYS * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...hosts.map((h) => ({ type: 2 as const, value: h })), { type: 7 as const, ip: '127.0.0.1' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** The names a certificate is made and cached for: each once, in order ("a,b"). */
const namesOf = (hosts: readonly string[]): string => [...new Set(hosts)].sort().join(',');

/**
 * The certificate for these names from `root` when one is there and valid for more than a day,
 * else a new one, written there for the next run (a cache that cannot be written is no error).
 */
export async function cachedTestCertificate(hosts: readonly string[], root = engineCacheDir()): Promise<TestCertificate> {
  const names = namesOf(hosts);
  const file = join(root, `test-certificate-${createHash('sha256').update(names).digest('hex').slice(0, 16)}.json`);
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as { names?: string; key?: string; cert?: string };
    if (c.names === names && c.key && c.cert && Date.parse(new X509Certificate(c.cert).validTo) - Date.now() > RENEW_MS) return { key: c.key, cert: c.cert };
  } catch {
    // None yet, or unreadable: make one.
  }
  const made = await makeTestCertificate(names.split(','));
  // Not cached when it cannot be written: the next run makes its own.
  writeCacheFile(file, JSON.stringify({ names, ...made }), 0o600);
  return made;
}

const made = new Map<string, Promise<TestCertificate>>();

/**
 * The worker's certificate for these names (from the cache, else made), once per process: the
 * engine is launched trusting it (Chromium: by its public key, engines/playwright.ts) before the
 * servers that present it start.
 */
export function testCertificate(hosts: readonly string[]): Promise<TestCertificate> {
  const names = namesOf(hosts);
  let cert = made.get(names);
  if (!cert) {
    cert = cachedTestCertificate(hosts);
    made.set(names, cert);
  }
  return cert;
}

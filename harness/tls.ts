/**
 * A TLS certificate made at run time for the test host names, so the origin table can compare
 * `http://www.example.test:P` with `https://www.example.test:P`. Only the test browsers accept it
 * (engines launched with `ignoreTlsErrors`); nothing on the machine trusts it. `selfsigned` makes
 * it with WebCrypto keys — a maintained library instead of hand-built ASN.1.
 */
import { generate } from 'selfsigned';

export interface TestCertificate {
  key: string;
  cert: string;
}

export async function makeTestCertificate(hosts: readonly string[]): Promise<TestCertificate> {
  const pems = await generate([{ name: 'commonName', value: hosts[0] ?? 'corsproof.test' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    days: 2,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...hosts.map((h) => ({ type: 2 as const, value: h })), { type: 7 as const, ip: '127.0.0.1' }] },
    ],
  } as Parameters<typeof generate>[1]);
  return { key: pems.private, cert: pems.cert };
}

const made = new Map<string, Promise<TestCertificate>>();

/**
 * The worker's certificate for these names, made once: the engine is launched trusting it
 * (Chromium: by its public key, engines/playwright.ts) before the servers that present it start.
 */
export function testCertificate(hosts: readonly string[]): Promise<TestCertificate> {
  const key = [...new Set(hosts)].sort().join(',');
  let cert = made.get(key);
  if (!cert) {
    cert = makeTestCertificate(key.split(','));
    made.set(key, cert);
  }
  return cert;
}

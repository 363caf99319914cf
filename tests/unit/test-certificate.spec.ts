/**
 * The run's TLS certificate for test host names (harness/tls.ts): valid for those names for 30 days,
 * kept in the cache for the next run, replaced a day before it ends or when the file is not one.
 */
import { test, expect } from '@playwright/test';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { cachedTestCertificate } from '../../harness/tls.js';

const DAY = 24 * 3600 * 1000;
let root: string;
test.beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'corsproof-cert-'));
});
test.afterEach(() => rmSync(root, { recursive: true, force: true }));

test('a certificate is made for the names, valid for 30 days, and the next run reads it from the cache', async () => {
  const first = await cachedTestCertificate(['s3.example.test', 'app.example.com'], root);
  const x = new X509Certificate(first.cert);
  expect(x.checkHost('app.example.com')).toBe('app.example.com');
  expect(x.checkHost('s3.example.test')).toBe('s3.example.test');
  expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
  const days = (Date.parse(x.validTo) - Date.now()) / DAY;
  expect(days).toBeGreaterThan(29);
  expect(days).toBeLessThan(31);
  const [file] = readdirSync(root);
  expect(statSync(join(root, file!)).mode & 0o077).toBe(0);
  // The same names in another order: the cached one.
  expect(await cachedTestCertificate(['app.example.com', 's3.example.test'], root)).toEqual(first);
  // Other names: another certificate.
  expect((await cachedTestCertificate(['app.example.com'], root)).cert).not.toBe(first.cert);
});

test('a cached certificate that ends within a day, or a file that is not one, is replaced', async () => {
  const names = ['app.example.com'];
  const first = await cachedTestCertificate(names, root);
  const [file] = readdirSync(root);
  const ending = await generate([{ name: 'commonName', value: 'app.example.com' }], { keyType: 'ec', curve: 'P-256', notAfterDate: new Date(Date.now() + DAY / 2) });
  writeFileSync(join(root, file!), JSON.stringify({ names: 'app.example.com', key: ending.private, cert: ending.cert }));
  const renewed = await cachedTestCertificate(names, root);
  expect(renewed.cert).not.toBe(ending.cert);
  expect(renewed.cert).not.toBe(first.cert);
  expect(Date.parse(new X509Certificate(renewed.cert).validTo) - Date.now()).toBeGreaterThan(29 * DAY);
  writeFileSync(join(root, file!), '{"names": "app.example.com", "key": "k", "cert": "not a certificate"}');
  expect((await cachedTestCertificate(names, root)).cert).toContain('BEGIN CERTIFICATE');
});

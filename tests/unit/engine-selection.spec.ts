/**
 * Which engine build runs: Playwright's own where installed, the system's otherwise, overridable
 * from .env — decided by a pure function so both sides are tested on any machine.
 */
import { test, expect } from '@playwright/test';
import { createRequire } from 'node:module';
import { chooseEngine, SYSTEM_CANDIDATES, type Probe } from '../../engines/select.js';
import { FIREFOX_PROCESS_PREFS, launchOptionsFor, PLAYWRIGHT_PIN, spkiHash } from '../../engines/playwright.js';
import type { EngineName } from '../../engines/types.js';

function probe(opts: { bundled?: Partial<Record<EngineName, string>>; files?: string[] }): Probe {
  const files = new Set(opts.files ?? []);
  return { bundledPath: (e) => opts.bundled?.[e], exists: (p) => files.has(p) };
}

const PW_CHROMIUM = '/home/u/.cache/ms-playwright/chromium-1248/chrome-linux/chrome';

test.describe('chooseEngine', () => {
  test('should prefer Playwright’s own Chromium when it is installed', () => {
    const s = chooseEngine('chromium', {}, probe({ bundled: { chromium: PW_CHROMIUM }, files: ['/usr/bin/chromium'] }));
    expect(s).toEqual({
      ok: true,
      choice: { engine: 'chromium', source: 'bundled', path: PW_CHROMIUM, driver: 'playwright', product: 'Chromium' },
    });
    // …and launch it exactly as Playwright would, with no executablePath or channel.
    if (s.ok) expect(launchOptionsFor(s.choice)).toEqual({});
  });

  test('should fall back to the system Chromium over CDP with its executablePath', () => {
    const s = chooseEngine('chromium', {}, probe({ files: ['/usr/bin/chromium'] }));
    expect(s.ok && s.choice).toMatchObject({ source: 'system', path: '/usr/bin/chromium', driver: 'playwright' });
    if (s.ok) expect(launchOptionsFor(s.choice)).toMatchObject({ executablePath: '/usr/bin/chromium' });
    if (s.ok) {
      expect(launchOptionsFor(s.choice, ['www.example.test']).args).toContain('--host-resolver-rules=MAP www.example.test 127.0.0.1');
      // A chosen page origin goes through the proxy; the other test hosts bypass it.
      expect(launchOptionsFor(s.choice, ['www.example.test', 'app.shop.test'], 'http://127.0.0.1:4000', 'app.shop.test').proxy).toEqual({
        server: 'http://127.0.0.1:4000',
        bypass: 'www.example.test',
      });
    }
  });

  test('should prefer the system Chromium’s headless shell to the whole browser, and launch it without the browser-UI switches', () => {
    const both = probe({ files: ['/usr/bin/chromium', '/usr/bin/chromium-headless-shell'] });
    const s = chooseEngine('chromium', {}, both);
    expect(s.ok && s.choice).toEqual({ engine: 'chromium', source: 'system', path: '/usr/bin/chromium-headless-shell', driver: 'playwright', product: 'Chromium headless shell' });
    if (s.ok) {
      const options = launchOptionsFor(s.choice, ['www.example.test']);
      expect(options.executablePath).toBe('/usr/bin/chromium-headless-shell');
      expect(options.ignoreDefaultArgs).toBeUndefined();
      expect(options.args).toContain('--host-resolver-rules=MAP www.example.test 127.0.0.1');
      expect(options.args?.filter((a) => a.startsWith('--disable-features='))).toEqual([]);
    }
    // The whole browser is still chosen when it is the only one, or when named.
    const whole = chooseEngine('chromium', { CORSPROOF_CHROMIUM_PATH: '/usr/bin/chromium' }, both);
    expect(whole.ok && whole.choice).toMatchObject({ path: '/usr/bin/chromium', product: 'Chromium' });
    if (whole.ok) expect(launchOptionsFor(whole.choice).args?.filter((a) => a.startsWith('--disable-features='))).toHaveLength(1);
  });

  test('should make Chromium trust the run’s test certificate by its public key (so it keeps its HTTP cache)', async () => {
    const s = chooseEngine('chromium', {}, probe({ files: ['/usr/bin/chromium'] }));
    const { testCertificate } = await import('../../harness/tls.js');
    const { cert } = await testCertificate(['app.shop.test']);
    const { X509Certificate, createHash } = await import('node:crypto');
    const expected = createHash('sha256').update(new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    expect(spkiHash(cert)).toBe(expected);
    if (s.ok) expect(launchOptionsFor(s.choice, [], undefined, undefined, cert).args).toContain(`--ignore-certificate-errors-spki-list=${expected}`);
  });

  test('should drive a system Firefox ESR over WebDriver BiDi (channel moz-firefox)', () => {
    const s = chooseEngine('firefox', {}, probe({ files: ['/usr/bin/firefox-esr'] }));
    expect(s.ok && s.choice).toMatchObject({ source: 'system', driver: 'playwright-bidi', product: 'Firefox ESR' });
    // Fewer processes (no spare, no preloaded new tab, no per-site split), whatever else is asked.
    if (s.ok) expect(launchOptionsFor(s.choice)).toEqual({ channel: 'moz-firefox', executablePath: '/usr/bin/firefox-esr', firefoxUserPrefs: FIREFOX_PROCESS_PREFS });
    if (s.ok) {
      expect(launchOptionsFor(s.choice, ['www.example.test', 'other.example.test']).firefoxUserPrefs).toEqual({
        'network.dns.localDomains': 'www.example.test,other.example.test',
        ...FIREFOX_PROCESS_PREFS,
      });
      // A page host routed through the proxy is no "local domain" (Firefox never proxies those).
      expect(launchOptionsFor(s.choice, ['www.example.test', 'app.shop.test'], 'http://127.0.0.1:4000', 'app.shop.test').firefoxUserPrefs).toEqual({
        'network.dns.localDomains': 'www.example.test',
        'network.proxy.type': 1,
        'network.proxy.http': '127.0.0.1',
        'network.proxy.http_port': 4000,
        'network.proxy.ssl': '127.0.0.1',
        'network.proxy.ssl_port': 4000,
        'network.proxy.no_proxies_on': 'localhost, 127.0.0.1, www.example.test',
        ...FIREFOX_PROCESS_PREFS,
      });
    }
  });

  test('should drive the system WebKitGTK with the MiniBrowser driver', () => {
    const mb = SYSTEM_CANDIDATES.webkit[0]!;
    const s = chooseEngine('webkit', {}, probe({ files: [mb] }));
    expect(s.ok && s.choice).toMatchObject({ source: 'system', path: mb, driver: 'minibrowser', product: 'WebKitGTK' });
    if (s.ok) expect(() => launchOptionsFor(s.choice)).toThrow(/not a Playwright driver/);
  });

  test('should use the system engine when CORSPROOF_BROWSERS=system even if Playwright’s is installed', () => {
    const s = chooseEngine('chromium', { CORSPROOF_BROWSERS: 'system' }, probe({ bundled: { chromium: PW_CHROMIUM }, files: ['/usr/bin/chromium'] }));
    expect(s.ok && s.choice.source).toBe('system');
  });

  test('should refuse CORSPROOF_BROWSERS=bundled when Playwright’s build is missing, naming the install command', () => {
    const s = chooseEngine('firefox', { CORSPROOF_BROWSERS: 'bundled' }, probe({ files: ['/usr/bin/firefox-esr'] }));
    expect(s).toEqual({ ok: false, message: expect.stringContaining('npx playwright install --with-deps firefox') });
  });

  test('should take an explicit path from CORSPROOF_<ENGINE>_PATH over everything else', () => {
    const s = chooseEngine('chromium', { CORSPROOF_CHROMIUM_PATH: '/opt/chromium/chrome' }, probe({ bundled: { chromium: PW_CHROMIUM }, files: ['/opt/chromium/chrome'] }));
    expect(s.ok && s.choice).toMatchObject({ source: 'system', path: '/opt/chromium/chrome' });
  });

  test('should say what to install when no engine exists, never pretend one does', () => {
    const s = chooseEngine('webkit', {}, probe({}));
    expect(s.ok).toBe(false);
    if (!s.ok) {
      expect(s.message).toContain('apt-get install -y libwebkit2gtk-4.1-0 xvfb x11-apps');
      expect(s.message).toContain('npx playwright install --with-deps webkit');
    }
  });

  test('should reject an unknown CORSPROOF_BROWSERS value', () => {
    const s = chooseEngine('chromium', { CORSPROOF_BROWSERS: 'sometimes' }, probe({ files: ['/usr/bin/chromium'] }));
    expect(s).toEqual({ ok: false, message: expect.stringContaining('auto, bundled or system') });
  });
});

test('Playwright stays on the 1.64 line that drives system Firefox over BiDi (see engines/playwright.ts)', () => {
  const require = createRequire(import.meta.url);
  const { version } = require('@playwright/test/package.json') as { version: string };
  expect(version.startsWith(PLAYWRIGHT_PIN), `@playwright/test ${version}: 1.65.1 breaks Firefox ESR 153 over BiDi (emulation.setMediaFeaturesOverride)`).toBe(true);
});

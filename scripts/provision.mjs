#!/usr/bin/env node
// Provisions what corsproof's commands need, on first use and idempotently:
//   1. npm packages (npm ci when node_modules is missing or older than package-lock.json);
//   2. the three browser engines: Playwright's own builds where they can be downloaded; otherwise,
//      on Debian/Ubuntu as root, the distribution's packages (chromium-headless-shell and chromium,
//      firefox-esr, WebKitGTK's MiniBrowser + Xvfb); otherwise a message listing exactly what to
//      install;
//   3. tools the tests use: the AWS CLI (a real S3 client for the bucket server's tests);
//   4. with --stores (npm test): the S3-compatible stores the suite runs itself — Ceph RGW from
//      Debian's packages (radosgw ceph-mon ceph-osd ceph-common, without recommends), the same way:
//      apt as root on Debian/Ubuntu, otherwise a message saying exactly what to install.
// Plain Node (no dependencies) for step 1; steps 2–4 reuse engines/select.ts and stores/ through tsx.
//
// The installed package runs this same file from dist/scripts/ (`corsproof provision`, and
// `corsproof check` when an engine is missing): there step 1 is npm's business (the user's project
// installed corsproof), step 2 reads the compiled engines/select.js, and step 3 is skipped (the AWS
// CLI is for corsproof's own tests).
//
// Environment: CORSPROOF_BROWSERS=auto|bundled|system (see .env.example), CORSPROOF_SKIP_PROVISION=1
// to do nothing (for machines provisioned some other way).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The installed package (dist/scripts/provision.mjs next to compiled engines), not a clone. */
const compiled = existsSync(join(root, 'engines', 'select.js'));
const log = (msg) => console.log(`[provision] ${msg}`);

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  return r.status === 0;
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

if (process.env.CORSPROOF_SKIP_PROVISION === '1') {
  log('CORSPROOF_SKIP_PROVISION=1: skipping');
  process.exit(0);
}

// 1. npm packages
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
if (!compiled && (!existsSync(installed) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs))) {
  if (!run('npm', existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'])) {
    console.error('[provision] npm could not install the packages; see the output above.');
    process.exit(1);
  }
}

// 2. engines
if (!compiled) (await import('tsx/esm/api')).register();
const ext = compiled ? 'js' : 'ts';
const { chooseEngine, INSTALL_HINT } = await import(`../engines/select.${ext}`);
const { realProbe } = await import(`../engines/index.${ext}`);
const { ENGINE_NAMES } = await import(`../engines/types.${ext}`);

const env = process.env;
const missing = () => ENGINE_NAMES.filter((e) => !chooseEngine(e, env, realProbe).ok);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const canApt = isRoot && have('apt-get') && have('dpkg');
const APT_PACKAGES = {
  // The headless shell runs (engines/select.ts); the whole browser is there for those who choose it
  // (CORSPROOF_CHROMIUM_PATH=/usr/bin/chromium) and for the test of what corsproof turns off in it.
  chromium: ['chromium-headless-shell', 'chromium'],
  firefox: ['firefox-esr'],
  webkit: ['libwebkit2gtk-4.1-0', 'xvfb', 'x11-apps'],
};
let aptUpdated = false;
function aptInstall(packages, extra = []) {
  if (!aptUpdated) {
    run('apt-get', ['update', '-qq']);
    aptUpdated = true;
  }
  return run('apt-get', ['install', '-y', '-qq', ...extra, ...packages], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

let todo = missing();
const mode = (env.CORSPROOF_BROWSERS ?? 'auto').toLowerCase();
if (todo.length && mode !== 'system') {
  log(`no usable ${todo.join(', ')}; trying Playwright's own builds`);
  // Playwright's own command line, wherever npm put @playwright/test (hoisted in a user's project).
  const cli = createRequire(join(root, 'package.json')).resolve('@playwright/test/cli');
  run(process.execPath, [cli, 'install', ...todo]);
  todo = missing();
}
if (todo.length && mode !== 'bundled' && canApt) {
  log(`Playwright's builds are not available for ${todo.join(', ')}; installing the Debian packages`);
  aptInstall(todo.flatMap((e) => APT_PACKAGES[e]));
  todo = missing();
}
// The system WebKit driver also needs Xvfb (its display) and xwd (its screenshots).
const webkit = chooseEngine('webkit', env, realProbe);
if (webkit.ok && webkit.choice.driver === 'minibrowser' && (!have('Xvfb') || !have('xwd'))) {
  if (canApt) aptInstall(['xvfb', 'x11-apps']);
  if (!have('Xvfb')) todo.push('webkit (Xvfb: apt-get install -y xvfb)');
  if (!have('xwd')) todo.push('webkit (xwd: apt-get install -y x11-apps)');
}

for (const e of ENGINE_NAMES) {
  const s = chooseEngine(e, env, realProbe);
  log(s.ok ? `${e}: ${s.choice.product} (${s.choice.source}, ${s.choice.path}, driver ${s.choice.driver})` : `${e}: MISSING — ${s.message}`);
}

// 3. tools
if (!compiled && !have('aws')) {
  if (canApt) aptInstall(['awscli']);
  if (!have('aws')) log('the AWS CLI is missing (the bucket server tests use it): install `awscli` (apt) or AWS CLI v2');
}

// 4. stores (npm test runs the matrix against a local Ceph RGW: the rgw-* projects)
if (process.argv.includes('--stores')) {
  const { rgwMissing, RGW_PACKAGES, RGW_INSTALL_HINT } = await import('../stores/ceph-rgw.ts');
  if (rgwMissing().binaries.length && canApt) {
    log('Ceph RGW is not installed; installing the Debian packages');
    aptInstall([...RGW_PACKAGES], ['--no-install-recommends']);
  }
  const m = rgwMissing();
  if (m.binaries.length) {
    log(`ceph-rgw: MISSING — ${m.binaries.join(', ')} (packages ${m.packages.join(', ')}). Install: ${RGW_INSTALL_HINT}`);
    todo.push('ceph-rgw');
  } else {
    log('ceph-rgw: radosgw, ceph-mon, ceph-osd, ceph (the rgw-* projects start a one-node cluster per run)');
  }
}

if (todo.length) {
  console.error(
    `[provision] cannot provide: ${todo.join(', ')}. Install:\n` +
      todo.map((e) => `  - ${e}${INSTALL_HINT[e] ? `: ${INSTALL_HINT[e]}` : e === 'ceph-rgw' ? ': apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd ceph-common' : ''}`).join('\n') +
      '\nThe tests of a missing engine or store will fail with this message; they are never skipped.',
  );
  // `corsproof provision` ends non-zero then (a CI step should stop); `npm test` goes on, and the
  // missing engine's tests fail with the message above.
  if (process.env.CORSPROOF_PROVISION_STRICT === '1') process.exit(1);
}

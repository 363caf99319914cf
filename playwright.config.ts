/**
 * corsproof's Playwright configuration.
 *
 * Projects `chromium`, `firefox`, `webkit` run the browser suite (tests/browser) each in a real
 * engine; which build runs — Playwright's own or the system's — is decided per worker by
 * engines/select.ts and shown on every test as an `engine` annotation. `unit` and `server` run
 * without a browser.
 *
 * Two environment switches change what the browser projects do:
 * - CORSPROOF_CHECK=<plan.json> (written by `corsproof check`): the matrix suite runs the user's
 *   configuration with the page served from each of the user's origins — one project per engine
 *   and origin, side by side (each engine reaches the origin through its loopback proxy).
 * - CORSPROOF_TARGET=<endpoint> (+ CORSPROOF_TARGET_BUCKET and AWS credentials): the matrix runs
 *   against that real endpoint's bucket, one configuration at a time, so one worker, in order.
 */
import 'dotenv/config';
import { defineConfig, type PlaywrightTestProject } from '@playwright/test';
import { availableParallelism } from 'node:os';
import { CHECK_ENV } from './harness/check-env.js';

type EngineName = 'chromium' | 'firefox' | 'webkit';
const ENGINES: EngineName[] = ['chromium', 'firefox', 'webkit'];
// Only a `corsproof check` run loads the plan (and the schema and oracle behind it): every other
// run starts without them.
const checkPlan = process.env[CHECK_ENV] ? await import('./harness/check-plan.js') : undefined;
const plan = checkPlan?.loadCheckPlan();
// The AWS SDK warns on every Node 20 process that releases after January 2027 will need Node 22;
// package-lock.json pins the release corsproof was tested with, so the warning is only noise here.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
const remote = !!process.env['CORSPROOF_TARGET'];
/** Where results go (default: the project folder). A run started inside another run sets its own. */
const out = process.env['CORSPROOF_OUTPUT_DIR'] ?? '.';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `.ts` in the clone; `.js` in the installed package, where this file is compiled (dist/). */
const ext = import.meta.url.endsWith('.js') ? '.js' : '.ts';

function browserProjects(): PlaywrightTestProject[] {
  // Cases, not files, are the unit of parallelism and of sharding (the matrix is one spec file);
  // each worker has its own servers and engine, so any case can run in any worker.
  if (!plan) {
    return [
      ...ENGINES.map((name) => ({ name, testDir: 'tests/browser', fullyParallel: !remote, use: { browserName: name } })),
      // The matrix against the run's own Ceph RGW (started once per run, stopped by the run), held
      // to its profile fixtures/stores/ceph-rgw.json; a bucket per configuration, so in parallel.
      ...ENGINES.map((name) => ({ name: `rgw-${name}`, testDir: 'tests/browser', testMatch: `verdicts.spec${ext}`, fullyParallel: true, use: { browserName: name, store: 'ceph-rgw' as const } })),
    ];
  }
  return plan.origins.flatMap((origin) =>
    ENGINES.map((name) => ({
      name: plan.origins.length === 1 ? name : `${name} ${origin}`,
      testDir: 'tests/browser',
      testMatch: `verdicts.spec${ext}`,
      grep: new RegExp(escape(checkPlan!.originTag(origin))),
      use: { browserName: name, pageOrigin: origin },
    })),
  );
}

export default defineConfig({
  outputDir: `${out}/test-results/artifacts`,
  // Opens the run's store directory; stores (Ceph RGW) start in the first worker that needs one and
  // this setup's teardown stops them — after a pass, a failure, a timeout or Ctrl-C (stores/run.ts).
  globalSetup: `./stores/global-setup${ext}`,
  forbidOnly: !!process.env.CI,
  // Each worker launches its own engines and servers; two cores here, so two workers. A check runs
  // its engines side by side, three at a time on a small machine (a launch is partly waiting; six
  // engines starting at once on two cores made MiniBrowser's start fail); a remote target one
  // configuration at a time.
  workers: remote ? 1 : plan ? Math.min(plan.origins.length * ENGINES.length, Math.max(3, availableParallelism())) : process.env.CI ? 2 : undefined,
  reporter: [
    ['list'],
    [`./harness/engines-reporter${ext}`],
    ['json', { outputFile: `${out}/test-results/results.json` }],
    ['html', { open: 'never', outputFolder: `${out}/playwright-report` }],
    // After 'html', so its copy of cors-matrix.html lands next to the finished report.
    [`./harness/matrix-reporter${ext}`, { outputDir: `${out}/test-results` }],
  ],
  metadata: { 'CORS matrix': 'cors-matrix.html next to this report (also test-results/cors-matrix.{json,md,html})' },
  projects: [
    // Non-browser projects run a file's tests in order (several share a server within a file).
    { name: 'unit', testDir: 'tests/unit', fullyParallel: false },
    { name: 'server', testDir: 'tests/server', fullyParallel: false },
    // Everything that needs the run's Ceph RGW without being the matrix (tests/stores): propagation and
    // replay through the remote-target code, a run held to the store's profile, daemon hygiene.
    { name: 'stores', testDir: 'tests/stores', fullyParallel: false },
    ...browserProjects(),
    // corsproof's commands as a user runs them: check, and the remote-target mode (child processes).
    { name: 'e2e', testDir: 'tests/e2e', fullyParallel: false },
    // corsproof as users install it: npm pack, a fresh project with the tarball, the CLI and the
    // example's tests through corsproof/test in the three engines (tests/package).
    { name: 'package', testDir: 'tests/package', fullyParallel: false },
    // Bad input, load, network exposure, process hygiene, repeat runs, the CI workflow (tests/reliability).
    { name: 'reliability', testDir: 'tests/reliability', fullyParallel: false },
  ],
});

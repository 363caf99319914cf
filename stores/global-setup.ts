/**
 * Playwright global setup: opens the run's store directory (stores/run.ts). Stores themselves start
 * lazily, in the first worker of a project that needs one; the returned teardown — which Playwright
 * also runs after a timeout or Ctrl-C — stops whatever was started.
 */
import { beginRun } from './run.js';

export default async function globalSetup(): Promise<() => Promise<void>> {
  return beginRun((line) => console.log(line));
}

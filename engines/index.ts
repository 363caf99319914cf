import { existsSync } from 'node:fs';
import { chromium, firefox, webkit } from '@playwright/test';
import { startPlaywright } from './playwright.js';
import { chooseEngine, INSTALL_HINT, type Probe, type SelectionEnv } from './select.js';
import type { EngineChoice, EngineName, EngineSession, EngineStart, LaunchContext, PageContext, StartContext } from './types.js';
import { startMiniBrowser } from './webkitgtk.js';

export * from './types.js';
export { chooseEngine } from './select.js';

/** The real filesystem, and Playwright's idea of where its own builds live. */
export const realProbe: Probe = {
  bundledPath(engine: EngineName) {
    const type = { chromium, firefox, webkit }[engine];
    try {
      const p = type.executablePath();
      return p && existsSync(p) ? p : undefined;
    } catch {
      return undefined; // Playwright throws for platforms it has no build for
    }
  },
  exists: (p: string) => existsSync(p),
};

export function resolveEngine(engine: EngineName, env: SelectionEnv = process.env): EngineChoice {
  const s = chooseEngine(engine, env, realProbe);
  if (!s.ok) throw new Error(s.message);
  return s.choice;
}

const couldNotStart = (choice: EngineChoice, e: unknown) =>
  new Error(
    `${choice.engine}: could not start ${choice.product} (${choice.source}, ${choice.path}) via ${choice.driver}: ${e instanceof Error ? e.message : String(e)}\n` +
      `To get a working ${choice.engine}, install ${INSTALL_HINT[choice.engine]}.`,
  );

/**
 * Launches the chosen build without opening its harness page yet (that needs the site server);
 * a failure, now or at `open`, says what was tried and what to install.
 */
export async function startEngine(choice: EngineChoice, ctx: StartContext): Promise<EngineStart> {
  let started: EngineStart;
  try {
    started = choice.driver === 'minibrowser' ? await startMiniBrowser(choice, ctx) : await startPlaywright(choice, ctx);
  } catch (e) {
    throw couldNotStart(choice, e);
  }
  return {
    open: (page: PageContext) => started.open(page).catch((e: unknown) => Promise.reject(couldNotStart(choice, e))),
    abort: () => started.abort(),
  };
}

/** Launches the chosen build and opens its harness page. */
export async function launchEngine(choice: EngineChoice, ctx: LaunchContext): Promise<EngineSession> {
  return (await startEngine(choice, ctx)).open(ctx);
}

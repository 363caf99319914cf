import { existsSync } from 'node:fs';
import { chromium, firefox, webkit } from '@playwright/test';
import { launchPlaywright } from './playwright.js';
import { chooseEngine, INSTALL_HINT, type Probe, type SelectionEnv } from './select.js';
import type { EngineChoice, EngineName, EngineSession, LaunchContext } from './types.js';
import { launchMiniBrowser } from './webkitgtk.js';

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

/** Launches the chosen build; a failure says what was tried and what to install. */
export async function launchEngine(choice: EngineChoice, ctx: LaunchContext): Promise<EngineSession> {
  try {
    return choice.driver === 'minibrowser' ? await launchMiniBrowser(choice, ctx) : await launchPlaywright(choice, ctx);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(
      `${choice.engine}: could not start ${choice.product} (${choice.source}, ${choice.path}) via ${choice.driver}: ${msg}\n` +
        `To get a working ${choice.engine}, install ${INSTALL_HINT[choice.engine]}.`,
    );
  }
}

/**
 * The environment variable through which `corsproof check` hands its plan file to the Playwright
 * run (harness/check-plan.ts reads it). A module of its own so playwright.config.ts can test for it
 * without loading the plan's schema and the oracle on every run.
 */
export const CHECK_ENV = 'CORSPROOF_CHECK';

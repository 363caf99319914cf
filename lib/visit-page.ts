/**
 * What `corsproof.visit()` runs inside the user's page, as plain JavaScript text (never a
 * stringified TypeScript function: loaders that rename functions would break it in the browser).
 *
 * - UNTIL_MET: the condition that ends a visit, evaluated in the page by every engine (Playwright's
 *   `waitForFunction` on Chromium, Firefox and Playwright's WebKit; the agent below on WebKitGTK).
 * - agentScript(): for WebKitGTK's MiniBrowser, which has no script channel. corsproof's proxy adds
 *   this script and corsproof's runner (servers/site/public/runner.js) to the visited document; the
 *   agent performs the visit's actions with DOM calls, waits for the condition and then sets
 *   `<html data-loaded>`, which is what the runner waits for before it reports the page's text
 *   back over the site server's control channel (engines/webkitgtk.ts).
 */

/** Text that appears in the page: a string (substring) or a regular expression. */
export type TextMatcher = string | RegExp;

export interface Until {
  /** The page's visible text contains this string or matches this expression. */
  text?: TextMatcher;
  /** An element matches this CSS selector. */
  selector?: string;
}

/** A file for an `<input type=file>`. */
export interface InputFile {
  name: string;
  mimeType: string;
  content: string | Uint8Array;
}

/** What the visit does in the page once it has loaded, in order. */
export type VisitAction =
  | { setInputFiles: string; files: InputFile[] }
  | { fill: string; value: string }
  | { click: string };

/** The serializable form handed to the page. */
export interface WireUntil {
  text?: { source: string; flags: string; literal: boolean };
  selector?: string;
}

export function wireUntil(u: Until | undefined): WireUntil {
  const out: WireUntil = {};
  if (u?.text !== undefined) {
    out.text = typeof u.text === 'string' ? { source: u.text, flags: '', literal: true } : { source: u.text.source, flags: u.text.flags, literal: false };
  }
  if (u?.selector !== undefined) out.selector = u.selector;
  return out;
}

/** `function (until) → boolean`, evaluated in the page. */
export const UNTIL_MET = `function (u) {
  if (u.selector && !document.querySelector(u.selector)) return false;
  if (u.text) {
    var text = document.body ? document.body.innerText : '';
    if (u.text.literal ? text.indexOf(u.text.source) < 0 : !new RegExp(u.text.source, u.text.flags).test(text)) return false;
  }
  return true;
}`;

type WireAction =
  | { setInputFiles: string; files: Array<{ name: string; mimeType: string; base64: string }> }
  | { fill: string; value: string }
  | { click: string };

export function wireActions(actions: readonly VisitAction[]): WireAction[] {
  return actions.map((a) => {
    if ('setInputFiles' in a) {
      return {
        setInputFiles: a.setInputFiles,
        files: a.files.map((f) => ({ name: f.name, mimeType: f.mimeType, base64: Buffer.from(f.content).toString('base64') })),
      };
    }
    return a;
  });
}

/** The agent for one MiniBrowser visit: its actions, condition and time limit are baked in. */
export function agentScript(plan: { actions: WireAction[]; until: WireUntil; timeoutMs: number }): string {
  return `// corsproof visit agent (corsproof/test on WebKitGTK MiniBrowser)
(function () {
  'use strict';
  var plan = ${JSON.stringify(plan)};
  var untilMet = ${UNTIL_MET};
  var deadline = Date.now() + plan.timeoutMs;
  function finish(state) { document.documentElement.dataset.loaded = state; }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  async function element(selector) {
    for (;;) {
      var el = document.querySelector(selector);
      if (el) return el;
      if (Date.now() > deadline) throw new Error('no element matches ' + selector);
      await sleep(25);
    }
  }
  function fire(el, type) { el.dispatchEvent(new Event(type, { bubbles: true })); }
  async function act(a) {
    if (a.setInputFiles !== undefined) {
      var input = await element(a.setInputFiles);
      var dt = new DataTransfer();
      a.files.forEach(function (f) {
        var bin = atob(f.base64);
        var bytes = new Uint8Array(bin.length);
        for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        dt.items.add(new File([bytes], f.name, { type: f.mimeType }));
      });
      input.files = dt.files;
      fire(input, 'input');
      fire(input, 'change');
    } else if (a.fill !== undefined) {
      var field = await element(a.fill);
      field.value = a.value;
      fire(field, 'input');
      fire(field, 'change');
    } else if (a.click !== undefined) {
      (await element(a.click)).click();
    }
  }
  async function main() {
    if (document.readyState !== 'complete') await new Promise(function (r) { addEventListener('load', r, { once: true }); });
    for (var i = 0; i < plan.actions.length; i++) await act(plan.actions[i]);
    for (;;) {
      if (untilMet(plan.until)) return finish('done');
      if (Date.now() > deadline) return finish('timeout');
      await sleep(25);
    }
  }
  main().catch(function (e) { finish('error: ' + (e && e.message ? e.message : String(e))); });
})();
`;
}

/** The visited document with the runner and the agent added as early as possible. */
export function injectScripts(html: string, srcs: readonly string[]): string {
  const tags = srcs.map((s) => `<script src="${s}"></script>`).join('');
  const head = /<head\b[^>]*>/i.exec(html);
  if (head) return html.slice(0, head.index + head[0].length) + tags + html.slice(head.index + head[0].length);
  const root = /<html\b[^>]*>/i.exec(html);
  if (root) return html.slice(0, root.index + root[0].length) + tags + html.slice(root.index + root[0].length);
  return tags + html;
}

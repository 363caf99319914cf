// corsproof in-page case runner. Plain JavaScript, no build step: the same file runs in Chromium,
// Firefox and WebKit. Playwright-driven engines call window.corsproof.run(spec) through
// page.evaluate; the WebKitGTK driver has no script channel, so this page fetches its commands from
// the site server (same origin, long poll) and posts the outcomes back (see engines/webkitgtk.ts).
//
// Every case is bracketed by console lines "corsproof:case-begin:<id>" and "corsproof:case-end:<id>"
// so the engine's own CORS messages, which arrive on the console (or as page errors) while the case
// runs, can be assigned to the case that caused them.
(function () {
  'use strict';

  const MARK_BEGIN = 'corsproof:case-begin:';
  const MARK_END = 'corsproof:case-end:';

  function headersToObject(headers) {
    const out = {};
    headers.forEach(function (value, name) { out[name] = value; });
    return out;
  }

  function errorInfo(e) {
    return { errorName: (e && e.name) || 'Error', errorMessage: String((e && e.message) || e) };
  }

  // Lets late console lines of the engine (logged while the failed load is torn down) land before
  // the end marker: two macrotask turns are enough in all three engines.
  function settle() {
    return new Promise(function (r) { setTimeout(function () { setTimeout(r, 0); }, 0); });
  }

  // Every step kind is fn(step, signal): `signal` aborts when the case runs out of time, so nothing
  // of a timed-out case is still in flight (or printing) while the next case runs.
  async function runFetch(step, signal) {
    // no-store by default: nothing may come from the HTTP cache. It also bypasses the preflight
    // cache in Chromium and Firefox (measured), so the cache probe asks for cache mode "default".
    const init = { method: step.method || 'GET', headers: step.headers || {}, cache: step.cache || 'no-store', signal: signal };
    if (step.body !== undefined) init.body = step.body;
    if (step.credentials) init.credentials = step.credentials;
    if (step.mode) init.mode = step.mode;
    const t0 = performance.now();
    try {
      const r = await fetch(step.url, init);
      let body = '';
      try { body = await r.text(); } catch (e) { body = ''; }
      return {
        settled: 'response', status: r.status, type: r.type, ok: r.ok,
        readableHeaders: headersToObject(r.headers),
        bodyPreview: body.slice(0, 500), bodyLength: body.length,
        durationMs: performance.now() - t0,
      };
    } catch (e) {
      return Object.assign({ settled: 'error', durationMs: performance.now() - t0 }, errorInfo(e));
    }
  }

  function runXhr(step, signal) {
    return new Promise(function (resolve) {
      const t0 = performance.now();
      const xhr = new XMLHttpRequest();
      if (signal) signal.addEventListener('abort', function () { xhr.abort(); });
      xhr.onabort = function () {
        resolve({ settled: 'error', errorName: 'AbortError', errorMessage: 'aborted', durationMs: performance.now() - t0 });
      };
      xhr.open(step.method || 'GET', step.url, true);
      if (step.credentials === 'include') xhr.withCredentials = true;
      const h = step.headers || {};
      Object.keys(h).forEach(function (k) { xhr.setRequestHeader(k, h[k]); });
      xhr.onload = function () {
        const readable = {};
        xhr.getAllResponseHeaders().trim().split(/\r?\n/).forEach(function (line) {
          const i = line.indexOf(':');
          if (i > 0) readable[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        });
        const body = xhr.responseText || '';
        resolve({
          settled: 'response', status: xhr.status, type: 'xhr', ok: xhr.status >= 200 && xhr.status < 300,
          readableHeaders: readable, bodyPreview: body.slice(0, 500), bodyLength: body.length,
          durationMs: performance.now() - t0,
        });
      };
      xhr.onerror = function () {
        // XHR gives no error object: status 0 and an "error" event is all a page learns.
        resolve({ settled: 'error', errorName: 'XMLHttpRequest error event', errorMessage: 'status ' + xhr.status,
          status: xhr.status, durationMs: performance.now() - t0 });
      };
      xhr.send(step.body === undefined ? null : step.body);
    });
  }

  function runImg(step, signal) {
    return new Promise(function (resolve) {
      const t0 = performance.now();
      const img = new Image();
      if (signal) signal.addEventListener('abort', function () {
        img.removeAttribute('src');
        resolve({ settled: 'error', errorName: 'AbortError', errorMessage: 'aborted', durationMs: performance.now() - t0 });
      });
      if (step.crossorigin) img.crossOrigin = step.crossorigin;
      img.onload = function () {
        resolve({ settled: 'response', type: step.crossorigin ? 'cors' : 'opaque', ok: true,
          bodyPreview: img.naturalWidth + 'x' + img.naturalHeight, durationMs: performance.now() - t0 });
      };
      img.onerror = function () {
        // An <img> error cannot tell CORS from 404 or DNS; the engine's message and the server record can.
        resolve({ settled: 'error', errorName: 'img error event', errorMessage: 'the image did not load',
          durationMs: performance.now() - t0 });
      };
      img.src = step.url;
      document.getElementById('out').appendChild(img);
    });
  }

  // The seed note's walkthrough: fetch an HTML fragment from the other origin and insert it.
  async function runFragment(step, signal) {
    const r = await runFetch(step, signal);
    if (r.settled === 'response') {
      const div = document.createElement('div');
      div.className = 'fragment';
      div.innerHTML = r.bodyPreview;
      document.getElementById('out').appendChild(div);
      r.inserted = div.textContent.trim();
    }
    return r;
  }

  // Real client code (the AWS SDK, presigned uploads): servers/site/sdk/flows.ts, bundled at run time
  // and loaded on the first flow step only, so pages that run no flow never pay for it.
  let flowsLoaded;
  function loadFlows() {
    flowsLoaded = flowsLoaded || new Promise(function (resolve, reject) {
      const s = document.createElement('script');
      s.src = '/__corsproof/sdk/flows.js'; // the harness page's own origin serves it
      s.onload = function () { resolve(window.corsproofFlows); };
      s.onerror = function () { flowsLoaded = undefined; reject(new Error('corsproof runner: could not load ' + s.src)); };
      document.head.appendChild(s);
    });
    return flowsLoaded;
  }

  async function runFlow(step, signal) {
    const flows = await loadFlows();
    const fn = flows[step.flow];
    if (!fn) throw new Error('corsproof runner: unknown flow ' + step.flow);
    return fn(step, signal);
  }

  const kinds = { fetch: runFetch, xhr: runXhr, img: runImg, fragment: runFragment, flow: runFlow };

  function describeStep(step, i, n) {
    const what = step.kind === 'img' ? 'the image ' + step.url
      : step.kind === 'flow' ? 'flow ' + step.flow
      : (step.method || 'GET') + ' ' + step.url;
    return 'step ' + (i + 1) + ' of ' + n + ' (' + step.kind + '): ' + what;
  }

  // One case: its steps in order, bracketed by the case markers. A case that has not finished
  // within timeoutMs is aborted (its requests cancelled) and reported as a harness error naming
  // the step it was waiting for; the next case then runs as usual.
  async function runCase(spec, timeoutMs) {
    console.log(MARK_BEGIN + spec.caseId);
    const steps = [];
    const abort = new AbortController();
    let current = 'the first step';
    let timer;
    const work = (async function () {
      for (let i = 0; i < spec.steps.length; i++) {
        const step = spec.steps[i];
        const fn = kinds[step.kind];
        if (!fn) throw new Error('corsproof runner: unknown step kind ' + step.kind);
        current = describeStep(step, i, spec.steps.length);
        const outcome = await fn(step, abort.signal);
        if (abort.signal.aborted) return;
        steps.push(outcome);
      }
    })();
    const timedOut = new Promise(function (resolve) {
      timer = setTimeout(function () { resolve(true); }, timeoutMs || 15000);
    });
    try {
      if (await Promise.race([work.then(function () { return false; }), timedOut])) {
        abort.abort();
        steps.push({ settled: 'harness-error', errorName: 'CaseTimeout', timedOut: true,
          errorMessage: 'case ' + spec.caseId + ' did not finish within ' + timeoutMs + ' ms: it was waiting for ' + current,
          durationMs: timeoutMs });
        // Let the aborted request wind down (bounded: a step that ignores the signal cannot hold the batch).
        await Promise.race([work.catch(function () {}), new Promise(function (r) { setTimeout(r, 1000); })]);
      }
    } catch (e) {
      steps.push(Object.assign({ settled: 'harness-error' }, errorInfo(e)));
    } finally {
      clearTimeout(timer);
    }
    await settle();
    console.log(MARK_END + spec.caseId);
    return { caseId: spec.caseId, steps: steps, userAgent: navigator.userAgent };
  }

  function run(spec, timeoutMs) {
    return runCase(spec, timeoutMs);
  }

  // Many cases in one round trip from the harness: one after the other, never overlapping, so every
  // engine message lands between the markers of the case that caused it.
  async function runBatch(specs, caseTimeoutMs) {
    const results = [];
    for (const spec of specs) results.push(await runCase(spec, caseTimeoutMs));
    return results;
  }

  // A visited page (a walkthrough's own page, not the harness page) says it is done by setting
  // <html data-loaded="…">; until then the runner waits.
  function pageState(timeoutMs) {
    return new Promise(function (resolve) {
      const t0 = Date.now();
      (function poll() {
        const state = document.documentElement.dataset.loaded;
        if (state || Date.now() - t0 > timeoutMs) {
          resolve({ state: state || 'timeout', text: document.body ? document.body.innerText : '' });
        } else {
          setTimeout(poll, 20);
        }
      })();
    });
  }

  window.corsproof = { run: run, runBatch: runBatch, kinds: kinds, pageState: pageState, ready: true };

  // Remote-control mode (engines without a script channel). The harness page is opened with
  // ?session=<id>; a visited page carries #corsproof-session=<id>&corsproof-case=<id> and loads this
  // script from the site server, so the channel lives at this script's own origin.
  const script = document.currentScript;
  const controlOrigin = script && script.src ? new URL(script.src).origin : location.origin;
  const hash = new URLSearchParams(location.hash.slice(1));
  const session = new URLSearchParams(location.search).get('session') || hash.get('corsproof-session');
  if (session) {
    const base = controlOrigin + '/__corsproof/control/' + encodeURIComponent(session);
    const post = function (result) {
      // text/plain keeps the post CORS-simple when this page is on another origin.
      return fetch(base + '/result', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(result) })
        .catch(function () {});
    };
    (async function loop() {
      const visited = hash.get('corsproof-case');
      if (visited) {
        const st = await pageState(15000);
        await settle();
        console.log(MARK_END + visited);
        await post({ caseId: visited, visit: st, userAgent: navigator.userAgent });
      }
      for (;;) {
        let cmd;
        try {
          const r = await fetch(base + '/next', { cache: 'no-store' });
          if (r.status === 204) continue; // long-poll timed out, ask again
          if (r.status !== 200) return;   // session closed
          cmd = await r.json();
        } catch (e) {
          await new Promise(function (r) { setTimeout(r, 200); });
          continue;
        }
        if (cmd.kind === 'quit') return;
        if (cmd.kind === 'visit') {
          console.log(MARK_BEGIN + cmd.caseId);
          const u = new URL(cmd.url);
          u.hash = 'corsproof-session=' + encodeURIComponent(session) + '&corsproof-case=' + encodeURIComponent(cmd.caseId);
          location.href = u.href;
          return; // this page is going away; the visited page continues the loop
        }
        if (cmd.kind === 'batch') await post({ batch: await runBatch(cmd.specs, cmd.caseTimeoutMs) });
        else await post(await run(cmd.spec, cmd.timeoutMs));
      }
    })();
  }
})();

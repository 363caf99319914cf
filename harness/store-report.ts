/**
 * The stores' part of the matrix report (harness/matrix-reporter.ts): which target each row ran
 * against, and per store a summary of its divergences from S3 — which cases, which engines, which
 * headers — and of the header differences that changed no verdict.
 */
import type { CaseEvidence } from './case.js';
import type { DifferenceKind } from './divergence.js';

export interface StoreRowInfo {
  /** Profile name (fixtures/stores/<name>.json), when the store has one. */
  name?: string;
  label: string;
  endpoint: string;
  verdict: 'as-s3' | 'store-divergence' | 'unexplained';
  divergence?: { kind: 'verdict' | 'reason'; s3: string; store: string; headers: string[]; difference: string };
  profile: { status: string; message: string };
  /** What S3 + the Fetch standard give, and (unexplained cases) what the engine did, as reports write them. */
  s3?: string;
  observed?: string;
  /** Every kind of header difference this case's replay showed, with its first wording. */
  differences: Array<{ kind: DifferenceKind; header: string; request: string; text: string }>;
}

/** The row fields for a case: its target, and what the store did when it ran against one. */
export function storeRowFields(e: CaseEvidence): { target: string; store?: StoreRowInfo } {
  const s = e.store;
  if (!s) return { target: e.target };
  const v = s.verdict;
  const seen = new Set<string>();
  const differences = s.differences
    .filter((d) => {
      const k = `${d.kind}|${d.header}|${d.request}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .map((d) => ({ kind: d.kind, header: d.header, request: d.request, text: d.text }));
  return {
    target: e.target,
    store: {
      ...(s.store.name ? { name: s.store.name } : {}),
      label: s.store.label,
      endpoint: s.store.endpoint,
      verdict: v.status,
      ...(v.status === 'store-divergence'
        ? { divergence: { kind: v.divergence.kind, s3: v.divergence.s3, store: v.divergence.store, headers: v.divergence.headers, difference: v.divergence.causes.map((c) => c.text).join('; ') || v.divergence.summary } }
        : {}),
      profile: { status: s.profile.status, message: s.profile.message },
      s3: s.s3.verdict === 'blocked' ? `blocked (${s.s3.reason}${s.s3.at ? ` at the ${s.s3.at}` : ''})` : s.s3.verdict,
      ...(v.status === 'unexplained' ? { observed: v.observed } : {}),
      differences,
    },
  };
}

interface Row {
  fixture: string;
  scenario: string;
  engine: string;
  status: string;
  target?: string;
  store?: StoreRowInfo;
}

export interface StoreSummary {
  store: string;
  name?: string;
  endpoint: string;
  cases: number;
  divergences: number;
  /** Cases that failed against the store's profile (new, vanished or changed divergences). */
  profileFailures: string[];
  byDifference: Array<{ s3: string; store: string; headers: string[]; difference: string; engines: string[]; cases: string[] }>;
  /** Header differences over all cases (each kind once per case), most frequent first. */
  headerDifferences: Array<{ kind: string; header: string; request: string; cases: number; example: string }>;
  unexplained: string[];
}

export function storeSummaries(rows: readonly Row[]): StoreSummary[] {
  const by = new Map<string, Row[]>();
  for (const r of rows) if (r.store) by.set(r.store.label, [...(by.get(r.store.label) ?? []), r]);
  return [...by].map(([label, rs]) => {
    const groups = new Map<string, StoreSummary['byDifference'][number]>();
    for (const r of rs) {
      const d = r.store!.divergence;
      if (!d) continue;
      // The difference text names the method ("the PUT preflight"): cases of one kind share it.
      const k = `${d.s3}|${d.store}|${d.headers.join(',')}|${d.difference}`;
      const g = groups.get(k) ?? { s3: d.s3, store: d.store, headers: d.headers, difference: d.difference, engines: [], cases: [] };
      if (!g.engines.includes(r.engine)) g.engines.push(r.engine);
      const c = `${r.fixture} × ${r.scenario}`;
      if (!g.cases.includes(c)) g.cases.push(c);
      groups.set(k, g);
    }
    const kinds = new Map<string, StoreSummary['headerDifferences'][number]>();
    for (const r of rs) {
      for (const d of r.store!.differences) {
        const k = `${d.kind}|${d.header}|${d.request}`;
        const e = kinds.get(k) ?? { kind: d.kind, header: d.header, request: d.request, cases: 0, example: d.text };
        e.cases++;
        kinds.set(k, e);
      }
    }
    const first = rs[0]!.store!;
    return {
      store: label,
      ...(first.name ? { name: first.name } : {}),
      endpoint: first.endpoint,
      cases: rs.length,
      divergences: rs.filter((r) => r.store!.verdict === 'store-divergence').length,
      profileFailures: rs.filter((r) => ['new', 'vanished', 'changed'].includes(r.store!.profile.status)).map((r) => r.store!.profile.message),
      byDifference: [...groups.values()].map((g) => ({ ...g, engines: g.engines.sort(), cases: g.cases.sort() })),
      headerDifferences: [...kinds.values()].sort((a, b) => b.cases - a.cases),
      unexplained: rs.filter((r) => r.store!.verdict === 'unexplained').map((r) => `${r.fixture} × ${r.scenario} (${r.engine})`),
    };
  });
}

export function storeSummaryMarkdown(summaries: readonly StoreSummary[]): string {
  const out: string[] = [];
  for (const s of summaries) {
    out.push(
      '',
      `## Store: ${s.store}`,
      '',
      `${s.cases} cases; ${s.divergences} store divergences (the engine's verdict is not S3's, and the store's own answers explain it)${s.name ? `; profile fixtures/stores/${s.name}.json` : '; no profile: reported only'}.`,
    );
    if (s.profileFailures.length) out.push('', `**${s.profileFailures.length} cases not as the profile says:**`, '', ...s.profileFailures.map((m) => `- ${m}`));
    if (s.unexplained.length) out.push('', `**Unexplained (neither S3 nor the store's answers): ${s.unexplained.join(', ')}**`);
    if (s.byDifference.length) {
      out.push('', '| S3 | this store | header | difference | engines | cases |', '|---|---|---|---|---|---|');
      for (const g of s.byDifference) out.push(`| ${g.s3} | ${g.store} | ${g.headers.join(', ')} | ${g.difference} | ${g.engines.join(', ')} | ${g.cases.length}: ${g.cases.join(', ')} |`);
    }
    if (s.headerDifferences.length) {
      out.push('', 'Header differences from S3 (in how many cases; most change no verdict):', '');
      for (const h of s.headerDifferences) out.push(`- ${h.request} ${h.header} (${h.kind}), ${h.cases} cases — e.g. ${h.example}`);
    }
  }
  return out.join('\n') + (out.length ? '\n' : '');
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function storeSummaryHtml(summaries: readonly StoreSummary[], links: Record<string, string> = {}): string {
  return summaries
    .map((s) => {
      const rows = s.byDifference
        .map((g) => `<tr><td>${esc(g.s3)}</td><td>${esc(g.store)}</td><td>${esc(g.headers.join(', '))}</td><td>${esc(g.difference)}</td><td>${esc(g.engines.join(', '))}</td><td>${g.cases.length}: ${esc(g.cases.join(', '))}</td></tr>`)
        .join('');
      const fails = s.profileFailures.length ? `<p class="bad"><b>${s.profileFailures.length} cases not as the profile says:</b></p><ul>${s.profileFailures.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : '';
      const unexplained = s.unexplained.length ? `<p class="bad">Unexplained (neither S3 nor the store's answers): ${esc(s.unexplained.join(', '))}</p>` : '';
      const headers = s.headerDifferences.length
        ? `<p>Header differences from S3 (cases; most change no verdict):</p><ul>${s.headerDifferences.map((h) => `<li>${esc(`${h.request} ${h.header} (${h.kind}), ${h.cases} cases — e.g. ${h.example}`)}</li>`).join('')}</ul>`
        : '';
      const link = links[s.store] ? ` <a href="${esc(links[s.store]!)}">its matrix</a>` : '';
      return `<section class="store"><h2>Store: ${esc(s.store)}${link}</h2>
<p>${s.cases} cases; ${s.divergences} store divergences (the engine's verdict is not S3's, and the store's own answers explain it)${s.name ? `; profile fixtures/stores/${esc(s.name)}.json` : '; no profile: reported only'}.</p>${fails}${unexplained}
${rows ? `<table class="detail"><thead><tr><th>S3</th><th>this store</th><th>header</th><th>difference</th><th>engines</th><th>cases</th></tr></thead><tbody>${rows}</tbody></table>` : ''}${headers}</section>`;
    })
    .join('\n');
}

/** Rows of each target, the one without a store (corsproof's own server, or a run with only one target) first. */
export function rowsByTarget<R extends Row>(rows: readonly R[]): Array<{ target: string; store?: StoreRowInfo; rows: R[] }> {
  const by = new Map<string, R[]>();
  // corsproof's own server has a port per worker: one target all the same.
  const name = (r: R) => r.store?.label ?? (r.target ?? 'corsproof bucket server').replace(/ at https?:\/\/\S+$/, '');
  for (const r of rows) by.set(name(r), [...(by.get(name(r)) ?? []), r]);
  return [...by]
    .map(([target, rs]) => ({ target, ...(rs[0]!.store ? { store: rs[0]!.store } : {}), rows: rs }))
    .sort((a, b) => Number(!!a.store) - Number(!!b.store));
}

export const storeFileSlug = (label: string) => label.toLowerCase().replace(/ at .*$/, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/**
 * A profile for the store, drafted from a run: every divergence it showed, as fixtures/stores/<store>.json
 * entries (cases as fixtures × scenarios × engines products), each with the difference in user terms.
 * Written as test-results/store-profile-<store>.json for a person to check, give reasons, and commit
 * — never read by corsproof itself.
 */
export function draftProfile(rows: readonly Row[], label: string): unknown {
  const mine = rows.filter((r) => r.store?.label === label);
  type Group = { kind: 'headers' | 'behaviour'; s3: string; store: string; headers: string[]; difference: string; cases: Map<string, Set<string>> };
  const groups = new Map<string, Group>();
  for (const r of mine) {
    const s = r.store!;
    let g: Omit<Group, 'cases'> | undefined;
    if (s.divergence) g = { kind: 'headers', s3: s.divergence.s3, store: s.divergence.store, headers: s.divergence.headers, difference: s.divergence.difference.replace(/http:\/\/[^ ,;)]+:\d+/g, '<origin>') };
    else if (s.verdict === 'unexplained') g = { kind: 'behaviour', s3: s.s3 ?? '?', store: s.observed ?? '?', headers: [], difference: s.profile.message };
    if (!g) continue;
    const k = JSON.stringify(g);
    const group = groups.get(k) ?? { ...g, cases: new Map<string, Set<string>>() };
    const per = group.cases.get(r.fixture) ?? new Set<string>();
    per.add(`${r.scenario}\u0000${r.engine}`);
    group.cases.set(r.fixture, per);
    groups.set(k, group);
  }
  const divergences: unknown[] = [];
  for (const g of groups.values()) {
    // Fixtures with the same scenario × engine cases share an entry; each entry is one product.
    const byCases = new Map<string, string[]>();
    for (const [fixture, set] of g.cases) {
      const k = [...set].sort().join('\n');
      byCases.set(k, [...(byCases.get(k) ?? []), fixture]);
    }
    for (const [k, fixtures] of byCases) {
      const pairs = k.split('\n').map((x) => x.split('\u0000') as [string, string]);
      const byScenario = new Map<string, string[]>();
      for (const [scenario, engine] of pairs) byScenario.set(scenario, [...(byScenario.get(scenario) ?? []), engine]);
      const byEngines = new Map<string, string[]>();
      for (const [scenario, engines] of byScenario) {
        const ek = engines.sort().join(',');
        byEngines.set(ek, [...(byEngines.get(ek) ?? []), scenario]);
      }
      for (const [ek, scenarios] of byEngines) {
        divergences.push({
          ...(g.kind === 'behaviour' ? { kind: 'behaviour' } : {}),
          fixtures: fixtures.sort(),
          scenarios: scenarios.sort(),
          engines: ek.split(','),
          s3: g.s3,
          store: g.store,
          headers: g.headers,
          difference: g.difference,
          reason: '(to write: why the store answers so — its code, documentation or an issue)',
          evidence: `(to check) measured ${new Date().toISOString().slice(0, 10)} by corsproof's matrix against ${label}`,
        });
      }
    }
  }
  return { store: label.replace(/ at .*$/, ''), versions: label, description: `Drafted by corsproof from a run against ${label}; check each entry, give its reason and evidence, then commit it as fixtures/stores/<store>.json.`, divergences };
}

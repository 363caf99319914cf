/**
 * Reading Playwright's JSON report (reporter `json`): every test with its project, full title and
 * results. Shared by the shard/merge test, the repeat test and scripts/repeat-matrix.sh (through
 * verdict-diff.ts).
 */
export interface JsonAttachment {
  name: string;
  contentType: string;
  path?: string;
  body?: string;
}

export interface JsonResult {
  status: 'passed' | 'failed' | 'timedOut' | 'skipped' | 'interrupted';
  duration: number;
  attachments: JsonAttachment[];
  errors?: Array<{ message?: string }>;
}

interface JsonTest {
  projectName: string;
  status: string;
  expectedStatus: string;
  results: JsonResult[];
}

interface JsonSpec {
  title: string;
  file: string;
  line: number;
  tests: JsonTest[];
}

interface JsonSuite {
  title: string;
  file: string;
  specs?: JsonSpec[];
  suites?: JsonSuite[];
}

export interface JsonReport {
  suites: JsonSuite[];
  stats: { expected: number; unexpected: number; flaky: number; skipped: number; duration: number };
  errors?: Array<{ message?: string }>;
}

export interface FlatTest {
  project: string;
  file: string;
  /** Describe titles and the test title, joined by " › ". */
  title: string;
  /** `${project} › ${file} › ${title}`: the same for every repetition of a test. */
  key: string;
  results: JsonResult[];
}

/** Every test in the report (one entry per project and repetition). */
export function flatten(report: JsonReport): FlatTest[] {
  const out: FlatTest[] = [];
  const walk = (suite: JsonSuite, path: string[]) => {
    // The file-level suite's title is the file name; describes add their titles.
    const here = suite.title && suite.title !== suite.file ? [...path, suite.title] : path;
    for (const spec of suite.specs ?? []) {
      const title = [...here, spec.title].join(' › ');
      for (const t of spec.tests) {
        out.push({
          project: t.projectName,
          file: spec.file,
          title,
          key: `${t.projectName} › ${spec.file} › ${title}`,
          results: t.results,
        });
      }
    }
    for (const s of suite.suites ?? []) walk(s, here);
  };
  for (const s of report.suites) walk(s, []);
  return out;
}

/** The `observed` verdict from a browser test's evidence.json attachment, if it has one. */
export function observedVerdict(result: JsonResult, readFile: (path: string) => string): string | undefined {
  const a = result.attachments.find((x) => x.name === 'evidence.json');
  if (!a) return undefined;
  try {
    const text = a.body !== undefined ? Buffer.from(a.body, 'base64').toString('utf8') : a.path ? readFile(a.path) : undefined;
    if (text === undefined) return undefined;
    return (JSON.parse(text) as { observed?: string }).observed;
  } catch {
    return undefined;
  }
}

export interface Repetition {
  index: number;
  status: string;
  verdict: string | undefined;
}

export interface Difference {
  key: string;
  repetitions: Repetition[];
}

/**
 * Groups repetitions of each test and returns those whose status or observed verdict is not the
 * same in every repetition. A test retried within one repetition counts by its final result.
 */
export function verdictDifferences(
  report: JsonReport,
  readFile: (path: string) => string,
): { tests: number; repetitions: number; differences: Difference[]; groups: Map<string, Repetition[]> } {
  const groups = new Map<string, Repetition[]>();
  let repetitions = 0;
  for (const t of flatten(report)) {
    const last = t.results[t.results.length - 1];
    if (!last) continue;
    repetitions++;
    const list = groups.get(t.key) ?? [];
    // The JSON report lists repetitions in order (it does not carry repeatEachIndex).
    list.push({ index: list.length, status: last.status, verdict: observedVerdict(last, readFile) });
    groups.set(t.key, list);
  }
  const differences: Difference[] = [];
  for (const [key, reps] of groups) {
    const sig = (r: Repetition) => `${r.status}/${r.verdict ?? '-'}`;
    if (new Set(reps.map(sig)).size > 1) differences.push({ key, repetitions: reps });
  }
  return { tests: groups.size, repetitions, differences, groups };
}

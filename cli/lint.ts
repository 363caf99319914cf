/**
 * `corsproof lint <file>`: would S3 accept this CORS configuration (PutBucketCors), and which of
 * its entries do browsers defeat anyway? The errors are S3's own (code, exact message, the rule they
 * come from — servers/s3/cors); the warnings are ./lint-rules.ts.
 */
import {
  MALFORMED_JSON_CODE,
  detectCorsDocumentShape,
  parseCorsConfiguration,
  validateCorsConfiguration,
  type CorsDocumentShape,
  type CorsRule,
  type S3ErrorInfo,
} from '../servers/s3/cors/index.js';
import {
  EXIT_INVALID,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
  usageExit,
  displayName,
  onePositional,
  parseCommandArgs,
  parseFormat,
  plural,
  processIo,
  readDocument,
  shapeName,
  wantsHelp,
  type Io,
} from './args.js';
import { WARNING_SUMMARY, lintConfiguration, type LintWarning } from './lint-rules.js';

export const LINT_HELP = `Usage: corsproof lint <file> [--format text|json] [--strict]

Checks an S3 bucket CORS configuration the way S3's PutBucketCors does, and warns about
entries S3 accepts but browsers defeat. <file> may be the S3 console's JSON (a bare array of
rules), the CLI/SDK's JSON ({"CORSRules": [...]}) or PutBucketCors XML; "-" reads stdin.

Options:
  --format text|json   output format (default text). json:
                       { valid, shape, errors: [{status, code, message, ruleIndex?, ruleId?,
                         detail?, reportedByS3}], warnings: [{id, ruleIndex, ruleId?, message,
                         why, fix}] }
  --strict             warnings fail too (exit 1)
  -h, --help           show this help

Errors are S3's answer: its code and exact message, and the rule (index from 0, and ID) they come
from. S3 reports only the first invalid rule; for JSON documents the other invalid rules are listed
after it (reportedByS3: false).

Warnings (stable ids):
${Object.entries(WARNING_SUMMARY)
  .map(([id, s]) => `  ${id.padEnd(28)} ${s}`)
  .join('\n')}

"wildcard-origin-credentials" is a heuristic: a rule with the "*" origin is taken to be meant for
credentialed requests when it also lists specific origins, or names the Authorization header.

Exit status: 0 valid (with --strict: and no warnings); 1 S3 would refuse the document, or
--strict and warnings; 2 usage error or unreadable file.

Examples (the S3 CORS note's configuration, and its trailing-slash mistake):
  $ cat cors.json
  [{"AllowedHeaders": ["Authorization"], "AllowedMethods": ["GET"],
    "AllowedOrigins": ["http://my-bucket-html.s3-website-eu-west-1.amazonaws.com/"],
    "ExposeHeaders": [], "MaxAgeSeconds": 3000}]
  $ corsproof lint cors.json            # warns: origin-trailing-slash, max-age-capped
  $ corsproof lint --format json - < cors.json
`;

export interface LintError extends S3ErrorInfo {
  /** True for the error S3 itself answers (the first); false for further invalid rules found by corsproof. */
  reportedByS3: boolean;
}

export interface LintReport {
  valid: boolean;
  shape: CorsDocumentShape | null;
  rules?: number;
  errors: LintError[];
  warnings: LintWarning[];
}

/** A placeholder rule S3 accepts, to validate one rule at its own index. */
const FILLER: CorsRule = { AllowedOrigins: ['*'], AllowedMethods: ['GET'] };

/**
 * S3 stops at the first invalid rule (schema errors anywhere before value errors). For a JSON
 * document whose first error belongs to a rule, find the other invalid rules too, each validated
 * alone at its own index (so messages name the right rule), and list them after S3's answer.
 */
function furtherRuleErrors(text: string, first: S3ErrorInfo): S3ErrorInfo[] {
  if (first.ruleIndex === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return [];
  }
  const rules = Array.isArray(value) ? value : (value as { CORSRules?: unknown }).CORSRules;
  if (!Array.isArray(rules) || rules.length > 100) return [];
  const out: S3ErrorInfo[] = [];
  for (let i = 0; i < rules.length; i++) {
    if (i === first.ruleIndex) continue;
    const e = validateCorsConfiguration({ CORSRules: [...Array<CorsRule>(i).fill(FILLER), rules[i] as CorsRule] });
    if (e && e.ruleIndex === i) out.push(e);
  }
  return out;
}

/** Lints one document's text; pure (no I/O). */
export function lintText(text: string | Buffer): LintReport {
  const s = typeof text === 'string' ? text : text.toString('utf8');
  const parsed = parseCorsConfiguration(text);
  if (!parsed.ok) {
    const errors: LintError[] = [{ ...parsed.error, reportedByS3: true }];
    for (const e of furtherRuleErrors(s, parsed.error)) errors.push({ ...e, reportedByS3: false });
    return { valid: false, shape: detectCorsDocumentShape(s) ?? null, errors, warnings: [] };
  }
  return { valid: true, shape: parsed.shape, rules: parsed.config.CORSRules.length, errors: [], warnings: lintConfiguration(parsed.config) };
}

const ruleName = (index: number | undefined, id: string | undefined): string =>
  index === undefined ? 'document' : id === undefined ? `rule #${index}` : `rule #${index} (ID ${id})`;

export function formatLintText(name: string, r: LintReport): string {
  const lines: string[] = [];
  const what = `${name}: ${shapeName(r.shape)}${r.rules !== undefined ? `, ${plural(r.rules, 'rule')}` : ''}`;
  if (!r.valid) {
    const first = r.errors[0]!;
    lines.push(
      first.code === MALFORMED_JSON_CODE
        ? `${what} — not valid JSON: the S3 console and the AWS CLI refuse it before S3 sees it.`
        : `${what} — S3 would refuse it (PutBucketCors answers ${first.status} ${first.code}).`,
      '',
    );
    for (const e of r.errors) {
      lines.push(`✗ ${ruleName(e.ruleIndex, e.ruleId)}: ${e.code}: ${e.message}`);
      if (e.detail) lines.push(`    ${e.detail}`);
      if (!e.reportedByS3) lines.push('    (not in S3\'s answer: S3 reports only the first invalid rule)');
    }
    lines.push('', `${plural(r.errors.length, 'error')}.`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(`${what} — S3 accepts it${r.warnings.length ? `; ${plural(r.warnings.length, 'warning')}` : '; no warnings'}.`);
  for (const w of r.warnings) {
    lines.push('', `⚠ ${ruleName(w.ruleIndex, w.ruleId)}  ${w.id}`, `    ${w.message}.`, `    why: ${w.why}.`, `    fix: ${w.fix}.`);
  }
  return `${lines.join('\n')}\n`;
}

export async function lint(argv: string[], io: Io = processIo()): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout.write(LINT_HELP);
    return EXIT_OK;
  }
  let report: LintReport;
  let name: string;
  let format: 'text' | 'json';
  let strict: boolean;
  try {
    const { values, positionals } = parseCommandArgs('lint', argv, {
      format: { type: 'string' },
      strict: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    format = parseFormat('lint', values.format);
    strict = values.strict ?? false;
    const file = onePositional('lint', positionals, 'a CORS configuration file (or - for stdin)');
    name = displayName(file);
    report = lintText(await readDocument(file, io));
  } catch (e) {
    return usageExit(e, io);
  }
  if (format === 'json') {
    const { rules: _rules, ...out } = report;
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    io.stdout.write(formatLintText(name, report));
  }
  if (!report.valid) return EXIT_INVALID;
  return strict && report.warnings.length > 0 ? EXIT_INVALID : EXIT_OK;
}

/**
 * Validates GitHub Actions workflow documents with GitHub's own parser, `@actions/workflow-parser`
 * (schema, job graph, cron and expression checks; no network).
 *
 *   npx tsx tests/reliability/validate-workflow.ts .github/workflows/corsproof.yml   # prints errors, exit 1 if any
 *   echo '["<yaml>", …]' | npx tsx tests/reliability/validate-workflow.ts --stdin-json  # prints [[errors…], …]
 *
 * A separate process because the package imports its schema as JSON without an import attribute,
 * which tsx accepts and Playwright's test loader does not.
 */
import { readFileSync } from 'node:fs';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';

export async function workflowErrors(content: string, name = 'workflow.yml'): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  if (parsed.value) await convertWorkflowTemplate(parsed.context, parsed.value);
  return parsed.context.errors.getErrors().map((e) => e.message);
}

const args = process.argv.slice(2);
if (args[0] === '--stdin-json') {
  const docs = JSON.parse(readFileSync(0, 'utf8')) as string[];
  const out: string[][] = [];
  for (const d of docs) out.push(await workflowErrors(d));
  process.stdout.write(JSON.stringify(out));
} else if (args.length > 0) {
  let bad = 0;
  for (const f of args) {
    const errors = await workflowErrors(readFileSync(f, 'utf8'), f);
    bad += errors.length;
    console.log(errors.length ? `${f}:\n  ${errors.join('\n  ')}` : `${f}: valid`);
  }
  process.exitCode = bad ? 1 : 0;
}

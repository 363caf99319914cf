/**
 * Bucket policies, to the extent corsproof needs them: deciding what an anonymous (unsigned)
 * request may do. Signed requests with the server's credentials are the bucket owner and may do
 * everything, as the root user may on S3.
 *
 * Supported: `Version`, `Statement` (object or array), `Effect` Allow/Deny, `Principal` `"*"` or
 * `{"AWS": "*"}` (other principals never match an anonymous caller), `Action`/`NotAction` and
 * `Resource`/`NotResource` with `*` and `?` wildcards. An explicit Deny wins over any Allow.
 * Not supported: `Condition` — a statement carrying one never applies (so a conditional Allow
 * grants nothing and a conditional Deny denies nothing); corsproof's harness never needs one.
 * Policy grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 */
import { compileGlob, globMatches } from '../s3/cors/index.js';
import { Errors } from './errors.js';

export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  anonymous: boolean;
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  hasCondition: boolean;
}

export interface BucketPolicy {
  statements: PolicyStatement[];
}

/** S3's limit on a bucket policy document. */
export const MAX_POLICY_BYTES = 20 * 1024;

function strings(v: unknown, field: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  throw Errors.malformedPolicy(`Invalid value for ${field}`);
}

function principalIsAnonymous(p: unknown): boolean {
  if (p === '*') return true;
  if (p && typeof p === 'object' && !Array.isArray(p)) {
    const aws = (p as Record<string, unknown>)['AWS'];
    if (aws === '*') return true;
    if (Array.isArray(aws) && aws.includes('*')) return true;
  }
  return false;
}

/** Parses and checks a PutBucketPolicy document; throws MalformedPolicy as S3 does. */
export function parsePolicy(text: string, bucket: string): BucketPolicy {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) throw Errors.malformedPolicy('Policies must be less than 20 KB');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw Errors.malformedPolicy("Policies must be valid JSON and the first byte must be '{'");
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw Errors.malformedPolicy("Policies must be valid JSON and the first byte must be '{'");
  const raw = (doc as Record<string, unknown>)['Statement'];
  if (raw === undefined) throw Errors.malformedPolicy('Missing required field Statement');
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw Errors.malformedPolicy('Could not parse the policy: Statement is empty!');
  const statements = list.map((s): PolicyStatement => {
    if (!s || typeof s !== 'object' || Array.isArray(s)) throw Errors.malformedPolicy('Statement is not an object');
    const st = s as Record<string, unknown>;
    const effect = st['Effect'];
    if (effect !== 'Allow' && effect !== 'Deny') throw Errors.malformedPolicy(`Invalid effect: ${String(effect)}`);
    if (st['Principal'] === undefined && st['NotPrincipal'] === undefined)
      throw Errors.malformedPolicy('Missing required field Principal');
    const actions = strings(st['Action'], 'Action');
    const notActions = strings(st['NotAction'], 'NotAction');
    if (!actions && !notActions) throw Errors.malformedPolicy('Missing required field Action');
    for (const a of [...(actions ?? []), ...(notActions ?? [])])
      if (a !== '*' && !/^s3:[A-Za-z*?]+$/.test(a)) throw Errors.malformedPolicy('Policy has invalid action');
    const resources = strings(st['Resource'], 'Resource');
    const notResources = strings(st['NotResource'], 'NotResource');
    if (!resources && !notResources) throw Errors.malformedPolicy('Missing required field Resource');
    for (const r of [...(resources ?? []), ...(notResources ?? [])]) {
      // S3 only accepts resources inside the bucket the policy is attached to.
      const m = /^arn:aws:s3:::([^/]+)(\/.*)?$/.exec(r);
      if (!m || !iamMatch(m[1] ?? '', bucket)) throw Errors.malformedPolicy('Policy has invalid resource');
    }
    return {
      effect,
      // NotPrincipal never describes "everyone" in a way we evaluate; treat it as not anonymous.
      anonymous: st['NotPrincipal'] === undefined && principalIsAnonymous(st['Principal']),
      ...(actions ? { actions } : {}),
      ...(notActions ? { notActions } : {}),
      ...(resources ? { resources } : {}),
      ...(notResources ? { notResources } : {}),
      hasCondition: st['Condition'] !== undefined,
    };
  });
  return { statements };
}

/** IAM wildcard match (`*` any run, `?` one character) through the one glob matcher; actions compare case-insensitively. */
function iamMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const [p, v] = caseInsensitive ? [pattern.toLowerCase(), value.toLowerCase()] : [pattern, value];
  return globMatches(compileGlob(p, { anyOne: true }), v);
}

function statementApplies(s: PolicyStatement, action: string, resource: string): boolean {
  if (!s.anonymous || s.hasCondition) return false;
  const actionOk = s.actions
    ? s.actions.some((a) => iamMatch(a, action, true))
    : !(s.notActions ?? []).some((a) => iamMatch(a, action, true));
  const resourceOk = s.resources
    ? s.resources.some((r) => iamMatch(r, resource))
    : !(s.notResources ?? []).some((r) => iamMatch(r, resource));
  return actionOk && resourceOk;
}

/** Does `policy` let an anonymous caller perform `action` (e.g. `s3:GetObject`) on `resource` (an ARN)? */
export function anonymousAllowed(policy: BucketPolicy | undefined, action: string, resource: string): boolean {
  if (!policy) return false;
  const applicable = policy.statements.filter((s) => statementApplies(s, action, resource));
  if (applicable.some((s) => s.effect === 'Deny')) return false;
  return applicable.some((s) => s.effect === 'Allow');
}

export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

export function objectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}

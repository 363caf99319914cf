/**
 * The one glob matcher of corsproof, for S3's two wildcard languages:
 *
 * - S3 CORS patterns (AllowedOrigin, AllowedHeader): `*` matches any run of characters, including
 *   the empty run and dots; everything else — `?` included — is literal; anchored at both ends
 *   [S10][S11] (reference §1.5).
 * - IAM policy patterns (bucket policy Action and Resource, servers/bucket/policy.ts): the same,
 *   plus `?` for exactly one character (`{ anyOne: true }`)
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
 *
 * Matching is case-sensitive; callers that compare case-insensitively (header names, IAM actions)
 * lowercase both sides. S3 allows at most one `*` per CORS pattern (validate.ts), but a
 * configuration handed to the engine without validation may hold more, and is matched the same way.
 */

export interface GlobOptions {
  /** `?` matches exactly one character (IAM); without it `?` is literal (S3 CORS). */
  anyOne?: boolean;
}

export interface Glob {
  readonly pattern: string;
  /** The pattern split at each `*`; undefined = no wildcard at all: exact comparison. */
  readonly parts: readonly string[] | undefined;
  /** Length of the shortest string that can match. */
  readonly minLength: number;
  /** `?` in `parts` stands for any one character. */
  readonly anyOne: boolean;
}

export function compileGlob(pattern: string, options: GlobOptions = {}): Glob {
  const anyOne = options.anyOne === true && pattern.includes('?');
  if (!pattern.includes('*') && !anyOne) return { pattern, parts: undefined, minLength: pattern.length, anyOne };
  const parts = pattern.split('*');
  return { pattern, parts, minLength: pattern.length - (parts.length - 1), anyOne };
}

export function globMatches(g: Glob, s: string): boolean {
  const parts = g.parts;
  if (parts === undefined) return s === g.pattern;
  if (s.length < g.minLength) return false;
  const at = g.anyOne ? partAt : literalAt;
  const head = parts[0] as string;
  if (parts.length === 1) return s.length === head.length && at(s, 0, head);
  const tail = parts[parts.length - 1] as string;
  const end = s.length - tail.length;
  if (!at(s, 0, head) || !at(s, end, tail)) return false;
  // Middle segments (only with 2+ stars), each at its leftmost place, in order, between head and tail.
  let from = head.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const p = parts[i] as string;
    const found = g.anyOne ? find(s, p, from, end) : s.indexOf(p, from);
    if (found === -1 || found + p.length > end) return false;
    from = found + p.length;
  }
  return true;
}

/** `part` occurs in `s` at `i`, character for character. */
function literalAt(s: string, i: number, part: string): boolean {
  return s.startsWith(part, i);
}

/** The first place at or after `from` where `part` (with `?` wildcards) occurs and ends by `end`; -1 if none. */
function find(s: string, part: string, from: number, end: number): number {
  for (let j = from; j + part.length <= end; j++) if (partAt(s, j, part)) return j;
  return -1;
}

/** `part` occurs in `s` at `i`, each `?` of `part` standing for any one character. */
function partAt(s: string, i: number, part: string): boolean {
  if (i + part.length > s.length) return false;
  for (let j = 0; j < part.length; j++) {
    const c = part[j];
    if (c !== '?' && c !== s[i + j]) return false;
  }
  return true;
}

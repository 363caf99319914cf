/**
 * The one glob matcher (servers/s3/cors/glob.ts), in both of S3's wildcard languages: CORS patterns
 * (`*` only, `?` literal) and IAM policy patterns (`*` and `?`). Checked exhaustively on a small
 * alphabet against the regular expression each language denotes.
 */
import { test, expect } from '@playwright/test';
import { compileGlob, globMatches } from '../../servers/s3/cors/index.js';
import { anonymousAllowed, parsePolicy } from '../../servers/bucket/policy.js';

/** Every string over `alphabet` of length 0..max. */
function strings(alphabet: string[], max: number): string[] {
  const out = [''];
  let level = [''];
  for (let n = 1; n <= max; n++) {
    level = level.flatMap((s) => alphabet.map((c) => s + c));
    out.push(...level);
  }
  return out;
}

const reference = (pattern: string, anyOne: boolean) =>
  new RegExp(`^${[...pattern].map((c) => (c === '*' ? '.*' : anyOne && c === '?' ? '.' : c.replace(/[.?]/, '\\$&'))).join('')}$`, 's');

for (const anyOne of [false, true]) {
  test(`should match exactly what the ${anyOne ? 'IAM (`*`, `?`)' : 'S3 CORS (`*` only)'} pattern denotes`, () => {
    const patterns = strings(['a', '.', '*', '?'], 4);
    const subjects = strings(['a', '.', '?', 'b'], 5);
    for (const pattern of patterns) {
      const g = compileGlob(pattern, { anyOne });
      const re = reference(pattern, anyOne);
      for (const s of subjects) {
        if (globMatches(g, s) !== re.test(s)) throw new Error(`${JSON.stringify(pattern)} (anyOne ${anyOne}) on ${JSON.stringify(s)}: glob ${globMatches(g, s)}, expected ${re.test(s)}`);
      }
    }
  });
}

test('should keep the recorded S3 CORS wildcard examples (§1.5)', () => {
  const m = (p: string, s: string) => globMatches(compileGlob(p), s);
  expect(['startend', 'start1end', 'start12end'].every((s) => m('start*end', s))).toBe(true);
  expect(m('start*end', '0start12end')).toBe(false);
  expect(m('prefix*', 'prefix') && m('prefix*', 'prefix.suffix') && !m('prefix*', 'bla.prefix')).toBe(true);
  expect(m('*suffix', 'foo.suffix') && !m('*suffix', 'foo.suffix.get')).toBe(true);
  expect(m('*.allowedorigin.com', '.allowedorigin.com')).toBe(true);
  expect(m('http://a?.example', 'http://ab.example'), '`?` is literal in a CORS origin').toBe(false);
});

test('should let a bucket policy grant through `*` and `?` wildcards, actions case-insensitively', () => {
  const policy = parsePolicy(
    JSON.stringify({
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:get*', Resource: 'arn:aws:s3:::b/public/*' },
        { Effect: 'Allow', Principal: '*', Action: 's3:PutObjec?', Resource: 'arn:aws:s3:::b/drop/??.txt' },
      ],
    }),
    'b',
  );
  expect(anonymousAllowed(policy, 's3:GetObject', 'arn:aws:s3:::b/public/a/b.html')).toBe(true);
  expect(anonymousAllowed(policy, 's3:GetObject', 'arn:aws:s3:::b/private/x')).toBe(false);
  expect(anonymousAllowed(policy, 's3:PutObject', 'arn:aws:s3:::b/drop/ab.txt')).toBe(true);
  expect(anonymousAllowed(policy, 's3:PutObject', 'arn:aws:s3:::b/drop/abc.txt')).toBe(false);
  expect(() => parsePolicy(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::other/*' }] }), 'b')).toThrow(
    /invalid resource/,
  );
});

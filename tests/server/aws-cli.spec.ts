/**
 * A round trip with the real AWS CLI against a `corsproof serve` child process: the CLI signs with
 * SigV4 (botocore), sends Content-MD5 or flexible checksums, and parses S3's XML — if any of it is
 * off, the CLI says so. Every `aws` binary found is exercised (Debian's v2 at /usr/bin/aws, and a
 * pip-installed v1 if one is on PATH).
 */
import { test, expect } from '@playwright/test';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SEED_RULES = [
  {
    AllowedHeaders: ['Authorization'],
    AllowedMethods: ['GET'],
    AllowedOrigins: ['http://my-bucket-html.s3-website-eu-west-1.amazonaws.com'],
    ExposeHeaders: [],
    MaxAgeSeconds: 3000,
  },
];

/** Every distinct aws executable: /usr/bin/aws first (what `apt-get install awscli` provides), then PATH. */
function findAwsBinaries(): string[] {
  const found: string[] = [];
  if (existsSync('/usr/bin/aws')) found.push('/usr/bin/aws');
  try {
    for (const p of execFileSync('which', ['-a', 'aws'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
      const real = (() => {
        try {
          return realpathSync(p);
        } catch {
          return p;
        }
      })();
      if (!found.some((f) => f === p || realpathSync(f) === real)) found.push(p);
    }
  } catch {
    // `which` exits 1 when nothing is found.
  }
  return found.filter((p) => {
    try {
      execFileSync(p, ['--version'], { stdio: 'ignore', env: cliEnv() });
      return true;
    } catch {
      return false;
    }
  });
}

function cliEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'corsproof',
    AWS_SECRET_ACCESS_KEY: 'corsproof-secret',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/nonexistent/corsproof-aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/corsproof-aws-credentials',
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

interface Served {
  child: ChildProcess;
  bucketUrl: string;
  exited: Promise<number | null>;
}

/** Servers this file started; afterEach stops them even when a test timed out (its finally never runs then). */
const running = new Set<ChildProcess>();
test.afterEach(() => {
  for (const c of running) c.kill('SIGTERM');
  running.clear();
});

async function startServe(): Promise<Served> {
  const child = spawn(process.execPath, ['bin/corsproof.mjs', 'serve', '--bucket-port', '0', '--site-port', '0'], {
    cwd: join(import.meta.dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const bucketUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`corsproof serve printed no bucket line within 20 s; stderr: ${err}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^bucket (http:\/\/\S+)$/m.exec(out);
      if (m && /^site http/m.test(out)) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`corsproof serve exited with ${code}: ${err}`)));
  });
  expect(out.split('\n').filter((l) => /^(bucket|site) http:\/\/127\.0\.0\.1:\d+$/.test(l))).toHaveLength(2);
  return { child, bucketUrl, exited };
}

function aws(bin: string, endpoint: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, ['--endpoint-url', endpoint, '--output', 'json', ...args], { env: cliEnv(), timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ok(bin: string, endpoint: string, args: string[]): Promise<string> {
  const r = await aws(bin, endpoint, args);
  expect(r.code, `aws ${args.join(' ')} failed: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const binaries = findAwsBinaries();

if (binaries.length === 0) {
  test('should round-trip bucket CORS with the AWS CLI', () => {
    throw new Error('The AWS CLI is not installed, so the bucket server cannot be checked against a real S3 client: run `apt-get install awscli`.');
  });
}

for (const bin of binaries) {
  test(`should round-trip bucket CORS and objects with the AWS CLI (${bin})`, async () => {
    test.setTimeout(120_000);
    const version = execFileSync(bin, ['--version'], { encoding: 'utf8', env: cliEnv() }).trim();
    test.info().annotations.push({ type: 'aws-cli', description: version });
    const served = await startServe();
    try {
      const url = served.bucketUrl;
      const dir = mkdtempSync(join(tmpdir(), 'corsproof-cli-'));
      const corsFile = join(dir, 'cors.json');
      writeFileSync(corsFile, JSON.stringify({ CORSRules: SEED_RULES }));
      const bucket = 'my-bucket-assets';

      await ok(bin, url, ['s3api', 'create-bucket', '--bucket', bucket]);
      const missing = await aws(bin, url, ['s3api', 'get-bucket-cors', '--bucket', bucket]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('NoSuchCORSConfiguration');

      await ok(bin, url, ['s3api', 'put-bucket-cors', '--bucket', bucket, '--cors-configuration', `file://${corsFile}`]);
      const got = JSON.parse(await ok(bin, url, ['s3api', 'get-bucket-cors', '--bucket', bucket]));
      // S3 drops the empty ExposeHeaders list (the CLI sends no ExposeHeader element for it).
      const { ExposeHeaders: _empty, ...expected } = SEED_RULES[0]!;
      expect(got).toEqual({ CORSRules: [expected] });

      // The stored rule now answers a browser's preflight from the seed's website origin.
      const pre = await fetch(`${url}/${bucket}/extra-page.html`, {
        method: 'OPTIONS',
        headers: { Origin: SEED_RULES[0]!.AllowedOrigins[0]!, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
      });
      expect(pre.status).toBe(200);
      expect(pre.headers.get('access-control-allow-origin')).toBe(SEED_RULES[0]!.AllowedOrigins[0]);
      expect(pre.headers.get('access-control-allow-methods')).toBe('GET');
      expect(pre.headers.get('access-control-max-age')).toBe('3000');

      const page = join(dir, 'extra-page.html');
      writeFileSync(page, '<p>extra page</p>\n');
      const put = JSON.parse(await ok(bin, url, ['s3api', 'put-object', '--bucket', bucket, '--key', 'extra-page.html', '--body', page, '--content-type', 'text/html']));
      expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
      const listed = JSON.parse(await ok(bin, url, ['s3api', 'list-objects-v2', '--bucket', bucket]));
      expect(listed.Contents.map((c: { Key: string }) => c.Key)).toEqual(['extra-page.html']);
      const out = join(dir, 'downloaded.html');
      const head = JSON.parse(await ok(bin, url, ['s3api', 'get-object', '--bucket', bucket, '--key', 'extra-page.html', out]));
      expect(head.ContentType).toBe('text/html');
      expect(readFileSync(out, 'utf8')).toBe('<p>extra page</p>\n');

      await ok(bin, url, ['s3api', 'delete-bucket-cors', '--bucket', bucket]);
      const after = await aws(bin, url, ['s3api', 'get-bucket-cors', '--bucket', bucket]);
      expect(after.stderr).toContain('NoSuchCORSConfiguration');
      const notEmpty = await aws(bin, url, ['s3api', 'delete-bucket', '--bucket', bucket]);
      expect(notEmpty.stderr).toContain('BucketNotEmpty');
      await ok(bin, url, ['s3api', 'delete-object', '--bucket', bucket, '--key', 'extra-page.html']);
      await ok(bin, url, ['s3api', 'delete-bucket', '--bucket', bucket]);

      // Wrong secret: the CLI reports S3's SignatureDoesNotMatch.
      const wrong = await new Promise<string>((resolve) =>
        execFile(bin, ['--endpoint-url', url, 's3api', 'list-buckets'], { env: { ...cliEnv(), AWS_SECRET_ACCESS_KEY: 'wrong' } }, (_e, _o, stderr) => resolve(stderr)),
      );
      expect(wrong).toContain('SignatureDoesNotMatch');
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await served.exited).toBe(0);
  });
}

for (const bin of binaries) {
  test(`should round-trip a 20 MB file through aws s3 cp as a multipart upload, byte-identical (${bin})`, async () => {
    test.setTimeout(180_000);
    const served = await startServe();
    try {
      const url = served.bucketUrl;
      const dir = mkdtempSync(join(tmpdir(), 'corsproof-cli-mpu-'));
      const src = join(dir, 'twenty.bin');
      // Above the CLI's 8 MB multipart threshold: three parts (8 MiB, 8 MiB, the rest).
      const data = randomBytes(20_000_000);
      writeFileSync(src, data);
      await ok(bin, url, ['s3api', 'create-bucket', '--bucket', 'cli-multipart']);
      await ok(bin, url, ['s3', 'cp', src, 's3://cli-multipart/dir/twenty.bin']);
      const head = JSON.parse(await ok(bin, url, ['s3api', 'head-object', '--bucket', 'cli-multipart', '--key', 'dir/twenty.bin', '--checksum-mode', 'ENABLED']));
      const parts = [data.subarray(0, 8 * 1024 * 1024), data.subarray(8 * 1024 * 1024, 16 * 1024 * 1024), data.subarray(16 * 1024 * 1024)];
      const md5 = (b: Buffer) => createHash('md5').update(b).digest();
      expect(head.ETag).toBe(`"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-3"`);
      expect(head.ContentLength).toBe(20_000_000);
      // The CLI creates the upload with CRC32 (its default), so the object has S3's composite checksum.
      expect(head.ChecksumType).toBe('COMPOSITE');
      expect(head.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==-3$/);
      const out = join(dir, 'back.bin');
      await ok(bin, url, ['s3', 'cp', 's3://cli-multipart/dir/twenty.bin', out]);
      expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      // A range, as `s3api get-object --range` asks for it.
      const rangeOut = join(dir, 'range.bin');
      const ranged = JSON.parse(await ok(bin, url, ['s3api', 'get-object', '--bucket', 'cli-multipart', '--key', 'dir/twenty.bin', '--range', 'bytes=100-199', rangeOut]));
      expect(ranged.ContentRange).toBe('bytes 100-199/20000000');
      expect(readFileSync(rangeOut).equals(data.subarray(100, 200))).toBe(true);
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await served.exited).toBe(0);
  });

  test(`should run the multipart s3api commands and report S3's errors (${bin})`, async () => {
    test.setTimeout(120_000);
    const served = await startServe();
    try {
      const url = served.bucketUrl;
      const dir = mkdtempSync(join(tmpdir(), 'corsproof-cli-parts-'));
      await ok(bin, url, ['s3api', 'create-bucket', '--bucket', 'cli-parts']);
      const created = JSON.parse(await ok(bin, url, ['s3api', 'create-multipart-upload', '--bucket', 'cli-parts', '--key', 'k']));
      const id: string = created.UploadId;
      const small = join(dir, 'small');
      writeFileSync(small, 'small part');
      const last = join(dir, 'last');
      writeFileSync(last, 'last part');
      const e1 = JSON.parse(await ok(bin, url, ['s3api', 'upload-part', '--bucket', 'cli-parts', '--key', 'k', '--upload-id', id, '--part-number', '1', '--body', small]));
      const e2 = JSON.parse(await ok(bin, url, ['s3api', 'upload-part', '--bucket', 'cli-parts', '--key', 'k', '--upload-id', id, '--part-number', '2', '--body', last]));
      const listed = JSON.parse(await ok(bin, url, ['s3api', 'list-parts', '--bucket', 'cli-parts', '--key', 'k', '--upload-id', id]));
      expect(listed.Parts.map((p: { PartNumber: number; Size: number }) => [p.PartNumber, p.Size])).toEqual([[1, 10], [2, 9]]);
      const uploads = JSON.parse(await ok(bin, url, ['s3api', 'list-multipart-uploads', '--bucket', 'cli-parts']));
      expect(uploads.Uploads.map((u: { UploadId: string }) => u.UploadId)).toEqual([id]);
      // Parts uploaded with the CLI's default CRC32 are named with it, as S3 wants.
      const part = (n: number, r: { ETag: string; ChecksumCRC32?: string }) => ({ PartNumber: n, ETag: r.ETag, ...(r.ChecksumCRC32 ? { ChecksumCRC32: r.ChecksumCRC32 } : {}) });
      const both = JSON.stringify({ Parts: [part(1, e1), part(2, e2)] });
      const tooSmall = await aws(bin, url, ['s3api', 'complete-multipart-upload', '--bucket', 'cli-parts', '--key', 'k', '--upload-id', id, '--multipart-upload', both]);
      expect(tooSmall.code).not.toBe(0);
      expect(tooSmall.stderr).toContain('EntityTooSmall');
      const reversed = JSON.stringify({ Parts: [part(2, e2), part(1, e1)] });
      expect((await aws(bin, url, ['s3api', 'complete-multipart-upload', '--bucket', 'cli-parts', '--key', 'k', '--upload-id', id, '--multipart-upload', reversed])).stderr).toContain('InvalidPartOrder');
      const done = JSON.parse(
        await ok(bin, url, ['s3api', 'complete-multipart-upload', '--bucket', 'cli-parts', '--key', 'k', '--upload-id', id, '--multipart-upload', JSON.stringify({ Parts: [part(2, e2)] })]),
      );
      expect(done.ETag).toMatch(/^"[0-9a-f]{32}-1"$/);
      const again = await aws(bin, url, ['s3api', 'abort-multipart-upload', '--bucket', 'cli-parts', '--key', 'k', '--upload-id', id]);
      expect(again.stderr).toContain('NoSuchUpload');
      const other = JSON.parse(await ok(bin, url, ['s3api', 'create-multipart-upload', '--bucket', 'cli-parts', '--key', 'gone']));
      await ok(bin, url, ['s3api', 'abort-multipart-upload', '--bucket', 'cli-parts', '--key', 'gone', '--upload-id', other.UploadId]);
      const none = JSON.parse((await ok(bin, url, ['s3api', 'list-multipart-uploads', '--bucket', 'cli-parts'])) || '{}');
      expect(none.Uploads ?? []).toEqual([]);
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await served.exited).toBe(0);
  });
}

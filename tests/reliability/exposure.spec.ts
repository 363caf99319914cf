/**
 * Network exposure: every listener corsproof opens is on 127.0.0.1 unless the user opts in with
 * `corsproof serve --host <address>`; and configuration-changing requests (PutBucketCors,
 * PutBucketPolicy, PutBucketWebsite, their deletes, CreateBucket, DeleteBucket) without a valid
 * signature are refused with 403 — in both anonymous-access modes, and even when a bucket policy
 * grants everything to everyone. Bound addresses are read from /proc/net/tcp{,6} for the sockets
 * the process owns, not from what the code says it asked for.
 */
import { test, expect } from '@playwright/test';
import { createHash } from 'node:crypto';
import { startBucketServer, type BucketServer } from '../../servers/bucket/index.js';
import { startSiteServer } from '../../servers/site/index.js';
import { ExchangeLog } from '../../servers/exchange-log.js';
import { LoopbackProxy } from '../../engines/host-map.js';
import { raw, signedRaw, CREDS } from '../server/helpers.js';
import { listeningSockets, startServe, stopChild } from './helpers.js';

const md5b64 = (s: string) => createHash('md5').update(s).digest('base64');
const ownListener = (port: number) => listeningSockets(process.pid).filter((l) => l.port === port);

test('startBucketServer, startSiteServer and the WebKit loopback proxy listen on 127.0.0.1 by default', async () => {
  const log = new ExchangeLog();
  const bucket = await startBucketServer({ log, extraPorts: [0] });
  const site = await startSiteServer({ log });
  const proxy = new LoopbackProxy(['www.example.test']);
  const proxyUrl = await proxy.start();
  try {
    const proxyPort = Number(new URL(proxyUrl).port);
    for (const [what, port] of [['bucket', bucket.port], ['bucket extra port', bucket.extraPorts[0]!], ['site', site.port], ['loopback proxy', proxyPort]] as const) {
      expect(ownListener(port), `${what} listener on port ${port}`).toEqual([{ address: '127.0.0.1', port, family: 4 }]);
    }
    expect(bucket.url).toBe(`http://127.0.0.1:${bucket.port}`);
    expect(site.url).toBe(`http://127.0.0.1:${site.port}`);
  } finally {
    await proxy.close();
    await site.close();
    await bucket.close();
  }
});

test('corsproof serve listens on 127.0.0.1 only, unless --host opts in', async () => {
  const serve = await startServe([]);
  try {
    const listeners = listeningSockets(serve.child.pid!);
    expect(listeners.map((l) => l.port).sort(), 'exactly the two printed ports').toEqual([serve.bucketPort, serve.sitePort].sort());
    for (const l of listeners) expect(l.address, `port ${l.port}`).toBe('127.0.0.1');
    expect(serve.output()).toContain(`bucket http://127.0.0.1:${serve.bucketPort}`);
  } finally {
    await stopChild(serve.child, serve.exited);
  }
  // The opt-in: all interfaces, said in the printed URL too. Only a listen is checked; nothing is
  // sent to it except over 127.0.0.1.
  const open = await startServe(['--host', '0.0.0.0']);
  try {
    const listeners = listeningSockets(open.child.pid!);
    expect(listeners.map((l) => l.address)).toEqual(['0.0.0.0', '0.0.0.0']);
    expect(open.output()).toContain(`bucket http://0.0.0.0:${open.bucketPort}`);
    const r = await fetch(`http://127.0.0.1:${open.bucketPort}/`, { method: 'OPTIONS', headers: { Origin: 'http://a.example' } });
    expect(r.status).toBe(403);
  } finally {
    await stopChild(open.child, open.exited);
  }
});

const CORS_XML =
  '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>DELETE</AllowedMethod></CORSRule></CORSConfiguration>';
const POLICY_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::guarded', 'arn:aws:s3:::guarded/*'] }],
});
const WEBSITE_XML = '<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument></WebsiteConfiguration>';

/** The configuration-changing operations, each as [name, method, path, body, extra headers]. */
const CHANGES: Array<[string, string, string, string | undefined, Record<string, string>]> = [
  ['PutBucketCors', 'PUT', '/guarded?cors', CORS_XML, { 'content-md5': md5b64(CORS_XML) }],
  ['DeleteBucketCors', 'DELETE', '/guarded?cors', undefined, {}],
  ['PutBucketPolicy', 'PUT', '/guarded?policy', POLICY_ALL.replace('s3:*', 's3:GetObject'), {}],
  ['DeleteBucketPolicy', 'DELETE', '/guarded?policy', undefined, {}],
  ['PutBucketWebsite', 'PUT', '/guarded?website', WEBSITE_XML, {}],
  ['DeleteBucketWebsite', 'DELETE', '/guarded?website', undefined, {}],
  ['CreateBucket', 'PUT', '/intruder-bucket', undefined, {}],
  ['DeleteBucket', 'DELETE', '/empty-bucket', undefined, {}],
];

type Setup = { name: string; anonymousAccess: 'policy' | 'open'; grantEverything: boolean };
const SETUPS: Setup[] = [
  { name: "anonymousAccess 'policy'", anonymousAccess: 'policy', grantEverything: false },
  { name: "anonymousAccess 'policy' with a bucket policy granting s3:* to everyone", anonymousAccess: 'policy', grantEverything: true },
  { name: "anonymousAccess 'open'", anonymousAccess: 'open', grantEverything: false },
];

for (const setup of SETUPS) {
  test(`configuration changes without a valid signature are refused with 403 (${setup.name})`, async () => {
    const server: BucketServer = await startBucketServer({ log: new ExchangeLog(), anonymousAccess: setup.anonymousAccess });
    try {
      server.store.createBucket('guarded');
      server.store.createBucket('empty-bucket');
      server.store.putObject('guarded', 'index.html', '<p>hi</p>', 'text/html');
      const cors = { CORSRules: [{ AllowedOrigins: ['http://page.example'], AllowedMethods: ['GET'] }] };
      server.store.setCors('guarded', cors);
      if (setup.grantEverything) server.store.setPolicy('guarded', POLICY_ALL);
      server.store.setWebsite('guarded', { indexDocument: 'index.html' });
      // The admin store has no getters for these two: read them as the owner would.
      const read = async (sub: string) => {
        const r = await signedRaw(server, 'GET', `/guarded?${sub}`);
        return `${r.status} ${r.text.replace(/<(RequestId|HostId)>[^<]*<\/\1>/g, '')}`;
      };
      const policyBefore = await read('policy');
      const websiteBefore = await read('website');

      const wrongSecret = { accessKeyId: CREDS.accessKeyId, secretAccessKey: 'not-the-secret' };
      const unknownKey = { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: CREDS.secretAccessKey };
      for (const [op, method, path, body, headers] of CHANGES) {
        const attempts = [
          ['unsigned', await raw(server, method, path, { ...headers, Origin: 'http://page.example' }, body)],
          ['signed with the wrong secret', await signedRaw(server, method, path, headers, body, wrongSecret)],
          ['signed with an unknown access key', await signedRaw(server, method, path, headers, body, unknownKey)],
          // Addressed to the website endpoint of the bucket (which never authenticates).
          ['sent to the website endpoint', await raw(server, method, path.replace(/^\/guarded/, '/'), { ...headers, Host: `guarded.s3-website.us-east-1.corsproof.test:${server.port}` }, body)],
        ] as const;
        for (const [how, r] of attempts) {
          if (how === 'sent to the website endpoint') {
            expect(r.status, `${op} ${how}: refused`).toBeGreaterThanOrEqual(400);
            continue;
          }
          expect(r.status, `${op} ${how}: ${r.text}`).toBe(403);
          expect(r.text, `${op} ${how}`).toMatch(/<Code>(AccessDenied|SignatureDoesNotMatch|InvalidAccessKeyId)<\/Code>/);
        }
      }
      // Nothing changed.
      expect(server.store.getCors('guarded')).toEqual(cors);
      expect(await read('policy')).toBe(policyBefore);
      expect(await read('website')).toBe(websiteBefore);
      expect(websiteBefore).toMatch(/^200 .*<Suffix>index\.html<\/Suffix>/s);
      expect(server.store.bucketNames().sort()).toEqual(['empty-bucket', 'guarded']);

      // The same requests, properly signed, succeed: the refusals above were about the signature.
      for (const [op, method, path, body, headers] of CHANGES) {
        const r = await signedRaw(server, method, path, headers, body);
        expect(r.status, `${op} signed: ${r.text}`).toBeLessThan(300);
      }
      expect(server.store.bucketNames().sort()).toEqual(['guarded', 'intruder-bucket']);
    } finally {
      await server.close();
    }
  });
}

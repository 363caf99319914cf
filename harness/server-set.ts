/**
 * The servers one worker needs, in one of three arrangements:
 *
 * - `split` (the matrix): the site origin http://www.example.test:S serves the harness page; the
 *   bucket endpoint http://s3.example.test:B answers S3 requests (anonymous object access open).
 * - `one-origin` (the origin table): the page and the bucket share one origin,
 *   http://www.example.test:P, which also speaks HTTPS on the same port and has a second plain
 *   listener Q — so a request can differ from the page's origin in exactly one of scheme, host or
 *   port, or in none.
 * - `walkthrough` (the note's hands-on section): a bucket server that behaves like S3 for anonymous
 *   users (bucket policies decide), reached through website host names; the site server only
 *   hosts corsproof's runner and control channel.
 */
import { HARNESS_PATH, createSiteApp, siteFront, startSiteServer, type SiteServer } from '../servers/site/index.js';
import { startBucketServer, type BucketServer } from '../servers/bucket/index.js';
import { ExchangeLog } from '../servers/exchange-log.js';
import { makeOrigins, PAGE_HOST, SIBLING_HOST, TEST_HOSTS, type Origins } from './origins.js';
import { serverPort } from './ports.js';
import { makeTestCertificate } from './tls.js';

export type ServerMode = 'split' | 'one-origin' | 'walkthrough';

/** The note's two buckets, reached as website endpoints like the note's AllowedOrigins example. */
export const WALKTHROUGH_REGION = 'eu-west-1';
export const WEBSITE_DOMAIN = 'corsproof.test';
export const websiteHost = (bucket: string) => `${bucket}.s3-website-${WALKTHROUGH_REGION}.${WEBSITE_DOMAIN}`;
export const WALKTHROUGH_BUCKETS = ['my-bucket-html', 'my-bucket-assets'] as const;

export interface ServerSet {
  mode: ServerMode;
  log: ExchangeLog;
  site: SiteServer;
  bucket: BucketServer;
  origins: Origins;
  /** Extra named origins of the arrangement (see each mode). */
  named: Record<string, string>;
  /** Host names the engines must map to loopback. */
  hosts: string[];
  /** True when the arrangement serves HTTPS with a run-time test certificate. */
  tls: boolean;
  close(): Promise<void>;
}

export async function startServerSet(mode: ServerMode, parallelIndex = 0): Promise<ServerSet> {
  const log = new ExchangeLog();
  const host = '127.0.0.1';

  if (mode === 'one-origin') {
    const hosts = [...TEST_HOSTS];
    const cert = await makeTestCertificate(hosts);
    const siteApp = createSiteApp(log);
    const bucket = await startBucketServer({
      host,
      port: await serverPort('bucket', parallelIndex),
      log,
      anonymousAccess: 'open',
      tls: cert,
      extraPorts: [0],
      front: siteFront(siteApp),
    });
    const p = bucket.port;
    const site: SiteServer = {
      url: bucket.url,
      port: p,
      control: siteApp.control,
      setPage: siteApp.setPage,
      close: async () => siteApp.control.closeAll(),
    };
    const origins = { ...makeOrigins(p, p), BUCKET_ORIGIN: `http://${PAGE_HOST}:${p}` };
    return {
      mode,
      log,
      site,
      bucket,
      origins,
      named: {
        SAME_ORIGIN: `http://${PAGE_HOST}:${p}`,
        OTHER_HOST: `http://${SIBLING_HOST}:${p}`,
        OTHER_SCHEME: `https://${PAGE_HOST}:${p}`,
        OTHER_PORT: `http://${PAGE_HOST}:${bucket.extraPorts[0]}`,
      },
      hosts,
      tls: true,
      async close() {
        await site.close();
        await bucket.close();
      },
    };
  }

  const site = await startSiteServer({ host, port: await serverPort('site', parallelIndex), log });
  const walkthrough = mode === 'walkthrough';
  const bucket = await startBucketServer({
    host,
    port: await serverPort('bucket', parallelIndex),
    log,
    websiteDomain: WEBSITE_DOMAIN,
    // The matrix reads and writes objects anonymously, as pages do against a public bucket; the
    // walkthrough keeps S3's own rule (bucket policies decide). Configuration changes always need
    // a signature.
    anonymousAccess: walkthrough ? 'policy' : 'open',
  });
  const named: Record<string, string> = {};
  const hosts = [...TEST_HOSTS];
  if (walkthrough) {
    for (const b of WALKTHROUGH_BUCKETS) {
      hosts.push(websiteHost(b));
      named[b] = `http://${websiteHost(b)}:${bucket.port}`;
    }
  }
  return {
    mode,
    log,
    site,
    bucket,
    origins: makeOrigins(site.port, bucket.port),
    named,
    hosts,
    tls: false,
    async close() {
      await bucket.close();
      await site.close();
    },
  };
}

export { HARNESS_PATH };

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
import { BUCKET_HOST, makeOrigins, PAGE_HOST, SIBLING_HOST, TEST_HOSTS, type Origins } from './origins.js';
import { serverPort } from './ports.js';
import { arrangementNeeds, pageOriginListen, websiteHost, WALKTHROUGH_BUCKETS, WEBSITE_DOMAIN, type ServerMode } from './arrangements.js';
import { testCertificate } from './tls.js';

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

export async function startServerSet(mode: ServerMode, parallelIndex = 0, pageOrigin?: string): Promise<ServerSet> {
  const log = new ExchangeLog();
  const host = '127.0.0.1';
  if (pageOrigin !== undefined && mode !== 'split') throw new Error(`a page origin can only be chosen for the matrix (split) arrangement, not ${mode}`);

  const { hosts, certHosts } = arrangementNeeds(mode, pageOrigin);
  if (mode === 'one-origin') {
    const cert = await testCertificate(certHosts!);
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

  const page = pageOrigin === undefined ? undefined : pageOriginListen(pageOrigin);
  const cert = certHosts ? await testCertificate(certHosts) : undefined;
  const site = await startSiteServer({
    host,
    // A chosen page origin keeps its own port in the browser's eyes (80/443 when the origin has
    // none): the engines reach it through their loopback proxy, routed here (engines/host-map.ts).
    port: await serverPort('site', parallelIndex),
    log,
    ...(cert ? { tls: cert } : {}),
  });
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
    ...(cert ? { tls: cert } : {}),
  });
  const named: Record<string, string> = {};
  if (walkthrough) {
    for (const b of WALKTHROUGH_BUCKETS) named[b] = `http://${websiteHost(b)}:${bucket.port}`;
  }
  return {
    mode,
    log,
    site,
    bucket,
    origins: page
      ? {
          ...makeOrigins(site.port, bucket.port),
          SITE_ORIGIN: page.origin,
          SITE_HOST: page.hostname,
          ...(cert ? { BUCKET_ORIGIN: `https://${BUCKET_HOST}:${bucket.port}` } : {}),
        }
      : makeOrigins(site.port, bucket.port),
    named,
    hosts,
    tls: cert !== undefined,
    async close() {
      await bucket.close();
      await site.close();
    },
  };
}

export { HARNESS_PATH };
export { arrangementNeeds, pageOriginListen, websiteHost, WALKTHROUGH_BUCKETS, WALKTHROUGH_REGION, WEBSITE_DOMAIN, type ServerMode } from './arrangements.js';

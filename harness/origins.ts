/**
 * Named origins for fixtures, in the style of WPT's get-host-info: the page is served from a test
 * host name (mapped to loopback inside the browsers, engines/host-map.ts) so configurations can
 * name sibling subdomains and partial wildcards the way real ones do.
 */
export const TEST_DOMAIN = 'example.test';
export const PAGE_HOST = `www.${TEST_DOMAIN}`;
export const SIBLING_HOST = `other.${TEST_DOMAIN}`;
/** The bucket endpoint's name, like s3.<region>.amazonaws.com (path-style requests). */
export const BUCKET_HOST = `s3.${TEST_DOMAIN}`;
/** Every name the browsers must resolve to 127.0.0.1. */
export const TEST_HOSTS: readonly string[] = [PAGE_HOST, SIBLING_HOST, BUCKET_HOST];

/** Placeholders a fixture may use as `{{NAME}}`. */
export interface Origins {
  /** The page's origin, e.g. http://www.example.test:41234 */
  SITE_ORIGIN: string;
  SITE_HOST: string;
  SITE_PORT: string;
  /** A loopback port nothing in the case listens on: "right host, wrong port". */
  OTHER_PORT: string;
  SIBLING_HOST: string;
  TEST_DOMAIN: string;
  /** The bucket endpoint's origin as pages address it (http://s3.example.test:PORT). */
  BUCKET_ORIGIN: string;
}

export function makeOrigins(sitePort: number, bucketPort: number): Origins {
  return {
    SITE_ORIGIN: `http://${PAGE_HOST}:${sitePort}`,
    SITE_HOST: PAGE_HOST,
    SITE_PORT: String(sitePort),
    OTHER_PORT: String(sitePort === 65535 ? sitePort - 1 : sitePort + 1),
    SIBLING_HOST,
    TEST_DOMAIN,
    BUCKET_ORIGIN: `http://${BUCKET_HOST}:${bucketPort}`,
  };
}

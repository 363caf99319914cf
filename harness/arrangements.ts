/**
 * What each server arrangement (harness/server-set.ts) looks like from outside, without starting
 * anything: the walkthrough's website host names, a chosen page origin's listening address, and what
 * an arrangement asks of the engine (host names to map, TLS). Kept apart from the servers so an engine
 * can be launched while they are still loading and starting.
 */
import type { EngineChoice, EngineStart } from '../engines/types.js';
import { BUCKET_HOST, TEST_HOSTS } from './origins.js';

export type ServerMode = 'split' | 'one-origin' | 'walkthrough';

/** The note's two buckets, reached as website endpoints like the note's AllowedOrigins example. */
export const WALKTHROUGH_REGION = 'eu-west-1';
export const WEBSITE_DOMAIN = 'corsproof.test';
export const websiteHost = (bucket: string) => `${bucket}.s3-website-${WALKTHROUGH_REGION}.${WEBSITE_DOMAIN}`;
export const WALKTHROUGH_BUCKETS = ['my-bucket-html', 'my-bucket-assets'] as const;

/**
 * What an arrangement asks of the engine, known before any server starts (so the engine can be
 * launched while the servers come up): the host names it must map to loopback, and whether it must
 * accept the run's test certificates.
 */
export function arrangementNeeds(mode: ServerMode, pageOrigin?: string): { hosts: string[]; tls: boolean; pageAddress?: string; certHosts?: string[] } {
  const hosts = [...TEST_HOSTS];
  if (mode === 'one-origin') return { hosts, tls: true, certHosts: hosts };
  const page = pageOrigin === undefined ? undefined : pageOriginListen(pageOrigin);
  if (page && !LOOPBACK_NAMES.has(page.hostname)) hosts.push(page.hostname);
  if (mode === 'walkthrough') hosts.push(...WALKTHROUGH_BUCKETS.map(websiteHost));
  return {
    hosts,
    tls: page?.tls ?? false,
    ...(page ? { pageAddress: `${page.hostname}:${page.port}` } : {}),
    // An https page may only fetch https URLs (mixed content), so the bucket speaks TLS too.
    ...(page?.tls ? { certHosts: [page.hostname, BUCKET_HOST] } : {}),
  };
}

/**
 * Launches an engine for an arrangement before its servers exist: the host names it maps, TLS, the
 * chosen page origin routed through its proxy, and the run's test certificate trusted (made first, a
 * few ms). Used by the suite's engineStart fixture and by `corsproof check`'s lanes. Playwright and
 * the certificate library load here, not when this module loads (the CLI reads the rest of it).
 */
export async function startEngineFor(choice: EngineChoice, mode: ServerMode, pageOrigin?: string): Promise<EngineStart> {
  const needs = arrangementNeeds(mode, pageOrigin);
  const cert = needs.certHosts ? await (await import('./tls.js')).testCertificate(needs.certHosts) : undefined;
  return (await import('../engines/index.js')).startEngine(choice, {
    hosts: needs.hosts,
    ignoreTlsErrors: needs.tls,
    ...(needs.pageAddress ? { pageAddress: needs.pageAddress } : {}),
    ...(cert ? { trustCertificate: cert.cert } : {}),
  });
}

export const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1']);

/** Where to listen for a chosen page origin, e.g. https://app.example.com → port 443 with TLS. */
export function pageOriginListen(origin: string): { origin: string; hostname: string; port: number; tls: boolean } {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    throw new Error(`page origin "${origin}" is not a URL origin (scheme://host[:port])`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`page origin "${origin}": only http and https pages make CORS requests`);
  if (u.origin !== origin) throw new Error(`page origin "${origin}" is not how a browser writes it; a browser sends Origin: ${u.origin}`);
  const tls = u.protocol === 'https:';
  return { origin: u.origin, hostname: u.hostname, port: Number(u.port || (tls ? 443 : 80)), tls };
}

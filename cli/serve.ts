/**
 * `corsproof serve`: the bucket server (S3 REST + host-routed website endpoints) and the site
 * server, on local ports, until SIGINT/SIGTERM.
 *
 * Ports: `--bucket-port` / `--site-port`, else CORSPROOF_BUCKET_PORT / CORSPROOF_SITE_PORT (from the
 * environment or `.env`), else free ports. Credentials: CORSPROOF_ACCESS_KEY_ID,
 * CORSPROOF_SECRET_ACCESS_KEY, CORSPROOF_REGION (defaults corsproof / corsproof-secret / us-east-1).
 *
 * The servers' exchange log is bounded (SERVE_KEEP_EXCHANGES): `serve` may run for days, and a
 * test run's log keeps every exchange only because it lives for one run.
 */
import { config as loadDotenv } from 'dotenv';
import getPort from 'get-port';
import { ExchangeLog } from '../servers/exchange-log.js';
import { DEFAULT_CREDENTIALS, DEFAULT_WEBSITE_DOMAIN, startBucketServer, type AnonymousAccess, type BucketServer } from '../servers/bucket/index.js';
import { startSiteServer, type SiteServer } from '../servers/site/index.js';
import { UsageError, usageExit } from './args.js';

/**
 * How many exchanges a long-lived `corsproof serve` keeps in memory: the newest 1000 (a few MB),
 * plus those of any case id still being read (ExchangeLog.hold); older ones are dropped.
 */
export const SERVE_KEEP_EXCHANGES = 1000;

export const SERVE_HELP = `Usage: corsproof serve [options]

Starts the bucket server (path-style S3 REST API, plus S3 website endpoints routed by Host
<bucket>.s3-website.<region>.${DEFAULT_WEBSITE_DOMAIN}) and the site server, prints one line per
server, and runs until interrupted (Ctrl-C).

Options:
  --bucket-port <n>            bucket server port (env CORSPROOF_BUCKET_PORT; default: a free port)
  --site-port <n>              site server port (env CORSPROOF_SITE_PORT; default: a free port)
  --host <address>             address to listen on (default 127.0.0.1)
  --anonymous-access <mode>    'policy' (default, as S3: unsigned requests get what the bucket
                               policy grants) or 'open' (unsigned object reads/writes allowed)
  --help                       show this help

The servers keep the newest ${SERVE_KEEP_EXCHANGES} exchanges (requests and answers) in memory;
older ones are dropped.

Credentials for signed requests: CORSPROOF_ACCESS_KEY_ID, CORSPROOF_SECRET_ACCESS_KEY,
CORSPROOF_REGION (defaults ${DEFAULT_CREDENTIALS.accessKeyId} / ${DEFAULT_CREDENTIALS.secretAccessKey} / ${DEFAULT_CREDENTIALS.region}). A .env file in the
current directory is read.
`;

export interface ServeFlags {
  bucketPort?: number;
  sitePort?: number;
  host: string;
  anonymousAccess: AnonymousAccess;
  help: boolean;
}

function parsePort(v: string | undefined, what: string): number {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`${what} must be a port number (0-65535), got ${JSON.stringify(v ?? '')}.`);
  return Number(v);
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv): ServeFlags {
  const flags: ServeFlags = { host: '127.0.0.1', anonymousAccess: 'policy', help: false };
  if (env['CORSPROOF_BUCKET_PORT']) flags.bucketPort = parsePort(env['CORSPROOF_BUCKET_PORT'], 'CORSPROOF_BUCKET_PORT');
  if (env['CORSPROOF_SITE_PORT']) flags.sitePort = parsePort(env['CORSPROOF_SITE_PORT'], 'CORSPROOF_SITE_PORT');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => (arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    switch (name) {
      case '--help':
      case '-h':
        flags.help = true;
        break;
      case '--bucket-port':
        flags.bucketPort = parsePort(value(), '--bucket-port');
        break;
      case '--site-port':
        flags.sitePort = parsePort(value(), '--site-port');
        break;
      case '--host': {
        const h = value();
        if (!h) throw new UsageError('--host needs an address.');
        flags.host = h;
        break;
      }
      case '--anonymous-access': {
        const m = value();
        if (m !== 'policy' && m !== 'open') throw new UsageError(`--anonymous-access must be 'policy' or 'open', got ${JSON.stringify(m ?? '')}.`);
        flags.anonymousAccess = m;
        break;
      }
      default:
        throw new UsageError(`Unknown option ${JSON.stringify(arg)} for corsproof serve (see corsproof serve --help).`);
    }
  }
  return flags;
}

export async function serve(argv: string[]): Promise<number> {
  loadDotenv({ quiet: true });
  let flags: ServeFlags;
  try {
    flags = parseServeArgs(argv, process.env);
  } catch (e) {
    return usageExit(e, process);
  }
  if (flags.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  let running: Serving;
  try {
    running = await startServing(flags, process.env);
    process.stdout.write(
      `bucket ${running.bucket.url}\n` +
        `site ${running.site.url}\n` +
        `website ${running.bucket.websiteUrl('<bucket>')} (host-routed to the bucket port)\n`,
    );
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL')
      process.stderr.write(`corsproof serve could not listen (${err.code}): ${err.message}\n`);
    else process.stderr.write(`corsproof serve failed to start: ${err.message ?? String(e)}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.close();
  return 0;
}

export interface Serving {
  bucket: BucketServer;
  site: SiteServer;
  /** Both servers' exchanges, bounded to SERVE_KEEP_EXCHANGES. */
  log: ExchangeLog;
  close(): Promise<void>;
}

/** What `corsproof serve` runs: the bucket and site servers on one bounded exchange log. */
export async function startServing(flags: ServeFlags, env: NodeJS.ProcessEnv): Promise<Serving> {
  const host = flags.host;
  const log = new ExchangeLog({ keep: SERVE_KEEP_EXCHANGES });
  const credentials = {
    accessKeyId: env['CORSPROOF_ACCESS_KEY_ID'] || DEFAULT_CREDENTIALS.accessKeyId,
    secretAccessKey: env['CORSPROOF_SECRET_ACCESS_KEY'] || DEFAULT_CREDENTIALS.secretAccessKey,
    region: env['CORSPROOF_REGION'] || DEFAULT_CREDENTIALS.region,
  };
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const bucketPort = flags.bucketPort ?? (await getPort({ host }));
    const bucket = await startBucketServer({ host, port: bucketPort, log, credentials, anonymousAccess: flags.anonymousAccess });
    closers.push(() => bucket.close());
    const sitePort = flags.sitePort ?? (await getPort({ host, exclude: [bucket.port] }));
    const site = await startSiteServer({ host, port: sitePort, log });
    closers.push(() => site.close());
    return { bucket, site, log, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/**
 * Ceph RGW (the Ceph Object Gateway, Debian's `radosgw` 16.2 "pacific") as a throwaway one-node
 * cluster on loopback: one monitor, one OSD on `memstore` (RAM, capped at 2 GiB), no manager, and
 * radosgw's S3 API on a free port of 127.0.0.1. About 13 s to start and ≈ 135 MB.
 *
 * Recipe from ../shared/peers/ceph-rgw-up.sh, made self-contained and collision-free: every port is
 * a free one (monitor v2 + v1 and the S3 endpoint; the OSD picks its own in Ceph's 6800–7300 range),
 * every file lives in one directory, and every daemon runs in the foreground of its own process
 * group, recorded by pid and start time in `<dir>/daemons.json` (stores/daemons.ts) — so a stale
 * cluster or another user's never collides with this one, and only these processes are stopped.
 *
 * Packages: `apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd ceph-common`
 * (scripts/provision.mjs does it on Debian as root).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import getPort from 'get-port';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readRecords, recordDaemon, isRunning, spawnDaemon, stopDaemons, type DaemonRecord } from './daemons.js';

export const RGW_PACKAGES = ['radosgw', 'ceph-mon', 'ceph-osd', 'ceph-common'] as const;
export const RGW_INSTALL_HINT = `apt-get install -y --no-install-recommends ${RGW_PACKAGES.join(' ')}`;
/** The executables each package provides that the cluster needs. */
const BINARIES: Record<string, string> = {
  radosgw: 'radosgw',
  'ceph-mon': 'ceph-mon',
  monmaptool: 'ceph-mon',
  'ceph-osd': 'ceph-osd',
  ceph: 'ceph-common',
  'radosgw-admin': 'radosgw',
};
const PATHS = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/bin', '/sbin'];

export const RGW_CREDENTIALS = { accessKeyId: 'corsproof', secretAccessKey: 'corsproof-secret' } as const;
/** RGW's default zonegroup accepts SigV4 for this region name. */
export const RGW_REGION = 'us-east-1';

function which(cmd: string): string | undefined {
  for (const p of (process.env['PATH'] ?? '').split(':').concat(PATHS)) {
    if (p && existsSync(join(p, cmd))) return join(p, cmd);
  }
  return undefined;
}

/** Which of the needed executables are missing, and the packages that provide them. */
export function rgwMissing(): { binaries: string[]; packages: string[] } {
  const binaries = Object.keys(BINARIES).filter((b) => !which(b));
  return { binaries, packages: [...new Set(binaries.map((b) => BINARIES[b]!))] };
}

export interface RgwCluster {
  /** The S3 endpoint, e.g. http://127.0.0.1:41733 */
  endpoint: string;
  dir: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  daemons: DaemonRecord[];
  /** Seconds the cluster took to answer S3 requests. */
  startSeconds: number;
  version: string;
}

/** What `<dir>/cluster.json` holds once the cluster is up (read by other workers of the run). */
type ClusterFile = Omit<RgwCluster, 'daemons'>;

export const daemonsFile = (dir: string) => join(dir, 'daemons.json');
const clusterFile = (dir: string) => join(dir, 'cluster.json');

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8', killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message.split('\n')[0]}${stderr ? `\n${stderr.trim().slice(-800)}` : ''}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function conf(dir: string, fsid: string, ports: { monV2: number; monV1: number; rgw: number }): string {
  return `[global]
fsid = ${fsid}
mon initial members = a
mon host = v2:127.0.0.1:${ports.monV2},v1:127.0.0.1:${ports.monV1}
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind ipv4 = true
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
# daemons (radosgw) default to 'secure' mon mode, which auth=none cannot provide -> EACCES (-13) at connect
ms mon client mode = crc secure
run dir = ${dir}/run
admin socket = ${dir}/run/$cluster-$name.asok
log file = ${dir}/log/$name.log
pid file = ${dir}/run/$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0

[mon]
mon data = ${dir}/mon.$id
# A one-monitor throwaway cluster: commit map changes (pool creation) at once, not once a second.
paxos propose interval = 0.01
paxos min wait = 0.001

[osd]
osd data = ${dir}/osd.$id
osd objectstore = memstore
memstore device bytes = 2147483648
osd max object name len = 460
osd max object namespace len = 64

[client.rgw.corsproof]
# tcp_nodelay: without it beast writes a GET's headers and body in two segments and Nagle holds the
# second until the client's delayed ACK, ≈ 40 ms on every GET (measured through WebKit's proxy).
rgw frontends = beast endpoint=127.0.0.1:${ports.rgw} tcp_nodelay=1
rgw data = ${dir}/rgw
log file = ${dir}/log/rgw.log
`;
}

function tail(file: string, n = 1200): string {
  try {
    return readFileSync(file, 'utf8').slice(-n).trim();
  } catch {
    return '';
  }
}

/**
 * Starts a cluster in `dir` (created; must not hold a running cluster). Throws with what to install
 * when the packages are missing, and with the failing step and its log otherwise — after stopping
 * whatever it had started.
 */
export async function startRgw(dir: string, opts: { log?: (line: string) => void; timeoutMs?: number } = {}): Promise<RgwCluster> {
  const missing = rgwMissing();
  if (missing.binaries.length) {
    throw new Error(
      `Ceph RGW is not installed (missing ${missing.binaries.join(', ')}): on Debian/Ubuntu run \`${RGW_INSTALL_HINT}\` as root (npm test does it when it runs as root)`,
    );
  }
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const deadline = t0 + (opts.timeoutMs ?? 120_000);
  const left = () => Math.max(1_000, deadline - Date.now());
  for (const d of ['run', 'log', 'mon.a', 'osd.0', 'rgw']) mkdirSync(join(dir, d), { recursive: true });
  const ports = { monV2: await getPort({ host: '127.0.0.1' }), monV1: 0, rgw: 0 };
  ports.monV1 = await getPort({ host: '127.0.0.1', exclude: [ports.monV2] });
  ports.rgw = await getPort({ host: '127.0.0.1', exclude: [ports.monV2, ports.monV1] });
  const cfg = join(dir, 'ceph.conf');
  const fsid = randomUUID();
  writeFileSync(cfg, conf(dir, fsid, ports));
  const records = daemonsFile(dir);
  const c = ['-c', cfg];
  const started = (name: string, cmd: string, args: string[]) => {
    const d = spawnDaemon(name, which(cmd)!, args, join(dir, 'log', `${name}.out`));
    recordDaemon(records, d);
    return d;
  };
  const alive = (d: DaemonRecord, step: string) => {
    if (!isRunning(d)) throw new Error(`${d.name} exited during "${step}"; its log ends:\n${tail(join(dir, 'log', `${d.name}.out`))}\n${tail(join(dir, 'log', `${d.name === 'rgw' ? 'rgw' : d.name}.log`))}`);
  };
  let step = 'monitor';
  // Seconds per step, for the log line (where a slow start spends its time).
  const marks: string[] = [];
  let lap = Date.now();
  const mark = (next: string) => {
    marks.push(`${step} ${((Date.now() - lap) / 1000).toFixed(1)}`);
    lap = Date.now();
    step = next;
  };
  try {
    await run(which('monmaptool')!, ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${ports.monV2},v1:127.0.0.1:${ports.monV1}]`, join(dir, 'monmap')], 20_000);
    await run(which('ceph-mon')!, [...c, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap')], 30_000);
    const mon = started('mon.a', 'ceph-mon', [...c, '-f', '-i', 'a']);
    mark('OSD');
    const osdUuid = randomUUID();
    // `ceph osd new` also waits for the monitor to answer.
    await run(which('ceph')!, [...c, '--connect-timeout', '30', 'osd', 'new', osdUuid, '0'], Math.min(left(), 60_000));
    alive(mon, step);
    await run(which('ceph-osd')!, [...c, '-i', '0', '--mkfs', '--osd-uuid', osdUuid], 30_000);
    const osd = started('osd.0', 'ceph-osd', [...c, '-f', '-i', '0']);
    mark('radosgw');
    // radosgw waits for the OSD itself (it creates its pools), so no separate "osd up" poll.
    const rgw = started('rgw', 'radosgw', [...c, '-f', '-n', 'client.rgw.corsproof']);
    const endpoint = `http://127.0.0.1:${ports.rgw}`;
    for (;;) {
      alive(mon, step);
      alive(osd, step);
      alive(rgw, step);
      try {
        const r = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2_000) });
        await r.arrayBuffer();
        break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`radosgw did not answer on ${endpoint} within ${opts.timeoutMs ?? 120_000} ms`);
      await sleep(250);
    }
    mark('S3 user');
    await run(
      which('radosgw-admin')!,
      [...c, '-n', 'client.rgw.corsproof', 'user', 'create', '--uid=corsproof', '--display-name=corsproof', `--access-key=${RGW_CREDENTIALS.accessKeyId}`, `--secret=${RGW_CREDENTIALS.secretAccessKey}`],
      Math.min(left(), 120_000),
    );
    // RGW creates its bucket-index and data pools on the first bucket and object: seconds that
    // would otherwise land on the first case of the run.
    mark('first bucket');
    const s3 = new S3Client({ endpoint, forcePathStyle: true, region: RGW_REGION, credentials: { ...RGW_CREDENTIALS } });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'corsproof-warm-up' }));
      await s3.send(new PutObjectCommand({ Bucket: 'corsproof-warm-up', Key: 'warm-up', Body: 'warm-up' }));
      await s3.send(new DeleteObjectCommand({ Bucket: 'corsproof-warm-up', Key: 'warm-up' }));
    } finally {
      s3.destroy();
    }
    mark('done');
    const version = (await run(which('radosgw')!, ['--version'], 10_000)).trim().split('\n')[0] ?? 'radosgw';
    const cluster: ClusterFile = {
      endpoint,
      dir,
      credentials: { ...RGW_CREDENTIALS },
      region: RGW_REGION,
      startSeconds: (Date.now() - t0) / 1000,
      version,
    };
    writeFileSync(clusterFile(dir), JSON.stringify(cluster, null, 2));
    log(`Ceph RGW up at ${endpoint} in ${cluster.startSeconds.toFixed(1)} s (${marks.join(', ')}; ${version}; pids ${readRecords(records).map((d) => `${d.name}=${d.pid}`).join(' ')})`);
    return { ...cluster, daemons: readRecords(records) };
  } catch (e) {
    await stopDaemons(readRecords(records));
    throw new Error(`Ceph RGW did not start (step: ${step}; files in ${dir}): ${(e as Error).message}`);
  }
}

/** The cluster recorded in `dir` when all its daemons still run, else undefined. */
export function runningRgw(dir: string): RgwCluster | undefined {
  if (!existsSync(clusterFile(dir))) return undefined;
  const daemons = readRecords(daemonsFile(dir));
  if (daemons.length < 3 || !daemons.every(isRunning)) return undefined;
  return { ...(JSON.parse(readFileSync(clusterFile(dir), 'utf8')) as ClusterFile), daemons };
}

/** Stops the cluster recorded in `dir` (by recorded pids only) and removes its files. */
export async function stopRgw(dir: string): Promise<string[]> {
  const stopped = await stopDaemons(readRecords(daemonsFile(dir)));
  rmSync(dir, { recursive: true, force: true });
  return stopped;
}

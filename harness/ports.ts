/**
 * Ports for the harness's servers: free ones from get-port, unless `.env` pins a base port
 * (`CORSPROOF_SITE_PORT`, `CORSPROOF_BUCKET_PORT`). Pinned ports are offset by the worker's
 * parallel index so parallel workers never collide (worker 0 gets the port as written).
 */
import getPort from 'get-port';

const VARS = { site: 'CORSPROOF_SITE_PORT', bucket: 'CORSPROOF_BUCKET_PORT' } as const;

export function pinnedPort(server: keyof typeof VARS, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[VARS[server]]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`${VARS[server]}=${raw} is not a TCP port (1–65535)`);
  }
  return n;
}

export async function serverPort(server: keyof typeof VARS, parallelIndex = 0): Promise<number> {
  const pinned = pinnedPort(server);
  if (pinned !== undefined) return pinned + parallelIndex;
  return getPort({ host: '127.0.0.1' });
}

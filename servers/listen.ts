/**
 * One listener for the servers: plain HTTP, or HTTP and HTTPS on the same port when given a
 * certificate (a connection whose first byte is a TLS handshake record goes to TLS, anything else
 * to plain HTTP). Serving both schemes on one port lets `http://host:P` and `https://host:P` differ
 * in nothing but the scheme — the origin table needs exactly that. Binds 127.0.0.1 unless told
 * otherwise; `close()` also ends keep-alive connections, so tests never wait on idle sockets.
 */
import http, { type RequestListener, type Server } from 'node:http';
import https from 'node:https';
import net, { type Socket } from 'node:net';

export interface Listener {
  port: number;
  close(): Promise<void>;
}

const TLS_HANDSHAKE = 0x16;

export async function listenHttp(
  handler: RequestListener,
  opts: { host: string; port: number; tls?: { key: string; cert: string } },
  configure: (server: Server) => void = () => {},
): Promise<Listener> {
  const plain = http.createServer({ requireHostHeader: false }, handler);
  configure(plain);
  const secure = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert, requireHostHeader: false }, handler) : undefined;
  if (secure) configure(secure);
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };

  const front: net.Server = secure
    ? net.createServer((socket) => {
        track(socket);
        socket.once('data', (first: Buffer) => {
          socket.pause();
          socket.unshift(first);
          (first[0] === TLS_HANDSHAKE ? secure : plain).emit('connection', socket);
          process.nextTick(() => socket.resume());
        });
        socket.on('error', () => socket.destroy());
      })
    : plain;
  if (!secure) plain.on('connection', track);

  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(opts.port, opts.host, () => {
      front.off('error', reject);
      resolve();
    });
  });
  const addr = front.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        front.close(() => resolve());
        plain.closeAllConnections();
        secure?.closeAllConnections();
        for (const s of sockets) s.destroy();
      }),
  };
}

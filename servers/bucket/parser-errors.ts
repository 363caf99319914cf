/**
 * Requests Node's HTTP parser rejects (CR/LF inside a header value, a malformed request line, a
 * header section over 16 KiB, broken chunked framing, …) never reach Express: Node hands the
 * connection to the server's 'clientError' listener instead. This module is that listener, and it
 * answers the way an HTTP/1.1 server must:
 *
 * - **Nothing is written over another answer.** A connection may carry requests whose answers are
 *   still being written (pipelining: a valid request followed by bytes the parser rejects). The
 *   refusal waits until every earlier answer has been written in full, then goes out, then the
 *   connection closes. If an earlier answer closed the connection itself, there is nothing more to
 *   write.
 * - **A HEAD answer has no body.** The refusal of a request that began with `HEAD ` has the status
 *   and headers only; every other refusal carries the S3 error document.
 * - **A broken body belongs to its request.** When the parser fails inside the body of a request
 *   whose handler is running, that handler's body read fails with the S3 error (body.ts `failBody`)
 *   and the request is answered through the usual writers (CORS headers, exchange log); if it was
 *   already answered, nothing more is sent.
 * - The connection is closed gracefully (FIN, then what the client still sends is read and
 *   dropped), so a client still writing an over-size request reads the answer instead of a reset.
 *
 * Node's own default (no listener) answers a bare `400 Bad Request` without an S3 error document
 * and drops a pending answer; this module is what replaces it.
 *
 * UNVERIFIED choice: S3's answer to an unparseable request is not in the reference; it is 400
 * BadRequest "An error occurred when parsing the HTTP request." (the S3 BadRequest wording) — and
 * RequestHeaderSectionTooLarge for an over-size header section.
 *
 * Limitation: which method a refused request had is read from the bytes received since the last
 * complete request. A client that pipelines a request *with a body* and then a malformed HEAD
 * could have its HEAD taken for another method; no HTTP client pipelines (browsers, the AWS SDKs
 * and the AWS CLI do not).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { ExchangeLog } from '../exchange-log.js';
import { failBody } from './body.js';
import { Errors, S3Error, errorXml } from './errors.js';

/**
 * How much of a connection's input is kept to find the start of a refused request: more than
 * Node's 16 KiB header limit plus one socket read (64 KiB), so the start of a header section the
 * parser refuses is always still there.
 */
const KEEP_BYTES = 128 * 1024;
/** After the refusal: how long a client that keeps sending may hold the half-closed connection. */
const LINGER_MS = 5_000;

interface Connection {
  /** Requests received whose answers have not finished. */
  pending: number;
  /** The latest request received (its body may still be arriving) and its response. */
  last?: { req: IncomingMessage; res: ServerResponse };
  /** Requests received so far on this connection. */
  requests: number;
  /** Input since the current message began (the newest chunks, about KEEP_BYTES). */
  input: Buffer[];
  inputBytes: number;
  /** `requests` when `input` began: equal while the first message of `input` has not become a request. */
  inputRequests: number;
  /** Set at the first parser error; later ones on the same connection are the same failure. */
  failed: boolean;
  /** Runs once every pending answer has finished. */
  whenIdle?: () => void;
}

/** Installs the parser-error handling on one listener of the bucket server. */
export function answerParserErrors(server: Server, log: ExchangeLog): void {
  const connections = new WeakMap<Socket, Connection>();

  // Node's HTTP machinery reads the TLS socket on an HTTPS server, the TCP socket otherwise.
  server.on(server instanceof HttpsServer ? 'secureConnection' : 'connection', (socket: Socket) => {
    const c: Connection = { pending: 0, requests: 0, input: [], inputBytes: 0, inputRequests: 0, failed: false };
    connections.set(socket, c);
    // Before Node's parser sees the chunk (it may fail on it, synchronously).
    socket.prependListener('data', (chunk: Buffer) => {
      if (c.failed) return;
      if (c.requests > c.inputRequests && c.pending === 0 && c.last?.req.complete) {
        // Every request received so far is complete and answered: this chunk begins a new one.
        c.input = [];
        c.inputBytes = 0;
        c.inputRequests = c.requests;
      }
      c.input.push(chunk);
      c.inputBytes += chunk.length;
      while (c.inputBytes - c.input[0]!.length >= KEEP_BYTES) c.inputBytes -= c.input.shift()!.length;
    });
  });

  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const c = connections.get(req.socket);
    if (!c) return;
    c.pending++;
    c.requests++;
    c.last = { req, res };
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      c.pending--;
      if (c.pending === 0 && c.whenIdle) {
        const run = c.whenIdle;
        c.whenIdle = undefined;
        run();
      }
    };
    res.on('finish', finished);
    res.on('close', finished);
  });

  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number }, socket: Socket) => {
    const c = connections.get(socket);
    if (c?.failed) return;
    if (c) c.failed = true;
    socket.on('error', () => socket.destroy());
    if (err.code === 'ECONNRESET' || !socket.writable || !c) {
      socket.destroy();
      return;
    }
    const s3 =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? new S3Error(400, 'RequestHeaderSectionTooLarge', 'Your request header section exceeds the maximum allowed size.')
        : Errors.badRequestParse();
    const why = (method: string) => `${method ? `${method} ` : ''}request rejected by the HTTP parser (${err.code ?? err.message})`;

    const current = c.last;
    if (current && !current.req.complete) {
      // Inside the body of a request being handled: it is that request's answer.
      if (!current.res.headersSent) {
        current.res.setHeader('Connection', 'close');
        failBody(current.req, s3);
      }
      afterPending(c, () => closeGracefully(socket));
      return;
    }
    // A new request that never became one: answer it after every earlier answer.
    const method = refusedMethod(c, err);
    afterPending(c, () => {
      if (!socket.writable) {
        // That answer is still being flushed: let it, the connection is closing anyway.
        record(log, 0, {}, `${why(method)}; not answered: an earlier answer closed the connection`);
        closeGracefully(socket);
        return;
      }
      const { head, headers } = writeRefusal(socket, s3, method === 'HEAD');
      record(log, s3.status, headers, `${why(method)}; answered ${s3.code}${head ? ' (HEAD: no body)' : ''}`);
      closeGracefully(socket);
    });
  });
}

function afterPending(c: Connection, run: () => void): void {
  if (c.pending === 0) run();
  else c.whenIdle = run;
}

/** FIN now; what the client still sends is read and dropped until it closes, LINGER_MS at most. */
function closeGracefully(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writable) socket.end();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * The method of the request the parser refused, from the input since the last complete request:
 * the first token after the last blank line (the end of an earlier pipelined request's headers)
 * before the error. '' when it is not a method followed by a space.
 */
function refusedMethod(c: Connection, err: { rawPacket?: Buffer; bytesParsed?: number }): string {
  const chunks = [...c.input];
  const lastChunk = chunks[chunks.length - 1];
  if (lastChunk !== undefined && err.rawPacket === lastChunk && typeof err.bytesParsed === 'number')
    chunks[chunks.length - 1] = lastChunk.subarray(0, err.bytesParsed);
  const text = Buffer.concat(chunks).toString('latin1');
  const crlf = text.lastIndexOf('\r\n\r\n');
  const lf = text.lastIndexOf('\n\n');
  const start = Math.max(crlf < 0 ? 0 : crlf + 4, lf < 0 ? 0 : lf + 2);
  return /^(?:\r?\n)*([A-Z]+) /.exec(text.slice(start))?.[1] ?? '';
}

/** The S3 error answer written straight to the socket; no body after a HEAD. */
function writeRefusal(socket: Socket, s3: S3Error, head: boolean): { head: boolean; headers: Record<string, string> } {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const hostId = randomBytes(57).toString('base64');
  const body = head ? '' : errorXml(s3, requestId, hostId);
  const headers: Record<string, string> = {
    'x-amz-request-id': requestId,
    'x-amz-id-2': hostId,
    ...(head ? {} : { 'Content-Type': 'application/xml', 'Content-Length': String(Buffer.byteLength(body)) }),
    Date: new Date().toUTCString(),
    Server: 'AmazonS3',
    Connection: 'close',
  };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.write(`HTTP/1.1 ${s3.status} Bad Request\r\n${lines.join('')}\r\n${body}`);
  return { head, headers };
}

function record(log: ExchangeLog, status: number, headers: Record<string, string>, note: string): void {
  log.record({
    at: new Date().toISOString(),
    server: 'bucket',
    method: '(unparseable)',
    url: '',
    requestHeaders: {},
    status,
    responseHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    note,
    durationMs: 0,
  });
}

/**
 * Request bodies: reading with a size limit, `Expect: 100-continue`, and the `aws-chunked`
 * content encoding that the AWS SDKs and CLI use for streaming uploads
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html):
 *
 *   <hex-size>[;chunk-signature=<sig>]\r\n<bytes>\r\n ... 0[;chunk-signature=<sig>]\r\n[<trailer>:<value>\r\n ...]\r\n
 *
 * Chunk signatures are verified in auth.ts; this module only takes the encoding apart.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Errors } from './errors.js';

const BODY_FAILURE = Symbol('corsproof.bodyFailure');

/**
 * The rest of `req`'s body will never arrive as valid HTTP (Node's parser rejected it, see
 * parser-errors.ts): `readBody` rejects with `err`, now or when it is called, so the request's own
 * handler answers it with S3's error through the usual writers.
 */
export function failBody(req: IncomingMessage, err: Error): void {
  const r = req as unknown as Record<symbol, Error | undefined>;
  if (r[BODY_FAILURE]) return;
  r[BODY_FAILURE] = err;
  req.emit(BODY_FAILURE, err);
}

/**
 * Reads the whole body into memory, refusing more than `limit` bytes.
 *
 * An over-size body announced by Content-Length is refused before any byte is read when the client
 * waits for `100 Continue` (it then never uploads) or when it exceeds `drainCap`. Otherwise the
 * excess is read and discarded up to `drainCap` bytes, so that a client that is still sending gets
 * to read the error response; past that the connection is destroyed.
 */
export async function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  opts: { limit: number; tooLarge: (size: number) => Error; declaredSize?: number; drainCap?: number },
): Promise<Buffer> {
  const failed = (req as unknown as Record<symbol, Error | undefined>)[BODY_FAILURE];
  if (failed) throw failed;
  const declared = opts.declaredSize ?? contentLength(req);
  const expectsContinue = /100-continue/i.test(req.headers['expect'] ?? '');
  const drainCap = opts.drainCap ?? Math.max(opts.limit * 4, 64 * 1024 * 1024);
  if (declared !== undefined && declared > opts.limit && (expectsContinue || declared > drainCap)) {
    // Refused before a byte is read: the client waiting for 100 Continue never sends the body
    // (or it is too big to be worth draining); close the connection after answering.
    res.setHeader('Connection', 'close');
    throw opts.tooLarge(declared);
  }
  if (expectsContinue && !res.headersSent) res.writeContinue();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > drainCap) {
        cleanup();
        req.destroy();
        reject(opts.tooLarge(size));
        return;
      }
      if (size > opts.limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      cleanup();
      if (over) reject(opts.tooLarge(size));
      else if (declared !== undefined && size < declared) reject(Errors.incompleteBody());
      else resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAborted = () => {
      cleanup();
      reject(Errors.incompleteBody());
    };
    const onFailure = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      req.off(BODY_FAILURE, onFailure);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
    req.on(BODY_FAILURE, onFailure);
  });
}

export function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export interface AwsChunk {
  data: Buffer;
  signature?: string;
}

export interface DecodedAwsChunked {
  chunks: AwsChunk[];
  /** The final zero-length chunk's signature, if signed. */
  finalSignature?: string;
  /** Trailing headers in order, names lower-cased. */
  trailers: Array<[string, string]>;
  /** `x-amz-trailer-signature`, when the payload is signed with trailers. */
  trailerSignature?: string;
}

/** Takes an `aws-chunked` body apart; throws IncompleteBody on any framing error. */
export function decodeAwsChunked(buf: Buffer): DecodedAwsChunked {
  const chunks: AwsChunk[] = [];
  let pos = 0;
  const readLine = (): string => {
    const end = buf.indexOf('\r\n', pos, 'latin1');
    if (end < 0) throw Errors.incompleteBody();
    const line = buf.subarray(pos, end).toString('latin1');
    pos = end + 2;
    return line;
  };
  for (;;) {
    const header = readLine();
    const [sizeHex = '', ...exts] = header.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeHex.trim())) throw Errors.incompleteBody();
    const size = parseInt(sizeHex.trim(), 16);
    let signature: string | undefined;
    for (const ext of exts) {
      const [k, v] = ext.split('=');
      if (k?.trim() === 'chunk-signature' && v !== undefined) signature = v.trim();
    }
    if (size === 0) {
      const trailers: Array<[string, string]> = [];
      let trailerSignature: string | undefined;
      while (pos < buf.length) {
        const line = readLine();
        if (line === '') break;
        const colon = line.indexOf(':');
        if (colon < 0) throw Errors.incompleteBody();
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === 'x-amz-trailer-signature') trailerSignature = value;
        else trailers.push([name, value]);
      }
      return {
        chunks,
        ...(signature !== undefined ? { finalSignature: signature } : {}),
        trailers,
        ...(trailerSignature !== undefined ? { trailerSignature } : {}),
      };
    }
    if (pos + size + 2 > buf.length) throw Errors.incompleteBody();
    const data = buf.subarray(pos, pos + size);
    pos += size;
    if (buf.subarray(pos, pos + 2).toString('latin1') !== '\r\n') throw Errors.incompleteBody();
    pos += 2;
    chunks.push({ data, ...(signature !== undefined ? { signature } : {}) });
  }
}

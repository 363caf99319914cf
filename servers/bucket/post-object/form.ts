/**
 * POST Object's `multipart/form-data` body, parsed with busboy the way S3 reads it:
 * - the file is the `form-data` part named `file` (any case), whether or not it has a `filename`;
 *   a part with a `filename` but another name is an ordinary field (ceph s3-tests sends every
 *   field so);
 * - the fields before the file count; everything after the file is ignored (S3's docs: "Any
 *   fields below it are ignored");
 * - the fields before the file may take 20,480 bytes (S3's MaxPostPreDataLengthExceeded);
 * - values are UTF-8 ("The form and policy must be UTF-8 encoded").
 *
 * Sources as in ./policy.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import busboy from 'busboy';
import { S3Error } from '../errors.js';
import type { FormField } from './policy.js';

export const MAX_PRE_FILE_BYTES = 20_480;

export interface PostForm {
  /** Fields before the file, in order, names as sent. */
  fields: FormField[];
  file: {
    data: Buffer;
    /**
     * The file name as S3 uses it for `${filename}`: the text after the last `/` or `\`;
     * undefined when the part had no filename parameter (S3 then leaves `${filename}` as it is).
     */
    filename?: string;
  };
}

export const FormErrors = {
  notMultipart: () =>
    new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', [
      ['Condition', 'Bucket POST must be of the enclosure-type multipart/form-data'],
    ]),
  malformed: (detail: string) =>
    new S3Error(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.', [], detail),
  preDataTooLarge: () =>
    new S3Error(400, 'MaxPostPreDataLengthExceeded', 'Your POST request fields preceeding the upload file was too large.', [
      ['MaxPostPreDataLengthBytes', String(MAX_PRE_FILE_BYTES)],
    ]),
  noFile: () =>
    new S3Error(400, 'InvalidArgument', 'POST requires exactly one file upload per request.', [
      ['ArgumentName', 'file'],
      ['ArgumentValue', '0'],
    ]),
  fileTooLarge: (size: number, max: number) =>
    new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', [
      ['ProposedSize', String(size)],
      ['MaxSizeAllowed', String(max)],
    ]),
};

/** `C:\dir\a.txt` → `a.txt` (sigv4-HTTPPOSTForms: only the text after the last slash or backslash). */
export function baseFilename(name: string): string {
  return name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
}

/** Whether the request's Content-Type is multipart/form-data (412 PreconditionFailed otherwise). */
export function requireMultipart(req: IncomingMessage): void {
  const ct = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*(;|$)/i.test(ct.trim())) throw FormErrors.notMultipart();
  if (!/;\s*boundary=/i.test(ct)) throw FormErrors.malformed('the Content-Type has no boundary parameter');
}

/**
 * Reads the form. `maxFileBytes`: the largest file accepted (EntityTooLarge above; the rest of the
 * body is read and dropped so the client gets the answer).
 */
export function readPostForm(req: IncomingMessage, res: ServerResponse, maxFileBytes: number): Promise<PostForm> {
  requireMultipart(req);
  // A body announced far above the largest file plus the fields before it cannot hold an
  // acceptable file: refused before it is read (the connection closes after the answer).
  const declared = Number(req.headers['content-length']);
  if (Number.isSafeInteger(declared) && declared > maxFileBytes + MAX_PRE_FILE_BYTES + 64 * 1024) {
    res.setHeader('Connection', 'close');
    return Promise.reject(FormErrors.fileTooLarge(declared, maxFileBytes));
  }
  if (/100-continue/i.test(req.headers['expect'] ?? '') && !res.headersSent) res.writeContinue();
  return new Promise<PostForm>((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        preservePath: true,
        // Field values arrive as latin1 (one char a byte) and are decoded as UTF-8 here, so a file
        // sent as a plain field (no filename) keeps its exact bytes.
        defCharset: 'latin1',
        defParamCharset: 'utf8',
        limits: { fieldSize: Math.max(maxFileBytes, MAX_PRE_FILE_BYTES) + 1, fileSize: maxFileBytes + 1, fieldNameSize: 1024 },
      });
    } catch (e) {
      reject(FormErrors.malformed(e instanceof Error ? e.message : String(e)));
      return;
    }
    const fields: FormField[] = [];
    let preBytes = 0;
    let file: PostForm['file'] | undefined;
    /** Set when the file part begins: parts after it are ignored, even before its bytes are in. */
    let fileStarted = false;
    let failure: S3Error | undefined;
    const pending: Array<Promise<void>> = [];
    const fail = (e: S3Error) => {
      failure ??= e;
    };
    const addField = (name: string, raw: Buffer) => {
      if (fileStarted || failure) return;
      preBytes += Buffer.byteLength(name) + raw.length;
      if (preBytes > MAX_PRE_FILE_BYTES) return fail(FormErrors.preDataTooLarge());
      fields.push([name, raw.toString('utf8')]);
    };
    bb.on('field', (name: string, value: string, info: busboy.FieldInfo) => {
      if (fileStarted || failure) return;
      const raw = Buffer.from(value, 'latin1');
      if (name.toLowerCase() === 'file') {
        fileStarted = true;
        if (info.valueTruncated) return fail(FormErrors.fileTooLarge(raw.length, maxFileBytes));
        file = { data: raw };
        return;
      }
      if (info.valueTruncated) return fail(FormErrors.preDataTooLarge());
      addField(name, raw);
    });
    bb.on('file', (name: string, stream: NodeJS.ReadableStream & { truncated?: boolean }, info: busboy.FileInfo) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const isFile = name.toLowerCase() === 'file' && !fileStarted && !failure;
      const isField = !isFile && !fileStarted;
      if (isFile) fileStarted = true;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= maxFileBytes + 1) chunks.push(c);
      });
      pending.push(new Promise<void>((done) => {
        // busboy destroys an unfinished part's stream with its own error (reported on bb).
        stream.on('error', () => done());
        stream.on('end', () => {
          const data = Buffer.concat(chunks);
          if (isFile) {
            if (stream.truncated || size > maxFileBytes) fail(FormErrors.fileTooLarge(size, maxFileBytes));
            // busboy reports filename="" as no filename; S3 then expands ${filename} to "".
            else file = { data, filename: baseFilename(info.filename ?? '') };
          } else if (isField) {
            if (!failure) {
              preBytes += Buffer.byteLength(name) + data.length;
              if (preBytes > MAX_PRE_FILE_BYTES) fail(FormErrors.preDataTooLarge());
              else fields.push([name, data.toString('utf8')]);
            }
          }
          done();
        });
      }));
    });
    bb.on('error', (e: unknown) => reject(FormErrors.malformed(e instanceof Error ? e.message : String(e))));
    bb.on('close', () => {
      void Promise.all(pending).then(() => {
        if (failure) return reject(failure);
        if (!file) return reject(FormErrors.noFile());
        resolve({ fields, file });
      });
    });
    req.on('aborted', () => reject(FormErrors.malformed('the request ended before the form did')));
    req.pipe(bb);
  });
}

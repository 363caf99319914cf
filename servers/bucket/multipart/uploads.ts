/**
 * Multipart uploads in memory, with no HTTP in them: what CreateMultipartUpload, UploadPart,
 * ListParts, ListMultipartUploads, AbortMultipartUpload and CompleteMultipartUpload do to the
 * state, and the S3 errors they answer. The HTTP side is ../ops/multipart.ts.
 *
 * What a completed upload becomes (the object's bytes, S3's `"<md5 of part md5s>-N"` ETag, its
 * checksum) is returned by `complete`; storing it as the object is the caller's job.
 *
 * References: https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html.
 */
import { randomBytes } from 'node:crypto';
import { S3Error } from '../errors.js';
import {
  type ChecksumAlgorithm,
  type ChecksumType,
  type RequestChecksum,
  ChecksumErrors,
  checksumOf,
  compositeChecksum,
  md5Hex,
  multipartEtag,
} from '../checksums.js';

/** S3's limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;

export interface StoredPart {
  partNumber: number;
  data: Buffer;
  /** Quoted MD5 hex, as sent in UploadPart's ETag header. */
  etag: string;
  lastModified: Date;
  /** The part's flexible checksum, when the request carried one (verified before storing). */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

/** What CreateMultipartUpload recorded for the object-to-be. */
export interface UploadInit {
  contentType?: string;
  /** `x-amz-meta-*`, names lower-cased. */
  metadata: Array<[string, string]>;
  /** Stored representation headers (Cache-Control, …). */
  headers: Array<[string, string]>;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface MultipartUpload extends UploadInit {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: Date;
  parts: Map<number, StoredPart>;
}

/** One `<Part>` of a CompleteMultipartUpload body. */
export interface CompletePart {
  partNumber: number;
  etag: string;
  /** `ChecksumCRC32` etc. given for the part. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** The object a completed upload becomes. */
export interface CompletedObject {
  body: Buffer;
  etag: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string; type: ChecksumType };
  /** Sizes of the parts, in order (for `?partNumber=` reads). */
  partSizes: number[];
  init: UploadInit;
}

export const MultipartErrors = {
  noSuchUpload: (uploadId: string) =>
    new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', [
      ['UploadId', uploadId],
    ]),
  invalidPartNumber: (given: string) =>
    new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', [
      ['ArgumentName', 'partNumber'],
      ['ArgumentValue', given],
    ]),
  invalidPartOrder: (uploadId: string) =>
    new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.', [
      ['UploadId', uploadId],
    ]),
  invalidPart: (uploadId: string, partNumber: number, etag: string, detail: string) =>
    new S3Error(
      400,
      'InvalidPart',
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      [
        ['UploadId', uploadId],
        ['PartNumber', String(partNumber)],
        ['ETag', etag.replace(/"/g, '')],
      ],
      detail,
    ),
  entityTooSmall: (size: number, partNumber: number, etag: string) =>
    new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', [
      ['ProposedSize', String(size)],
      ['MinSizeAllowed', String(MIN_PART_BYTES)],
      ['PartNumber', String(partNumber)],
      ['ETag', etag.replace(/"/g, '')],
    ]),
  checksumTypeMismatch: (expected: ChecksumAlgorithm | undefined, actual: ChecksumAlgorithm | undefined) =>
    new S3Error(
      400,
      'InvalidRequest',
      `Checksum Type mismatch occurred, expected checksum Type: ${expected?.toLowerCase() ?? 'null'}, actual checksum Type: ${actual?.toLowerCase() ?? 'null'}`,
    ),
  missingPartChecksum: (alg: ChecksumAlgorithm, partNumber: number) =>
    new S3Error(
      400,
      'InvalidRequest',
      `The upload was created using a ${alg.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${partNumber} in the request.`,
    ),
  checksumModeMismatch: (created: ChecksumType) =>
    new S3Error(400, 'InvalidRequest', `The upload was created using the ${created} checksum mode. The complete request must use the same checksum mode.`),
};

/** A well-formed `partNumber` query value → number; InvalidArgument otherwise. */
export function parsePartNumber(text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw MultipartErrors.invalidPartNumber(text);
  const n = Number(text);
  if (n < 1 || n > MAX_PART_NUMBER) throw MultipartErrors.invalidPartNumber(text);
  return n;
}

/**
 * S3 upload ids are opaque URL-safe strings; these are 64 random base64url characters, never
 * starting with "-": command lines read such an argument as an option (the AWS CLI's `--upload-id
 * -PSK2B…` failed with "argument --upload-id: expected one argument" — one id in 64 starts so).
 */
function newUploadId(): string {
  const id = randomBytes(48).toString('base64url');
  return id.startsWith('-') ? `A${id.slice(1)}` : id;
}

/** S3 timestamps have one-second resolution on the wire. */
function nowToSecond(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

const sameEtag = (a: string, b: string) => a.trim().replace(/^"|"$/g, '') === b.trim().replace(/^"|"$/g, '');

export class MultipartUploads {
  private readonly uploads = new Map<string, MultipartUpload>();

  create(bucket: string, key: string, init: UploadInit): MultipartUpload {
    const upload: MultipartUpload = {
      ...init,
      metadata: init.metadata.map(([k, v]) => [k, v]),
      headers: init.headers.map(([k, v]) => [k, v]),
      uploadId: newUploadId(),
      bucket,
      key,
      initiated: nowToSecond(),
      parts: new Map(),
    };
    this.uploads.set(upload.uploadId, upload);
    return upload;
  }

  /** The upload, if `uploadId` names one for exactly this bucket and key; NoSuchUpload otherwise. */
  get(bucket: string, key: string, uploadId: string): MultipartUpload {
    const u = this.uploads.get(uploadId);
    if (!u || u.bucket !== bucket || u.key !== key) throw MultipartErrors.noSuchUpload(uploadId);
    return u;
  }

  /**
   * Checks a part's checksum against what the upload was created with, and stores the part
   * (replacing an earlier one of the same number). The checksum itself was verified by the caller.
   *
   * Rules (S3's wording; the 2025 behaviour for uploads created without an algorithm is from
   * aws/aws-sdk-go-v2#3005 and aws/aws-sdk-java-v2#6518, where such parts were accepted):
   * - created with algorithm A as COMPOSITE: the part must carry an A checksum;
   * - created with A (either type): a checksum of another algorithm is a type mismatch;
   * - created without an algorithm: any checksum is accepted and kept with the part.
   */
  putPart(upload: MultipartUpload, partNumber: number, data: Buffer, checksum: RequestChecksum | undefined): StoredPart {
    const want = upload.checksumAlgorithm;
    if (want !== undefined) {
      if (checksum === undefined && upload.checksumType === 'COMPOSITE') throw MultipartErrors.checksumTypeMismatch(want, undefined);
      if (checksum !== undefined && checksum.algorithm !== want) throw MultipartErrors.checksumTypeMismatch(want, checksum.algorithm);
    }
    // An upload created with an algorithm keeps that algorithm's checksum of every part, computed
    // here when the part came without one (FULL_OBJECT uploads), so ListParts can show it.
    let kept = checksum ? { algorithm: checksum.algorithm, value: checksum.value } : undefined;
    if (!kept && want !== undefined) {
      const value = checksumOf(want, data);
      if (value !== undefined) kept = { algorithm: want, value };
    }
    const part: StoredPart = {
      partNumber,
      data: Buffer.from(data),
      etag: `"${md5Hex(data)}"`,
      lastModified: nowToSecond(),
      ...(kept ? { checksum: kept } : {}),
    };
    upload.parts.set(partNumber, part);
    return part;
  }

  /** Parts in part-number order. */
  parts(upload: MultipartUpload): StoredPart[] {
    return [...upload.parts.values()].sort((a, b) => a.partNumber - b.partNumber);
  }

  abort(bucket: string, key: string, uploadId: string): void {
    this.get(bucket, key, uploadId);
    this.uploads.delete(uploadId);
  }

  /** In-progress uploads of a bucket, by key (UTF-8 binary order) then initiation time. */
  list(bucket: string): MultipartUpload[] {
    return [...this.uploads.values()]
      .filter((u) => u.bucket === bucket)
      .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)) || a.initiated.getTime() - b.initiated.getTime());
  }

  /** Forgets every upload of a bucket (when the bucket goes). */
  dropBucket(bucket: string): void {
    for (const [id, u] of this.uploads) if (u.bucket === bucket) this.uploads.delete(id);
  }

  /**
   * Assembles the object from the listed parts, checking them in S3's order: ascending part
   * numbers (InvalidPartOrder), each part present with its ETag (InvalidPart), every part but the
   * last at least 5 MiB (EntityTooSmall), then the checksums. On success the upload is gone.
   *
   * `objectChecksum`: an `x-amz-checksum-<alg>` header sent with the CompleteMultipartUpload
   * (full-object value for FULL_OBJECT, `…-N` for COMPOSITE); `checksumType`: its
   * `x-amz-checksum-type`, if any.
   */
  complete(
    upload: MultipartUpload,
    requested: CompletePart[],
    opts: { objectChecksum?: RequestChecksum; checksumType?: ChecksumType } = {},
  ): CompletedObject {
    const id = upload.uploadId;
    for (let i = 1; i < requested.length; i++) {
      if (requested[i]!.partNumber <= requested[i - 1]!.partNumber) throw MultipartErrors.invalidPartOrder(id);
    }
    const chosen: StoredPart[] = [];
    for (const r of requested) {
      const p = upload.parts.get(r.partNumber);
      if (!p) throw MultipartErrors.invalidPart(id, r.partNumber, r.etag, `part ${r.partNumber} was never uploaded`);
      if (!sameEtag(p.etag, r.etag)) throw MultipartErrors.invalidPart(id, r.partNumber, r.etag, `part ${r.partNumber} has ETag ${p.etag}`);
      chosen.push(p);
    }
    chosen.forEach((p, i) => {
      if (i < chosen.length - 1 && p.data.length < MIN_PART_BYTES) throw MultipartErrors.entityTooSmall(p.data.length, p.partNumber, p.etag);
    });

    const alg = upload.checksumAlgorithm;
    const type = upload.checksumType;
    if (opts.checksumType !== undefined && type !== undefined && opts.checksumType !== type) throw MultipartErrors.checksumModeMismatch(type);
    requested.forEach((r, i) => {
      const p = chosen[i]!;
      const given = Object.entries(r.checksums) as Array<[ChecksumAlgorithm, string]>;
      // A COMPOSITE upload needs every part's checksum named in the complete request.
      if (alg !== undefined && type === 'COMPOSITE' && r.checksums[alg] === undefined) throw MultipartErrors.missingPartChecksum(alg, p.partNumber);
      // A part stored with a checksum must be named with it when the upload has no algorithm
      // (aws/aws-sdk-go-v2#3005, aws/aws-sdk-java-v2#6518: InvalidPart otherwise).
      if (alg === undefined && p.checksum && r.checksums[p.checksum.algorithm] === undefined)
        throw MultipartErrors.invalidPart(id, p.partNumber, r.etag, `part ${p.partNumber} was uploaded with a ${p.checksum.algorithm} checksum the complete request does not name`);
      for (const [a, v] of given) {
        if (p.checksum?.algorithm !== a || p.checksum.value !== v.trim())
          throw MultipartErrors.invalidPart(id, p.partNumber, r.etag, `part ${p.partNumber}: ${a} checksum ${v} does not match the part's`);
      }
    });

    const body = Buffer.concat(chosen.map((p) => p.data));
    let checksum: CompletedObject['checksum'];
    if (alg !== undefined && type !== undefined) {
      const value =
        type === 'COMPOSITE'
          ? compositeChecksum(alg, chosen.map((p) => p.checksum!.value))
          : checksumOf(alg, body) ?? (opts.objectChecksum?.algorithm === alg ? opts.objectChecksum.value : undefined);
      if (value !== undefined) checksum = { algorithm: alg, value, type };
    }
    if (opts.objectChecksum) {
      const oc = opts.objectChecksum;
      // UNVERIFIED choice: a whole-object checksum sent with the complete request must equal the
      // object's (FULL_OBJECT) or the composite value including `-N` (COMPOSITE); BadDigest otherwise.
      if (checksum && (oc.algorithm !== checksum.algorithm || oc.value !== checksum.value)) throw ChecksumErrors.mismatch(oc.algorithm);
    }
    this.uploads.delete(id);
    return {
      body,
      etag: multipartEtag(chosen.map((p) => p.etag)),
      ...(checksum ? { checksum } : {}),
      partSizes: chosen.map((p) => p.data.length),
      init: {
        ...(upload.contentType !== undefined ? { contentType: upload.contentType } : {}),
        metadata: upload.metadata,
        headers: upload.headers,
        ...(alg !== undefined ? { checksumAlgorithm: alg } : {}),
        ...(type !== undefined ? { checksumType: type } : {}),
      },
    };
  }
}

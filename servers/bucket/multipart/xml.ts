/**
 * The XML documents of the multipart-upload operations: InitiateMultipartUploadResult,
 * CompleteMultipartUpload (request) and CompleteMultipartUploadResult, ListPartsResult,
 * ListMultipartUploadsResult. Shapes from the S3 API reference
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html and its
 * siblings); element order as S3 sends them.
 */
import { Errors, XML_DECLARATION, xmlEscape } from '../errors.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, type ChecksumType, checksumMember } from '../checksums.js';
import { OWNER, S3_NS, isoTime, parseXml } from '../xml.js';
import type { CompletePart, MultipartUpload, StoredPart } from './uploads.js';

const tag = (name: string, value: string) => `<${name}>${xmlEscape(value)}</${name}>`;
const owner = (element: string) => `<${element}>${tag('ID', OWNER.id)}${tag('DisplayName', OWNER.displayName)}</${element}>`;

export function initiateXml(bucket: string, key: string, uploadId: string): string {
  return `${XML_DECLARATION}<InitiateMultipartUploadResult xmlns="${S3_NS}">${tag('Bucket', bucket)}${tag('Key', key)}${tag('UploadId', uploadId)}</InitiateMultipartUploadResult>`;
}

export function completeResultXml(r: {
  location: string;
  bucket: string;
  key: string;
  etag: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string; type: ChecksumType };
}): string {
  const sum = r.checksum ? `${tag(checksumMember(r.checksum.algorithm), r.checksum.value)}${tag('ChecksumType', r.checksum.type)}` : '';
  return (
    `${XML_DECLARATION}<CompleteMultipartUploadResult xmlns="${S3_NS}">` +
    `${tag('Location', r.location)}${tag('Bucket', r.bucket)}${tag('Key', r.key)}${tag('ETag', r.etag)}${sum}` +
    `</CompleteMultipartUploadResult>`
  );
}

function asList(v: unknown): unknown[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function field(node: unknown, name: string): unknown {
  return node && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>)[name] : undefined;
}

/**
 * The CompleteMultipartUpload request body → its parts, in document order. Anything that is not
 * that document, a part without a numeric PartNumber or an ETag, and a list without parts are
 * MalformedXML (S3 answers an empty part list so: the schema requires one Part).
 */
export function parseCompleteXml(text: string): CompletePart[] {
  if (text.trim() === '') throw Errors.malformedXml('CompleteMultipartUpload needs a body listing the parts');
  const doc = parseXml(text);
  const root = doc['CompleteMultipartUpload'];
  if (root === undefined) throw Errors.malformedXml('the root element must be CompleteMultipartUpload');
  const parts = asList(field(root, 'Part'));
  if (parts.length === 0) throw Errors.malformedXml('CompleteMultipartUpload lists no Part');
  return parts.map((p, i) => {
    const num = field(p, 'PartNumber');
    const etag = field(p, 'ETag');
    if (typeof num !== 'string' || !/^\d+$/.test(num.trim())) throw Errors.malformedXml(`Part #${i + 1} has no numeric PartNumber`);
    if (typeof etag !== 'string') throw Errors.malformedXml(`Part #${i + 1} has no ETag`);
    const checksums: CompletePart['checksums'] = {};
    for (const alg of CHECKSUM_ALGORITHMS) {
      const v = field(p, checksumMember(alg));
      if (typeof v === 'string') checksums[alg] = v;
    }
    return { partNumber: Number(num.trim()), etag, checksums };
  });
}

function partXml(p: StoredPart): string {
  const sum = p.checksum ? tag(checksumMember(p.checksum.algorithm), p.checksum.value) : '';
  return `<Part>${tag('PartNumber', String(p.partNumber))}${tag('LastModified', isoTime(p.lastModified))}${tag('ETag', p.etag)}${tag('Size', String(p.data.length))}${sum}</Part>`;
}

function uploadChecksumXml(u: MultipartUpload): string {
  return (u.checksumAlgorithm ? tag('ChecksumAlgorithm', u.checksumAlgorithm) : '') + (u.checksumType ? tag('ChecksumType', u.checksumType) : '');
}

/** ListParts: `parts` already in part-number order. */
export function listPartsXml(u: MultipartUpload, parts: StoredPart[], p: { marker: number; maxParts: number }): string {
  const after = parts.filter((x) => x.partNumber > p.marker);
  const page = after.slice(0, p.maxParts);
  const truncated = after.length > page.length;
  const next = page.length > 0 ? page[page.length - 1]!.partNumber : p.marker;
  return (
    `${XML_DECLARATION}<ListPartsResult xmlns="${S3_NS}">` +
    `${tag('Bucket', u.bucket)}${tag('Key', u.key)}${tag('UploadId', u.uploadId)}` +
    `${tag('PartNumberMarker', String(p.marker))}${tag('NextPartNumberMarker', String(next))}` +
    `${tag('MaxParts', String(p.maxParts))}${tag('IsTruncated', String(truncated))}` +
    page.map(partXml).join('') +
    `${owner('Initiator')}${owner('Owner')}${tag('StorageClass', 'STANDARD')}${uploadChecksumXml(u)}` +
    `</ListPartsResult>`
  );
}

export interface ListUploadsParams {
  bucket: string;
  prefix: string;
  delimiter?: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  maxUploads: number;
  encodingType?: 'url';
}

/** ListMultipartUploads over `uploads` (already in key, then initiation order). */
export function listUploadsXml(uploads: MultipartUpload[], p: ListUploadsParams): string {
  const enc = (s: string) => (p.encodingType === 'url' ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const items: string[] = [];
  const prefixes: string[] = [];
  const seen = new Set<string>();
  let truncated = false;
  let lastKey: string | undefined;
  let lastId: string | undefined;
  // With a key-marker, uploads of that key come after upload-id-marker in the list, later keys all.
  let pastIdMarker = p.uploadIdMarker === undefined;
  for (const u of uploads) {
    if (!u.key.startsWith(p.prefix)) continue;
    if (p.keyMarker !== undefined) {
      const cmp = Buffer.compare(Buffer.from(u.key), Buffer.from(p.keyMarker));
      if (cmp < 0) continue;
      if (cmp === 0) {
        if (p.uploadIdMarker === undefined) continue;
        if (!pastIdMarker) {
          if (u.uploadId === p.uploadIdMarker) pastIdMarker = true;
          continue;
        }
      }
    }
    let common: string | undefined;
    if (p.delimiter) {
      const i = u.key.indexOf(p.delimiter, p.prefix.length);
      if (i >= 0) common = u.key.slice(0, i + p.delimiter.length);
    }
    if (common !== undefined && seen.has(common)) continue;
    if (items.length + prefixes.length >= p.maxUploads) {
      truncated = true;
      break;
    }
    if (common !== undefined) {
      seen.add(common);
      prefixes.push(`<CommonPrefixes>${tag('Prefix', enc(common))}</CommonPrefixes>`);
      lastKey = common;
      lastId = undefined;
    } else {
      items.push(
        `<Upload>${tag('Key', enc(u.key))}${tag('UploadId', u.uploadId)}${owner('Initiator')}${owner('Owner')}` +
          `${tag('StorageClass', 'STANDARD')}${tag('Initiated', isoTime(u.initiated))}${uploadChecksumXml(u)}</Upload>`,
      );
      lastKey = u.key;
      lastId = u.uploadId;
    }
  }
  const head =
    tag('Bucket', p.bucket) +
    tag('KeyMarker', enc(p.keyMarker ?? '')) +
    tag('UploadIdMarker', p.uploadIdMarker ?? '') +
    (truncated ? tag('NextKeyMarker', enc(lastKey ?? '')) + tag('NextUploadIdMarker', lastId ?? '') : '') +
    (p.delimiter ? tag('Delimiter', enc(p.delimiter)) : '') +
    tag('Prefix', enc(p.prefix)) +
    tag('MaxUploads', String(p.maxUploads)) +
    (p.encodingType ? tag('EncodingType', p.encodingType) : '') +
    tag('IsTruncated', String(truncated));
  return `${XML_DECLARATION}<ListMultipartUploadsResult xmlns="${S3_NS}">${head}${items.join('')}${prefixes.join('')}</ListMultipartUploadsResult>`;
}

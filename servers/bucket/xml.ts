/**
 * XML documents of the S3 REST API other than CORS (the CORS document belongs to the engine):
 * ListAllMyBucketsResult, ListBucketResult (v1 and v2), LocationConstraint, WebsiteConfiguration
 * and CreateBucketConfiguration. Shapes follow the S3 API reference
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/), element order as S3 sends them.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Errors, XML_DECLARATION, xmlEscape } from './errors.js';
import type { WebsiteConfig } from './store.js';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** The owner every bucket and object belongs to (a single-account emulator). */
export const OWNER = { id: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a', displayName: 'corsproof' };

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
});

/** Parses a small request document; anything not well-formed (or with a DTD) is MalformedXML. */
export function parseXml(text: string): Record<string, unknown> {
  if (/<!DOCTYPE/i.test(text)) throw Errors.malformedXml('document type declarations are not accepted');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw Errors.malformedXml(`${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  const doc: unknown = parser.parse(text);
  if (!doc || typeof doc !== 'object') throw Errors.malformedXml('empty document');
  return doc as Record<string, unknown>;
}

function child(node: unknown, name: string): unknown {
  return node && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>)[name] : undefined;
}

const tag = (name: string, value: string) => `<${name}>${xmlEscape(value)}</${name}>`;

/** S3's ISO 8601 with milliseconds, as in listings. */
export function isoTime(d: Date): string {
  return d.toISOString();
}

export function listBucketsXml(buckets: Array<{ name: string; created: Date }>, region: string): string {
  const items = buckets
    .map((b) => `<Bucket>${tag('Name', b.name)}${tag('CreationDate', isoTime(b.created))}${tag('BucketRegion', region)}</Bucket>`)
    .join('');
  return (
    `${XML_DECLARATION}<ListAllMyBucketsResult xmlns="${S3_NS}">` +
    `<Owner>${tag('ID', OWNER.id)}${tag('DisplayName', OWNER.displayName)}</Owner>` +
    `<Buckets>${items}</Buckets></ListAllMyBucketsResult>`
  );
}

export interface ListEntry {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

export interface ListParams {
  bucket: string;
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  v2: boolean;
  /** v2: continuation-token or start-after; v1: marker. Keys strictly after it are listed. */
  after?: string;
  continuationToken?: string;
  startAfter?: string;
  marker?: string;
  encodingType?: 'url';
  fetchOwner?: boolean;
}

/** Lists `entries` (already in key order) the way ListObjects / ListObjectsV2 do. */
export function listObjectsXml(entries: ListEntry[], p: ListParams): string {
  const enc = (s: string) => (p.encodingType === 'url' ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const contents: string[] = [];
  const prefixes: string[] = [];
  const seenPrefixes = new Set<string>();
  let truncated = false;
  let lastReturned: string | undefined;
  for (const e of entries) {
    if (!e.key.startsWith(p.prefix)) continue;
    if (p.after !== undefined && Buffer.compare(Buffer.from(e.key), Buffer.from(p.after)) <= 0) continue;
    let common: string | undefined;
    if (p.delimiter) {
      const i = e.key.indexOf(p.delimiter, p.prefix.length);
      if (i >= 0) common = e.key.slice(0, i + p.delimiter.length);
    }
    if (common !== undefined && seenPrefixes.has(common)) continue;
    if (contents.length + prefixes.length >= p.maxKeys) {
      truncated = true;
      break;
    }
    if (common !== undefined) {
      seenPrefixes.add(common);
      prefixes.push(`<CommonPrefixes>${tag('Prefix', enc(common))}</CommonPrefixes>`);
      lastReturned = common;
    } else {
      const owner = !p.v2 || p.fetchOwner ? `<Owner>${tag('ID', OWNER.id)}${tag('DisplayName', OWNER.displayName)}</Owner>` : '';
      contents.push(
        `<Contents>${tag('Key', enc(e.key))}${tag('LastModified', isoTime(e.lastModified))}${tag('ETag', e.etag)}` +
          `${tag('Size', String(e.size))}${owner}${tag('StorageClass', 'STANDARD')}</Contents>`,
      );
      lastReturned = e.key;
    }
  }
  const head: string[] = [tag('Name', p.bucket), tag('Prefix', enc(p.prefix))];
  if (p.v2) {
    if (p.continuationToken !== undefined) head.push(tag('ContinuationToken', p.continuationToken));
    if (p.startAfter !== undefined) head.push(tag('StartAfter', enc(p.startAfter)));
    head.push(tag('KeyCount', String(contents.length + prefixes.length)));
    head.push(tag('MaxKeys', String(p.maxKeys)));
    if (p.delimiter) head.push(tag('Delimiter', enc(p.delimiter)));
    if (p.encodingType) head.push(tag('EncodingType', p.encodingType));
    head.push(tag('IsTruncated', String(truncated)));
    if (truncated && lastReturned !== undefined)
      head.push(tag('NextContinuationToken', Buffer.from(lastReturned, 'utf8').toString('base64url')));
  } else {
    head.push(tag('Marker', p.marker ?? ''));
    if (truncated && p.delimiter && lastReturned !== undefined) head.push(tag('NextMarker', enc(lastReturned)));
    head.push(tag('MaxKeys', String(p.maxKeys)));
    if (p.delimiter) head.push(tag('Delimiter', enc(p.delimiter)));
    if (p.encodingType) head.push(tag('EncodingType', p.encodingType));
    head.push(tag('IsTruncated', String(truncated)));
  }
  return `${XML_DECLARATION}<ListBucketResult xmlns="${S3_NS}">${head.join('')}${contents.join('')}${prefixes.join('')}</ListBucketResult>`;
}

export function decodeContinuationToken(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(token)) return undefined;
  return Buffer.from(token, 'base64url').toString('utf8');
}

/** GetBucketLocation: us-east-1 is the empty constraint. */
export function locationXml(region: string): string {
  const value = region === 'us-east-1' ? '' : xmlEscape(region);
  return `${XML_DECLARATION}<LocationConstraint xmlns="${S3_NS}">${value}</LocationConstraint>`;
}

export function websiteXml(w: WebsiteConfig): string {
  const err = w.errorDocument !== undefined ? `<ErrorDocument>${tag('Key', w.errorDocument)}</ErrorDocument>` : '';
  return (
    `${XML_DECLARATION}<WebsiteConfiguration xmlns="${S3_NS}">` +
    `<IndexDocument>${tag('Suffix', w.indexDocument)}</IndexDocument>${err}</WebsiteConfiguration>`
  );
}

/**
 * PutBucketWebsite body → config. Only IndexDocument / ErrorDocument are supported; redirect
 * rules are refused as NotImplemented rather than silently ignored.
 */
export function parseWebsiteXml(text: string): WebsiteConfig {
  const root = child(parseXml(text), 'WebsiteConfiguration');
  if (root === undefined || typeof root !== 'object') throw Errors.malformedXml('the root element must be WebsiteConfiguration');
  if (child(root, 'RedirectAllRequestsTo') !== undefined || child(root, 'RoutingRules') !== undefined)
    throw Errors.notImplemented('website redirects (RedirectAllRequestsTo, RoutingRules) are not implemented by this server');
  const index = child(child(root, 'IndexDocument'), 'Suffix');
  if (index === undefined) throw Errors.malformedXml('IndexDocument/Suffix is required');
  if (typeof index !== 'string' || index === '' || index.includes('/'))
    throw Errors.invalidArgument('The IndexDocument Suffix is not well formed', 'IndexDocument', String(index));
  const errorDoc = child(root, 'ErrorDocument');
  let errorKey: string | undefined;
  if (errorDoc !== undefined) {
    const k = child(errorDoc, 'Key');
    if (typeof k !== 'string' || k === '') throw Errors.invalidArgument('The ErrorDocument Key is not well formed', 'ErrorDocument', String(k));
    errorKey = k;
  }
  return { indexDocument: index, ...(errorKey !== undefined ? { errorDocument: errorKey } : {}) };
}

/** CreateBucket body: returns the LocationConstraint (possibly empty) or undefined without a body. */
export function parseCreateBucketXml(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  const root = child(parseXml(text), 'CreateBucketConfiguration');
  if (root === undefined) throw Errors.malformedXml('the root element must be CreateBucketConfiguration');
  const lc = child(root, 'LocationConstraint');
  return typeof lc === 'string' ? lc : undefined;
}

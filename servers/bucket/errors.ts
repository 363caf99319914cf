/**
 * S3 errors as S3 puts them on the wire: `<Error><Code/><Message/>…<RequestId/><HostId/></Error>`,
 * `Content-Type: application/xml`. Codes and messages are wire data copied from Amazon S3's error
 * responses (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html); do not reword them.
 * Where this emulator must refuse something S3 would accept, the message says so plainly and the
 * code is the closest real S3 code (marked "corsproof deviation").
 */
import type { S3ErrorInfo } from '../s3/cors/index.js';

/** Extra `<Error>` children in document order, e.g. [['BucketName', 'b']]. */
export type ErrorFields = Array<[name: string, value: string]>;

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: ErrorFields = [],
    /** Not wire data: a human explanation for the exchange log note. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'S3Error';
  }

  /** From the CORS engine's error shape (PutBucketCors validation). */
  static fromInfo(info: S3ErrorInfo): S3Error {
    return new S3Error(info.status, info.code, info.message, Object.entries(info.extra ?? {}), info.detail);
  }
}

const e = (status: number, code: string, message: string, fields: ErrorFields = [], detail?: string) =>
  new S3Error(status, code, message, fields, detail);

export const Errors = {
  accessDenied: (detail?: string) => e(403, 'AccessDenied', 'Access Denied', [], detail),
  noSuchBucket: (bucket: string) => e(404, 'NoSuchBucket', 'The specified bucket does not exist', [['BucketName', bucket]]),
  noSuchKey: (key: string) => e(404, 'NoSuchKey', 'The specified key does not exist.', [['Key', key]]),
  bucketNotEmpty: (bucket: string) =>
    e(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', [['BucketName', bucket]]),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    e(
      409,
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      [['BucketName', bucket]],
    ),
  invalidBucketName: (bucket: string, detail?: string) =>
    e(400, 'InvalidBucketName', 'The specified bucket is not valid.', [['BucketName', bucket]], detail),
  noSuchCors: (bucket: string) =>
    e(404, 'NoSuchCORSConfiguration', 'The CORS configuration does not exist', [['BucketName', bucket]]),
  noSuchPolicy: (bucket: string) =>
    e(404, 'NoSuchBucketPolicy', 'The bucket policy does not exist', [['BucketName', bucket]]),
  noSuchWebsite: (bucket: string) =>
    e(404, 'NoSuchWebsiteConfiguration', 'The specified bucket does not have a website configuration', [
      ['BucketName', bucket],
    ]),
  malformedXml: (detail?: string) =>
    e(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', [], detail),
  malformedPolicy: (message: string) => e(400, 'MalformedPolicy', message),
  missingContentMd5: () => e(400, 'InvalidRequest', 'Missing required header for this request: Content-MD5'),
  invalidDigest: (given: string) => e(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.', [['Content-MD5', given]]),
  badDigest: (expected: string, calculated: string) =>
    e(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.', [
      ['ExpectedDigest', expected],
      ['CalculatedDigest', calculated],
    ]),
  sha256Mismatch: (client: string, computed: string) =>
    e(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", [
      ['ClientComputedContentSHA256', client],
      ['S3ComputedContentSHA256', computed],
    ]),
  invalidContentSha256: (given: string) =>
    e(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.', [
      ['ArgumentName', 'x-amz-content-sha256'],
      ['ArgumentValue', given],
    ]),
  signatureDoesNotMatch: (accessKeyId: string, signatureProvided: string, detail?: string) =>
    e(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      [
        ['AWSAccessKeyId', accessKeyId],
        ['SignatureProvided', signatureProvided],
      ],
      detail,
    ),
  invalidAccessKeyId: (accessKeyId: string) =>
    e(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', [
      ['AWSAccessKeyId', accessKeyId],
    ]),
  authorizationHeaderMalformed: (message: string) => e(400, 'AuthorizationHeaderMalformed', message),
  authorizationQueryParametersError: (message: string) => e(400, 'AuthorizationQueryParametersError', message),
  requestTimeTooSkewed: (requestTime: string, serverTime: string) =>
    e(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', [
      ['RequestTime', requestTime],
      ['ServerTime', serverTime],
      ['MaxAllowedSkewMilliseconds', '900000'],
    ]),
  requestExpired: (expires: string, serverTime: string) =>
    e(403, 'AccessDenied', 'Request has expired', [
      ['Expires', expires],
      ['ServerTime', serverTime],
    ]),
  notImplemented: (detail: string, header?: string) =>
    e(
      501,
      'NotImplemented',
      'A header you provided implies functionality that is not implemented',
      header ? [['Header', header]] : [],
      detail,
    ),
  methodNotAllowed: (method: string, resourceType: 'SERVICE' | 'BUCKET' | 'OBJECT') =>
    e(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', [
      ['Method', method],
      ['ResourceType', resourceType],
    ]),
  entityTooLarge: (proposed: number, max: number) =>
    e(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', [
      ['ProposedSize', String(proposed)],
      ['MaxSizeAllowed', String(max)],
    ]),
  maxMessageLengthExceeded: (max: number) =>
    e(400, 'MaxMessageLengthExceeded', 'Your request was too big.', [], `configuration documents are limited to ${max} bytes`),
  keyTooLong: (size: number, max: number) =>
    e(400, 'KeyTooLongError', 'Your key is too long', [
      ['Size', String(size)],
      ['MaxSizeAllowed', String(max)],
    ]),
  /** corsproof deviation: S3 stores such keys literally; this emulator refuses them (see rest.ts checkObjectAddress). */
  dotSegmentKey: (key: string) =>
    e(400, 'InvalidArgument', "Object keys with '.' or '..' path segments are not supported by this server.", [
      ['ArgumentName', 'key'],
      ['ArgumentValue', key],
    ]),
  invalidArgument: (message: string, name: string, value: string) =>
    e(400, 'InvalidArgument', message, [
      ['ArgumentName', name],
      ['ArgumentValue', value],
    ]),
  incompleteBody: () =>
    e(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header'),
  illegalLocationConstraint: (constraint: string) =>
    e(
      400,
      'IllegalLocationConstraintException',
      `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    ),
  preconditionFailed: (condition: string) =>
    e(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', [['Condition', condition]]),
  invalidRange: (range: string, size: number) =>
    e(416, 'InvalidRange', 'The requested range is not satisfiable', [
      ['RangeRequested', range],
      ['ActualObjectSize', String(size)],
    ]),
  badRequestParse: () => e(400, 'BadRequest', 'An error occurred when parsing the HTTP request.'),
  internalError: (detail?: string) => e(500, 'InternalError', 'We encountered an internal error. Please try again.', [], detail),
};

/**
 * XML 1.0 character-data escaping, as S3 writes text content: `&`, `<`, `>` only (an apostrophe in
 * a message stays an apostrophe). Characters XML 1.0 cannot carry at all are dropped.
 */
export function xmlEscape(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** The REST `<Error>` document. */
export function errorXml(err: S3Error, requestId: string, hostId: string): string {
  const parts = [`<Code>${xmlEscape(err.code)}</Code>`, `<Message>${xmlEscape(err.message)}</Message>`];
  for (const [k, v] of err.fields) parts.push(`<${k}>${xmlEscape(v)}</${k}>`);
  parts.push(`<RequestId>${requestId}</RequestId>`, `<HostId>${hostId}</HostId>`);
  return `${XML_DECLARATION}<Error>${parts.join('')}</Error>`;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  412: 'Precondition Failed',
  416: 'Requested Range Not Satisfiable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
};

/** The website endpoint's HTML error page, in the layout S3 website endpoints use. */
export function errorHtml(err: S3Error, requestId: string, hostId: string): string {
  const title = `${err.status} ${STATUS_TEXT[err.status] ?? 'Error'}`;
  const items = [`<li>Code: ${xmlEscape(err.code)}</li>`, `<li>Message: ${xmlEscape(err.message)}</li>`];
  for (const [k, v] of err.fields) items.push(`<li>${k}: ${xmlEscape(v)}</li>`);
  items.push(`<li>RequestId: ${requestId}</li>`, `<li>HostId: ${hostId}</li>`);
  return (
    `<html>\n<head><title>${title}</title></head>\n<body>\n<h1>${title}</h1>\n<ul>\n` +
    items.join('\n') +
    `\n</ul>\n<hr/>\n</body>\n</html>\n`
  );
}

/**
 * Bucket-name and object-key rules.
 * Bucket naming: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */

/** Why `name` is not a valid (general purpose) bucket name, or undefined when it is valid. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'bucket names must be between 3 and 63 characters long';
  if (!/^[a-z0-9.-]+$/.test(name)) return 'bucket names may contain only lowercase letters, digits, dots and hyphens';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'bucket names must begin and end with a letter or digit';
  if (name.includes('..')) return 'bucket names must not contain two adjacent dots';
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return 'bucket names must not be formatted as an IP address';
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.startsWith('amzn-s3-demo-'))
    return 'bucket names must not start with a reserved prefix';
  if (name.endsWith('-s3alias') || name.endsWith('--ol-s3') || name.endsWith('.mrap') || name.endsWith('--x-s3'))
    return 'bucket names must not end with a reserved suffix';
  return undefined;
}

/**
 * For requests other than CreateBucket S3 answers NoSuchBucket for most unknown names; only names
 * that could never have been a bucket (legacy us-east-1 names allowed uppercase and underscores)
 * get InvalidBucketName.
 */
export function couldBeBucketName(name: string): boolean {
  return name.length >= 1 && name.length <= 255 && /^[A-Za-z0-9._-]+$/.test(name);
}

/** S3's key limit: 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

/** True when a `/`-separated segment of `key` is exactly `.` or `..`. */
export function hasDotSegment(key: string): boolean {
  return key.split('/').some((s) => s === '.' || s === '..');
}

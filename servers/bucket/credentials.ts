/**
 * The bucket server's own test credentials, in a module of their own so that code that only
 * signs for the server (harness/target.ts) does not load the server (express and every handler).
 */
import type { Credentials } from './auth.js';

export const DEFAULT_CREDENTIALS: Credentials = {
  accessKeyId: 'corsproof',
  secretAccessKey: 'corsproof-secret',
  region: 'us-east-1',
};

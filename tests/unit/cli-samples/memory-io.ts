/** An in-memory Io for calling the CLI commands in-process (tests only). */
import { fileURLToPath } from 'node:url';
import type { Io } from '../../../cli/args.js';

export const SAMPLES = fileURLToPath(new URL('./', import.meta.url));
export const sample = (name: string): string => `${SAMPLES}${name}`;

export interface MemoryIo extends Io {
  out: () => string;
  err: () => string;
}

export function memoryIo(stdin = ''): MemoryIo {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    stdin: [stdin],
    out: () => out,
    err: () => err,
  };
}

/** The note's static-website origin (bucket 1, my-bucket-html). */
export const NOTE_ORIGIN = 'http://my-bucket-html.s3-website-eu-west-1.amazonaws.com';

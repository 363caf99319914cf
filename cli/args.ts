/**
 * Small helpers shared by the CLI commands: injectable I/O, strict argv parsing with one-sentence
 * usage errors, and reading a CORS document from a file or stdin.
 *
 * Exit statuses, the same for every command:
 *   0  success (lint: the document is valid and, with --strict, has no warnings)
 *   1  the document is one S3 would refuse (or lint --strict found warnings)
 *   2  usage: a wrong or missing flag or argument, or a file that cannot be read
 */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Writer {
  write(chunk: string): unknown;
}

/** What a command reads and writes; tests pass their own, the binary passes the process's. */
export interface Io {
  stdout: Writer;
  stderr: Writer;
  /** Read only for the `-` file argument. */
  stdin: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
}

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

/** A mistake on the command line, or a file that cannot be read: one sentence, exit 2. */
export class UsageError extends Error {}

/** A UsageError as every command reports it: one line on stderr, exit 2. Anything else is rethrown. */
export function usageExit(e: unknown, io: Pick<Io, 'stderr'>): number {
  if (!(e instanceof UsageError)) throw e;
  io.stderr.write(`${e.message}\n`);
  return EXIT_USAGE;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** True when argv asks for help (before any `--`), whatever else it holds. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/**
 * `node:util` parseArgs in strict mode, its errors rewritten as one sentence that names the command
 * and points at its --help.
 */
export function parseCommandArgs<O extends Options>(
  command: string,
  argv: string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(describeParseError(command, e));
  }
}

function describeParseError(command: string, e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = String(err.message ?? e);
  const quoted = /'([^' ]+)/.exec(msg)?.[1];
  const see = `(see corsproof ${command} --help)`;
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `Unknown option ${quoted ?? msg} for corsproof ${command} ${see}.`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(msg)) return `${quoted} takes no value ${see}.`;
      return `${quoted} needs a value ${see}.`;
    default:
      return `${msg.split('\n')[0]} ${see}.`;
  }
}

/** The single positional argument a command takes (a file, or `-` for stdin). */
export function onePositional(command: string, positionals: string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`corsproof ${command} needs ${what} (see corsproof ${command} --help).`);
  if (positionals.length > 1) {
    throw new UsageError(
      `corsproof ${command} takes one ${what.replace(/^an? /, '')}, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}.`,
    );
  }
  return positionals[0] as string;
}

export type Format = 'text' | 'json';

export function parseFormat(command: string, v: string | undefined): Format {
  if (v === undefined || v === 'text' || v === 'json') return v ?? 'text';
  throw new UsageError(`--format must be text or json, got ${JSON.stringify(v)} (see corsproof ${command} --help).`);
}

/** How a file argument is named in output. */
export function displayName(file: string): string {
  return file === '-' ? '<stdin>' : file;
}

/** The document's bytes, from a file or (for `-`) stdin; failures are UsageErrors of one sentence. */
export async function readDocument(file: string, io: Io): Promise<Buffer> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    try {
      for await (const c of io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c));
    } catch (e) {
      throw new UsageError(`Cannot read the CORS document from stdin: ${(e as Error).message}.`);
    }
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file'
      : code === 'EISDIR' ? 'it is a directory'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : (e as Error).message;
    throw new UsageError(`Cannot read ${file}: ${why}.`);
  }
}

/** Human name of a document shape. */
export function shapeName(shape: string | null): string {
  switch (shape) {
    case 'console-json':
      return 'S3 console JSON';
    case 'cli-json':
      return 'CLI/SDK JSON';
    case 'xml':
      return 'PutBucketCors XML';
    default:
      return 'unrecognised document';
  }
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

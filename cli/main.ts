/**
 * The `corsproof` command line: one subcommand per module, dispatched here.
 *
 * Exit statuses: 0 success; 1 the CORS document is one S3 would refuse (lint: or --strict
 * warnings); 2 usage errors and unreadable files. Errors are one sentence on stderr, never a stack
 * trace.
 */
import { EXIT_USAGE, processIo, type Io } from './args.js';

type Command = { summary: string; run: (argv: string[], io: Io) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  lint: {
    summary: 'check a CORS configuration as S3 would, and warn about entries browsers defeat',
    run: async (argv, io) => (await import('./lint.js')).lint(argv, io),
  },
  explain: {
    summary: 'explain one request: preflight, matching rule, S3\'s headers, each engine\'s verdict',
    run: async (argv, io) => (await import('./explain.js')).explain(argv, io),
  },
  check: {
    summary: 'prove a configuration in real Chromium, Firefox and WebKit, for your page origins',
    run: async (argv, io) => (await import('./check.js')).check(argv, io),
  },
  serve: {
    summary: 'run the bucket server (S3 REST + website endpoints) and the site server locally',
    run: async (argv) => (await import('./serve.js')).serve(argv),
  },
  provision: {
    summary: 'install the browser engines: Playwright\'s builds, else Debian\'s packages (as root); exit 1 if one is still missing',
    run: async () => {
      // The same script `npm start` runs in a clone (scripts/provision.mjs; dist/scripts/ when installed).
      const { spawnSync } = await import('node:child_process');
      const { fileURLToPath } = await import('node:url');
      const r = spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/provision.mjs', import.meta.url))], {
        stdio: 'inherit',
        env: { ...process.env, CORSPROOF_PROVISION_STRICT: '1' },
      });
      return r.status ?? 1;
    },
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: corsproof <command> [options]

Proves Amazon S3 bucket CORS configurations in real Chromium, Firefox and WebKit.

Commands:
${lines.join('\n')}

Run "corsproof <command> --help" for a command's options.

Examples (the S3 CORS note's configuration, a page on an S3 website endpoint):
  corsproof lint cors.json
  corsproof explain cors.json --origin http://my-bucket-html.s3-website-eu-west-1.amazonaws.com --method GET
  corsproof check cors.json --origin http://my-bucket-html.s3-website-eu-west-1.amazonaws.com
`;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return 0;
  }
  if (name === undefined) {
    io.stderr.write(usage());
    return EXIT_USAGE;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`Unknown command ${JSON.stringify(name)}; the commands are: ${Object.keys(COMMANDS).join(', ')} (see corsproof --help).\n`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    // A bug, not a usage error: still one line, never a stack trace.
    io.stderr.write(`corsproof ${name} failed unexpectedly: ${(e as Error)?.message ?? String(e)}\n`);
    return 1;
  }
}

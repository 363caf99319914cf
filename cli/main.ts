/**
 * The `corsproof` command line: one subcommand per module, dispatched here.
 */
type Command = { summary: string; run: (argv: string[]) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'run the bucket server (S3 REST + website endpoints) and the site server locally',
    run: async (argv) => (await import('./serve.js')).serve(argv),
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: corsproof <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "corsproof <command> --help" for a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`Unknown command ${JSON.stringify(name)}; the commands are: ${Object.keys(COMMANDS).join(', ')} (see corsproof --help).\n`);
    return 2;
  }
  return command.run(rest);
}

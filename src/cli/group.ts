import { UsageError, failure } from './connect.ts';

/** A command group (kmsd keys ..., kmsd grants ...): dispatches its subcommands; --help prints the group's help. */
export function group(name: string, help: string, subcommands: Record<string, (argv: string[]) => Promise<void>>) {
  return async (argv: string[]): Promise<void> => {
    const [sub, ...rest] = argv;
    // Asked for: stdout, exit 0; missing: stderr, exit 2 (as a bare `kmsd` answers).
    if (sub === undefined) {
      process.stderr.write(`${help}\n`);
      process.exitCode = 2;
      return;
    }
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      process.stdout.write(`${help}\n`);
      return;
    }
    const run = subcommands[sub];
    if (!run) {
      process.exitCode = failure(new UsageError(`unknown command "${name} ${sub}" (kmsd ${name} --help lists them)`));
      return;
    }
    // A subcommand's --help prints the group's help, which describes every subcommand.
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${help}\n`);
      return;
    }
    await run(rest);
  };
}

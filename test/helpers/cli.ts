import { Command, CommanderError } from 'commander';

export interface CliRun {
  out: string;
  err: string;
  exitCode: number;
}

/**
 * Runs `switchyard <args>` in this process with only the commands `register` adds, capturing
 * what they print and the exit code (commander's exit is turned into a return value).
 */
export async function runCli(register: (program: Command) => void, ...args: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const program = new Command('switchyard')
    .exitOverride()
    .configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  register(program);
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, err, exitCode: 0 };
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { out, err, exitCode: error.exitCode };
  }
}

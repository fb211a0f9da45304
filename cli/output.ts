import type { Command } from 'commander';

/** A line to the command's output (tests capture it through commander's configureOutput). */
export function printLine(cmd: Command, text: string): void {
  const out = cmd.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
  out(text.endsWith('\n') ? text : `${text}\n`);
}

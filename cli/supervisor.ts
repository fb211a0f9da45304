import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Where prefixed output lines go (the supervisor's terminal). */
  print: (line: string) => void;
}

/**
 * One supervised child process: restarted with exponential backoff (1 s doubling to 30 s,
 * reset after a minute of uptime) when it exits on its own; stopped with SIGTERM, then SIGKILL.
 * Runs in its own process group so a terminal's Ctrl-C reaches only the supervisor, which
 * then stops the children in order.
 */
export class SupervisedChild {
  private child: ChildProcess | undefined;
  private stopping = false;
  private backoffMs = 1_000;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly log: WriteStream;
  restarts = 0;

  constructor(private readonly spec: ChildSpec) {
    this.log = createWriteStream(spec.logFile, { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const startedAt = Date.now();
    const child = spawn(this.spec.command, this.spec.args, {
      env: { ...this.spec.env, SWITCHYARD_SUPERVISED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    // stdout is the child's console (its own concise lines); stderr (stack traces, runtime
    // warnings) goes to the log file only, and its gist into the exit line below.
    const stderr: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.log.write(`${line}\n`);
      this.spec.print(`[${this.spec.name}] ${line}`);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.log.write(`${line}\n`);
      stderr.push(line);
      if (stderr.length > 200) stderr.shift();
    });
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      if (Date.now() - startedAt > 60_000) this.backoffMs = 1_000;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
      this.restarts += 1;
      const why = gistOf(stderr);
      this.spec.print(
        `[supervisor] ${this.spec.name} exited (${signal ?? `code ${code}`})${why ? `: ${why}` : ''}; restarting in ${delay / 1000}s (restart #${this.restarts}; see ${this.spec.logFile})`,
      );
      this.restartTimer = setTimeout(() => this.start(), delay);
    });
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    await new Promise((resolve) => this.log.end(resolve));
  }
}

/** The line of a child's stderr that says what went wrong: the last error header of a stack trace, else its last line. */
export function gistOf(stderr: string[]): string | undefined {
  const lines = stderr.map((l) => l.trim()).filter((l) => l && !/^(at |Node\.js v|\^|\{|\})/.test(l));
  const header = lines.findLast((l) => /^[\w.$]*(Error|Failure|Exception)\b[^:]*: /.test(l));
  return header ?? lines.at(-1);
}

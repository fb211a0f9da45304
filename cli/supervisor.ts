import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One run of a supervised process. */
export interface Launched {
  pid: number;
  /** Settles when this run ends, for any reason. */
  exited: Promise<Exit>;
  /** SIGTERM, then SIGKILL after graceMs; resolves once it is gone. */
  stop(graceMs: number): Promise<void>;
  /** The line that says why it ended, when it knows (the last error of its stderr). */
  why?(): string | undefined;
}

export interface BackoffOptions {
  /** Delay of the first restart after a stable run: quick, the usual crash is a one-off. */
  firstMs?: number;
  /** Delay of the second restart in a row; it doubles from there. */
  baseMs?: number;
  /** The longest delay. */
  capMs?: number;
  /** A run at least this long was stable: the next restart is quick again. */
  stableMs?: number;
}

/**
 * Restart delays for a home server: a crash after a stable run restarts almost at once (250 ms);
 * crashes in a row wait 1 s, 2 s, 4 s … up to 30 s, so a process that cannot start does not spin;
 * a run of 10 s or more resets the streak. (It was a minute: processes killed every half minute
 * or so — chaos runs, an OOM-killed worker — never ran that long, so every restart waited 16–30 s
 * though each run had started fine; a process that cannot start dies within seconds.)
 */
export class RestartBackoff {
  private streak = 0;
  private readonly firstMs: number;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly stableMs: number;

  constructor(options: BackoffOptions = {}) {
    this.firstMs = options.firstMs ?? 250;
    this.baseMs = options.baseMs ?? 1_000;
    this.capMs = options.capMs ?? 30_000;
    this.stableMs = options.stableMs ?? 10_000;
  }

  /** The delay before restarting a process that ran for `uptimeMs` (a failed start: 0). */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.stableMs) this.streak = 0;
    const n = this.streak++;
    return n === 0 ? this.firstMs : Math.min(this.capMs, this.baseMs * 2 ** (n - 1));
  }
}

export interface SupervisedSpec {
  /** As the console names it: `worker`, `gateway`, `Temporal dev server`. */
  name: string;
  /** Where its output is kept (named in the console lines). */
  logFile: string;
  /** Where the supervisor's lines go (the terminal). */
  print: (line: string) => void;
  /** Starts one run; rejects when it could not start (the supervisor retries with backoff). */
  launch(): Promise<Launched>;
  backoff?: BackoffOptions;
  /** After a restart: the console line saying it is back (default: none; its own output says so). */
  back?(run: Launched): string | undefined;
  now?: () => number;
}

/**
 * One supervised process of `switchyard up`: restarted with RestartBackoff when it ends on its
 * own, each restart said on the console with why it ended; stopped with SIGTERM, then SIGKILL.
 */
export class Supervised {
  private current: Launched | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly backoff: RestartBackoff;
  private readonly now: () => number;
  restarts = 0;

  constructor(private readonly spec: SupervisedSpec) {
    this.backoff = new RestartBackoff(spec.backoff);
    this.now = spec.now ?? Date.now;
  }

  get pid(): number | undefined {
    return this.current?.pid;
  }

  /** The first run; rejects (and supervises nothing) when it cannot start. */
  async start(): Promise<void> {
    if (this.stopping) return;
    const run = await this.spec.launch();
    if (this.stopping) return run.stop(2_000);
    this.watch(run, this.now());
  }

  private watch(run: Launched, startedAt: number): void {
    this.current = run;
    void run.exited.then(({ code, signal }) => {
      if (this.stopping) return;
      const why = run.why?.();
      this.scheduleRestart(
        this.now() - startedAt,
        `exited (${signal ?? `code ${code}`})${why ? `: ${why}` : ''}`,
      );
    });
  }

  private scheduleRestart(uptimeMs: number, what: string): void {
    const delay = this.backoff.next(uptimeMs);
    this.restarts += 1;
    this.spec.print(
      `[supervisor] ${this.spec.name} ${what}; restarting in ${delay / 1000}s (restart #${this.restarts}; see ${this.spec.logFile})`,
    );
    this.restartTimer = setTimeout(() => void this.restart(), delay);
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    const startedAt = this.now();
    let run: Launched;
    try {
      run = await this.spec.launch();
    } catch (error) {
      if (!this.stopping) {
        this.scheduleRestart(
          0,
          `did not start: ${String((error as Error)?.message ?? error).split('\n')[0]}`,
        );
      }
      return;
    }
    if (this.stopping) {
      await run.stop(2_000);
      return;
    }
    this.watch(run, startedAt);
    const line = this.spec.back?.(run);
    if (line) this.spec.print(`[supervisor] ${line}`);
  }

  /** From now on an exit is final (the supervisor is shutting everything down, in order). */
  holdRestarts(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.holdRestarts();
    await this.current?.stop(graceMs);
  }
}

export interface NodeChildSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Where prefixed output lines go (the supervisor's terminal). */
  print: (line: string) => void;
}

/**
 * Starts a worker or gateway process: in its own process group (so a terminal's Ctrl-C reaches
 * only the supervisor, which then stops the children in order), its stdout (its own concise
 * lines) on the console and in its log, its stderr (stack traces, runtime warnings) in the log
 * only, and the gist of it kept for the exit line.
 */
export function launchNodeChild(spec: NodeChildSpec): Launched {
  const log = createWriteStream(spec.logFile, { flags: 'a' });
  const child = spawn(spec.command, spec.args, {
    env: { ...spec.env, SWITCHYARD_SUPERVISED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    log.write(`${line}\n`);
    spec.print(`[${spec.name}] ${line}`);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    log.write(`${line}\n`);
    stderr.push(line);
    if (stderr.length > 200) stderr.shift();
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: -1, signal: null }));
  }).then(async (exit) => {
    await new Promise((resolve) => log.end(resolve));
    return exit;
  });
  return {
    pid: child.pid ?? -1,
    exited,
    why: () => gistOf(stderr),
    async stop(graceMs) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      await exited;
    },
  };
}

/** The line of a child's stderr that says what went wrong: the last error header of a stack trace, else its last line. */
export function gistOf(stderr: string[]): string | undefined {
  const lines = stderr.map((l) => l.trim()).filter((l) => l && !/^(at |Node\.js v|\^|\{|\})/.test(l));
  const header = lines.findLast((l) => /^[\w.$]*(Error|Failure|Exception)\b[^:]*: /.test(l));
  return header ?? lines.at(-1);
}

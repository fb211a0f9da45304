import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../config/home.js';

export const BIN = join(projectRoot(), 'bin', 'switchyard.js');

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first output line matching `pattern` (rejects on exit or timeout). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `switchyard <args>` as a real process (the built CLI), collecting its output. */
export function spawnSwitchyard(args: string[], env: NodeJS.ProcessEnv): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child, args);
}

/**
 * Runs `switchyard <args>` on a pseudo-terminal (util-linux `script`), as a person at a terminal
 * would: `type` sends a line as keystrokes; the output is what the terminal shows (echo included).
 */
export function spawnInTerminal(
  args: string[],
  env: NodeJS.ProcessEnv,
): Spawned & { type(line: string): void } {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    env: { ...process.env, ...env, TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return { ...collect(child, args), type: (line) => child.stdin!.write(`${line}\r`) };
}

function collect(child: ChildProcess, args: string[]): Spawned {
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = out.split('\n').find((line) => pattern.test(line));
          if (match !== undefined) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`timed out waiting for ${pattern} from switchyard ${args.join(' ')}; output:\n${out}`),
          );
        }, timeoutMs);
        void exited.then(({ code, signal }) => {
          check();
          cleanup();
          reject(
            new Error(
              `switchyard ${args.join(' ')} exited (${signal ?? code}) before ${pattern}; output:\n${out}`,
            ),
          );
        });
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** True while a process with this PID exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

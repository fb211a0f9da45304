// The local speech-to-text engine: one long-lived Python child (media/stt/whisper_worker.py,
// faster-whisper with Whisper tiny.en, installed into .tools/stt by `npm run setup`) speaking JSON
// lines. Started on first use (loading the model takes 1-3 s), started again if it dies, killed
// on close. No network, no key.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../config/home.js';
import { missingTool, unavailable, unreadable } from '../errors.js';

export interface LocalWhisperOptions {
  /** The venv's Python; default SWITCHYARD_STT_PYTHON or <project>/.tools/stt/bin/python. */
  python?: string;
  /** Default <project>/media/stt/whisper_worker.py. */
  script?: string;
  /** CPU threads for the model (default 2). */
  threads?: number;
  /** How long the model may take to load. Default 60 s. */
  loadTimeoutMs?: number;
  /** Where the engine's stderr lines go (warnings, a crash's traceback). */
  onLog?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface LocalTranscript {
  text: string;
  durationSec: number;
  ms: number;
}

interface Pending {
  resolve(value: LocalTranscript): void;
  reject(error: Error): void;
}

export function defaultSttPython(env: NodeJS.ProcessEnv = process.env): string {
  return env.SWITCHYARD_STT_PYTHON || join(projectRoot(), '.tools', 'stt', 'bin', 'python');
}

export class LocalWhisper {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private closed = false;
  private lastStderr: string[] = [];
  private readonly python: string;
  private readonly script: string;

  constructor(private readonly options: LocalWhisperOptions = {}) {
    const env = options.env ?? process.env;
    this.python = options.python ?? defaultSttPython(env);
    this.script = options.script ?? join(projectRoot(), 'media', 'stt', 'whisper_worker.py');
  }

  /** The running engine's process id (tests, the bench); undefined when not started. */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  /** Whether the engine is installed (it may still fail to start). */
  installed(): boolean {
    return existsSync(this.python);
  }

  /** Text of a 16 kHz mono WAV file. `unavailable` errors are worth retrying; `unreadable` are not. */
  async transcribe(
    wavPath: string,
    options: { language?: string; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<LocalTranscript> {
    if (this.closed) throw unavailable('the local speech engine is shutting down');
    await this.start();
    const child = this.child!;
    const id = String(++this.seq);
    const timeoutMs = options.timeoutMs ?? 10 * 60_000;
    return new Promise<LocalTranscript>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      // A stuck or abandoned job keeps the engine busy: stop it; the next call starts it again.
      const timer = setTimeout(() => {
        done();
        this.kill('a transcription ran out of time');
        reject(unavailable(`the local speech engine took longer than ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const onAbort = () => {
        done();
        this.kill('a transcription was cancelled');
        reject(unavailable('transcription cancelled'));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      child.stdin!.write(`${JSON.stringify({ id, path: wavPath, language: options.language ?? 'en' })}\n`);
    });
  }

  /** Stops the engine (the worker's shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    this.kill('the worker is shutting down');
    if (child && child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  }

  private start(): Promise<void> {
    if (this.ready && this.child && this.child.exitCode === null) return this.ready;
    if (!existsSync(this.python)) {
      return Promise.reject(
        missingTool(
          `the local speech-to-text engine is not installed (${this.python} is missing): run \`npm run setup\`, ` +
            'or set media.transcription to a provider',
        ),
      );
    }
    this.lastStderr = [];
    const child = spawn(this.python, [this.script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...(this.options.env ?? process.env),
        HF_HUB_OFFLINE: '1',
        SWITCHYARD_STT_THREADS: String(this.options.threads ?? 2),
        PYTHONUNBUFFERED: '1',
      },
    });
    this.child = child;
    const lines = createInterface({ input: child.stdout! });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.lastStderr.push(line);
      if (this.lastStderr.length > 20) this.lastStderr.shift();
      this.options.onLog?.(line);
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(unavailable('the local speech engine did not load its model in time'));
        this.kill('loading timed out');
      }, this.options.loadTimeoutMs ?? 60_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(missingTool(`could not start the local speech engine: ${error.message}`, error));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const why = `the local speech engine stopped (${signal ?? `exit ${code}`})${this.stderrTail()}`;
        reject(unavailable(why));
        for (const p of [...this.pending.values()]) p.reject(unavailable(why));
        this.pending.clear();
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
      });
      lines.on('line', (line) => {
        let message: {
          ready?: boolean;
          id?: string;
          text?: string;
          duration?: number;
          ms?: number;
          error?: string;
          kind?: string;
        };
        try {
          message = JSON.parse(line);
        } catch {
          this.options.onLog?.(line);
          return;
        }
        if (message.ready) {
          clearTimeout(timer);
          resolve();
          return;
        }
        const pending = message.id === undefined ? undefined : this.pending.get(message.id);
        if (!pending) return;
        if (message.error) {
          pending.reject(
            message.kind === 'decode'
              ? unreadable(`the audio could not be decoded (${message.error})`)
              : unavailable(`the local speech engine failed: ${message.error}`),
          );
        } else {
          pending.resolve({
            text: message.text ?? '',
            durationSec: message.duration ?? 0,
            ms: message.ms ?? 0,
          });
        }
      });
    });
    // Nobody may be waiting yet: an unhandled rejection here would crash the worker.
    this.ready.catch(() => undefined);
    return this.ready;
  }

  private kill(reason: string): void {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.options.onLog?.(`stopping the local speech engine: ${reason}`);
    child.kill('SIGKILL');
  }

  private stderrTail(): string {
    const last = this.lastStderr.filter((l) => l.trim()).at(-1);
    return last ? `: ${last.slice(0, 200)}` : '';
  }
}

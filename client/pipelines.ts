/**
 * The pipeline library on disk: every `*.yaml` under the shipped `pipelines/` folder and the
 * user's `<data dir>/pipelines/`, compiled into an engine registry and kept fresh with fs.watch.
 * An edit that compiles becomes the version new runs get; an edit that does not compile is
 * reported and the previous version stays active. Runs in flight carry their own IR, so
 * nothing here can change them.
 */
import { existsSync, type FSWatcher, readdirSync, readFileSync, statSync, watch } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { projectRoot } from '../config/home.js';
import {
  type CompiledPipeline,
  type CompileOptions,
  createPipelineRegistry,
  formatErrors,
  type PipelineError,
  type PipelineRegistry,
} from '../engine/index.js';

/** What happened to one file after a (re)load. */
export type PipelineFileEvent =
  | { file: string; ok: true; name: string; hash: string; changed: boolean }
  | { file: string; ok: false; errors: PipelineError[]; active?: { name: string; hash: string } }
  | { file: string; ok: true; removed: true };

export interface PipelineLibraryOptions {
  /** Folders to load, searched recursively for `*.yaml` / `*.yml`. Later folders win on name clashes. */
  dirs: string[];
  compile?: Omit<CompileOptions, 'resolvePipeline'>;
  /** Watch the folders and recompile on change (default false). */
  watch?: boolean;
  /** Where compile errors of watched files go (default: console.error). */
  onError?: (message: string) => void;
  /** Every (re)load result, e.g. for logs or tests waiting for a reload. */
  onEvent?: (event: PipelineFileEvent) => void;
}

export interface PipelineLibrary {
  get(name: string): CompiledPipeline | undefined;
  /** Every version that was ever active in this process, by content hash. */
  getByHash(hash: string): CompiledPipeline | undefined;
  list(): CompiledPipeline[];
  /** Files whose latest content does not compile, with every error. */
  errors(): Map<string, PipelineError[]>;
  /** Load (or reload) one file, then recompile the pipelines that may call it. */
  reload(file: string): PipelineFileEvent;
  /** Files this library knows. */
  files(): string[];
  close(): void;
}

/** The shipped pipelines, then the user's own (which may override a shipped name). */
export function defaultPipelineDirs(config: Pick<Config, 'home'>): string[] {
  return [join(projectRoot(), 'pipelines'), join(config.home, 'pipelines')];
}

export function loadPipelineLibrary(options: PipelineLibraryOptions): PipelineLibrary {
  const registry: PipelineRegistry = createPipelineRegistry(options.compile ?? {});
  const known = new Set<string>();
  const watchers: FSWatcher[] = [];
  const timers = new Map<string, NodeJS.Timeout>();
  const report = options.onError ?? ((m: string) => console.error(m));

  const emit = (event: PipelineFileEvent) => {
    if (!event.ok) {
      const still = event.active
        ? ` (still running ${event.active.name} ${event.active.hash.slice(0, 12)})`
        : '';
      report(`pipeline ${event.file} does not compile${still}:\n${formatErrors(event.errors)}`);
    }
    options.onEvent?.(event);
    return event;
  };

  const compileFile = (file: string): PipelineFileEvent => {
    const result = registry.update(file, readFileSync(file, 'utf8'));
    if (result.ok) {
      const { name, hash } = result.pipeline;
      return { file, ok: true, name, hash, changed: result.changed };
    }
    const active = result.active ? { name: result.active.name, hash: result.active.hash } : undefined;
    return { file, ok: false, errors: result.errors, ...(active ? { active } : {}) };
  };

  /** `call:` embeds the callee's IR: recompile everything until a pass changes nothing. */
  const settle = (): Map<string, PipelineFileEvent> => {
    let last = new Map<string, PipelineFileEvent>();
    for (let pass = 0; pass < 5; pass++) {
      const now = new Map<string, PipelineFileEvent>();
      let same = pass > 0;
      for (const file of known) {
        const event = compileFile(file);
        now.set(file, event);
        if (fingerprint(event) !== fingerprint(last.get(file))) same = false;
      }
      last = now;
      if (same) break;
    }
    return last;
  };

  const reload = (file: string): PipelineFileEvent => {
    const path = resolve(file);
    if (!existsSync(path)) {
      known.delete(path);
      registry.remove(path);
      settle();
      return emit({ file: path, ok: true, removed: true });
    }
    known.add(path);
    const before = registry.list().find((p) => p.file === path)?.hash;
    const results = settle();
    for (const [f, event] of results) if (f !== path && !event.ok) options.onEvent?.(event);
    const event = results.get(path) ?? compileFile(path);
    return emit(event.ok && 'hash' in event ? { ...event, changed: event.hash !== before } : event);
  };

  for (const dir of options.dirs) for (const file of yamlFiles(dir)) known.add(file);
  for (const event of settle().values()) emit(event);

  if (options.watch) {
    for (const dir of options.dirs) for (const d of dirsUnder(dir)) watchers.push(watchDir(d));
  }

  function watchDir(dir: string): FSWatcher {
    // Editors save by rename or by several writes: wait for the file to settle, then reload it.
    return watch(dir, (_event, name) => {
      if (!name || !/\.ya?ml$/.test(name)) return;
      const file = join(dir, name);
      clearTimeout(timers.get(file));
      timers.set(
        file,
        setTimeout(() => {
          timers.delete(file);
          try {
            reload(file);
          } catch (error) {
            report(`pipeline ${file} could not be reloaded: ${(error as Error).message}`);
          }
        }, 50),
      );
    });
  }

  return {
    get: (name) => registry.get(name),
    getByHash: (hash) => registry.getByHash(hash),
    list: () => registry.list(),
    errors: () => registry.errors(),
    reload,
    files: () => [...known].sort(),
    close() {
      for (const w of watchers) w.close();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}

function yamlFiles(dir: string): string[] {
  return dirsUnder(dir).flatMap((d) =>
    readdirSync(d)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(d, f))
      .filter((f) => statSync(f).isFile())
      .sort(),
  );
}

function dirsUnder(dir: string): string[] {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) return [];
  const out = [root];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.isDirectory() && !entry.name.startsWith('.')) out.push(...dirsUnder(join(root, entry.name)));
  }
  return out;
}

function fingerprint(event: PipelineFileEvent | undefined): string {
  if (!event) return '';
  if (!event.ok) return `error:${formatErrors(event.errors)}`;
  return 'hash' in event ? `ok:${event.hash}` : 'removed';
}

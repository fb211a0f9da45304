/**
 * Compiled pipelines by name, updated from sources. A source that fails to compile leaves the
 * previous good version active and reports why. Pure: the caller reads files and watches them.
 */
import { type CompileOptions, compilePipeline, type PipelineFile } from './compile.js';
import type { PipelineError } from './errors.js';
import type { CompiledPipeline } from './ir.js';

export type UpdateResult =
  | { ok: true; pipeline: CompiledPipeline; changed: boolean }
  | {
      ok: false;
      errors: PipelineError[] /** Still in use, if an earlier version compiled. */;
      active?: CompiledPipeline;
    };

export interface PipelineRegistry {
  /** Compile `source` and make it the active version of its pipeline when it compiles. */
  update(file: string, source: string): UpdateResult;
  /** Forget the pipeline that came from `file`. */
  remove(file: string): void;
  get(name: string): CompiledPipeline | undefined;
  /** Any version ever active, by hash (in-flight runs keep theirs). */
  getByHash(hash: string): CompiledPipeline | undefined;
  list(): CompiledPipeline[];
  /** Current errors by file, for files whose latest source did not compile. */
  errors(): Map<string, PipelineError[]>;
}

export function createPipelineRegistry(
  options: Omit<CompileOptions, 'resolvePipeline'> = {},
): PipelineRegistry {
  const sources = new Map<string, string>(); // file -> latest source
  const good = new Map<string, string>(); // file -> last source that compiled
  const active = new Map<string, CompiledPipeline>(); // name -> active version
  const byHash = new Map<string, CompiledPipeline>();
  const failing = new Map<string, PipelineError[]>();

  const nameOf = (source: string): string | undefined => /^name:\s*["']?([A-Za-z0-9_.-]+)/m.exec(source)?.[1];
  const resolvePipeline = (name: string) => {
    for (const [file, latest] of sources) {
      const source = failing.has(file) ? good.get(file) : latest;
      if (source !== undefined && nameOf(source) === name) return { file, source } as PipelineFile;
    }
    return undefined;
  };

  return {
    update(file, source) {
      sources.set(file, source);
      failing.delete(file);
      const result = compilePipeline(source, file, { ...options, resolvePipeline });
      if (!result.ok) {
        failing.set(file, result.errors);
        const name = nameOf(source);
        const still = name ? active.get(name) : [...active.values()].find((p) => p.file === file);
        return { ok: false, errors: result.errors, ...(still ? { active: still } : {}) };
      }
      good.set(file, source);
      const p = result.pipeline;
      const changed = active.get(p.name)?.hash !== p.hash;
      for (const [n, old] of active) if (old.file === file && n !== p.name) active.delete(n);
      active.set(p.name, p);
      byHash.set(p.hash, p);
      return { ok: true, pipeline: p, changed };
    },
    remove(file) {
      sources.delete(file);
      good.delete(file);
      failing.delete(file);
      for (const [n, p] of active) if (p.file === file) active.delete(n);
    },
    get: (name) => active.get(name),
    getByHash: (hash) => byHash.get(hash),
    list: () => [...active.values()].sort((a, b) => a.name.localeCompare(b.name)),
    errors: () => new Map(failing),
  };
}

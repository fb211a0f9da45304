import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CompileOptions, compilePipeline } from '../../engine/compile.js';
import { formatErrors } from '../../engine/errors.js';
import type { CompiledPipeline } from '../../engine/ir.js';

export const EXAMPLES = 'pipelines/examples';

/** Resolves `call:` names against pipelines/examples (by their `name:`). */
export function examplesResolver(name: string) {
  for (const f of readdirSync(EXAMPLES)) {
    const source = readFileSync(join(EXAMPLES, f), 'utf8');
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (new RegExp(`^name:\\s*${escaped}\\s*$`, 'm').test(source)) return { source, file: join(EXAMPLES, f) };
  }
  return undefined;
}

/** Compile or fail the test with the formatted errors. */
export function compileOk(
  source: string,
  options: CompileOptions = {},
  file = 'test.yaml',
): CompiledPipeline {
  const r = compilePipeline(source, file, { resolvePipeline: examplesResolver, ...options });
  if (!r.ok) throw new Error(`expected to compile:\n${formatErrors(r.errors)}`);
  return r.pipeline;
}

export function compileErrors(source: string, options: CompileOptions = {}, file = 'test.yaml') {
  const r = compilePipeline(source, file, { resolvePipeline: examplesResolver, ...options });
  if (r.ok) throw new Error('expected compile errors, but it compiled');
  return r.errors;
}

/** Prefix a list of step YAML lines with a minimal pipeline header. */
export function pipeline(body: string, header = ''): string {
  return `name: t\n${header}steps:\n${body}`;
}

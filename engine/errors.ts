/** A problem found while compiling a pipeline, pointing at the offending YAML. */
export interface PipelineError {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Field path inside the document, e.g. `steps[2].with.text`. Empty for the whole file. */
  path: string;
  /** What was wrong and what was expected. */
  message: string;
  /** The offending value (undefined when the problem is a missing value). */
  value?: unknown;
}

/** `file:line:col: message` lines, one per error, in source order. */
export function formatErrors(errors: readonly PipelineError[]): string {
  return sortErrors(errors)
    .map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}${e.path ? ` (at ${e.path})` : ''}`)
    .join('\n');
}

export function sortErrors(errors: readonly PipelineError[]): PipelineError[] {
  return [...errors].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/** Field path segments to the display form `steps[2].with.text`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/** Thrown by helpers that require a valid pipeline (e.g. `compileOrThrow`). */
export class PipelineCompileError extends Error {
  override readonly name = 'PipelineCompileError';
  constructor(readonly errors: PipelineError[]) {
    super(`pipeline failed to compile:\n${formatErrors(errors)}`);
  }
}

/** Closest candidate by edit distance, for "did you mean" hints. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3))
    ? ` (did you mean '${best}'?)`
    : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
/** YAML with source positions: parse once, then map field paths back to line:column. */
import {
  type Document,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
  type YAMLError,
} from 'yaml';
import { formatPath, type PipelineError } from './errors.js';

export type FieldPath = (string | number)[];

export interface PipelineSource {
  file: string;
  text: string;
  /** Plain data (undefined when the YAML could not be parsed at all). */
  data: unknown;
  /** YAML syntax errors. */
  errors: PipelineError[];
  /** Position of the value at `path` (or of its key, with `key: true`). Falls back to the parent. */
  locate(path: FieldPath, opts?: { key?: boolean }): { line: number; column: number; offset: number };
  /** Start offset in `text` and raw source of the scalar at `path`, if it is a scalar. */
  scalarAt(path: FieldPath): { offset: number; raw: string } | undefined;
  error(
    path: FieldPath,
    message: string,
    value?: unknown,
    opts?: { key?: boolean; offset?: number },
  ): PipelineError;
}

/**
 * Where a YAML syntax error starts. An unclosed quote or bracket is reported by the parser where
 * it gave up (often the end of the file); the person needs the place it was opened.
 */
export function syntaxErrorStart(
  doc: Document,
  error: YAMLError,
): { offset: number; what: string } | undefined {
  if (error.code !== 'MISSING_CHAR' && error.code !== 'BAD_INDENT') return undefined;
  const at = error.pos[0];
  let found: { offset: number; what: string } | undefined;
  visit(doc, {
    Node(_, node) {
      const range = node.range;
      if (!range || range[1] !== at || (found && found.offset <= range[0])) return;
      if (isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE')) {
        found = { offset: range[0], what: 'the quote opened here is never closed' };
      } else if (isCollection(node) && node.flow) {
        found = { offset: range[0], what: `the ${isMap(node) ? '{' : '['} opened here is never closed` };
      }
    },
  });
  return found;
}

/** Parse YAML keeping positions. Never throws: syntax problems are in `errors`. */
export function parsePipeline(source: string, file: string): PipelineSource {
  const lineCounter = new LineCounter();
  let doc: Document.Parsed | undefined;
  const errors: PipelineError[] = [];
  const pos = (offset: number) => {
    const p = lineCounter.linePos(Math.max(0, Math.min(offset, source.length)));
    return { line: p.line, column: p.col, offset };
  };
  try {
    doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    errors.push({ file, line: 1, column: 1, path: '', message: `cannot read YAML: ${(e as Error).message}` });
  }
  for (const e of doc?.errors ?? []) {
    const start = doc ? syntaxErrorStart(doc, e) : undefined;
    const p = pos(start?.offset ?? e.pos[0]);
    const lineText = source.split('\n')[p.line - 1] ?? '';
    const hint = lineText.includes('${{')
      ? "; an expression containing ': ' or starting a value with '{' must be quoted, e.g. \"${{ a ? b : c }}\""
      : '';
    errors.push({
      file,
      line: p.line,
      column: p.column,
      path: '',
      message: `YAML syntax: ${firstLine(e.message)}${start ? `; ${start.what}` : ''}${hint}`,
    });
  }
  let data: unknown;
  if (doc && doc.errors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      errors.push({
        file,
        line: 1,
        column: 1,
        path: '',
        message: `cannot read YAML: ${(e as Error).message}`,
      });
    }
  }

  const nodeAt = (path: FieldPath, key: boolean): Node | undefined => {
    let node: unknown = doc?.contents;
    let last: Node | undefined = node as Node | undefined;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
        );
        if (!pair) return last;
        if (key && i === path.length - 1) return (pair.key as Node) ?? last;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
      } else return last;
      if (node && (node as Node).range) last = node as Node;
      else return last;
    }
    return last;
  };

  const locate: PipelineSource['locate'] = (path, opts) => {
    const node = nodeAt(path, opts?.key ?? false);
    return pos(node?.range?.[0] ?? 0);
  };

  return {
    file,
    text: source,
    data,
    errors,
    locate,
    scalarAt(path) {
      const node = nodeAt(path, false);
      if (!isScalar(node) || !node.range) return undefined;
      return { offset: node.range[0], raw: source.slice(node.range[0], node.range[1]) };
    },
    error(path, message, value, opts) {
      const p = opts?.offset !== undefined ? pos(opts.offset) : locate(path, opts);
      const err: PipelineError = { file, line: p.line, column: p.column, path: formatPath(path), message };
      if (value !== undefined) err.value = value;
      return err;
    },
  };
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

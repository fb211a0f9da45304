/**
 * Markdown-aware chunking. A note is cut into chunks of at most `maxTokens` (as the embedding
 * model counts them), each remembering its line range: a heading starts a new chunk, blocks
 * (paragraphs, lists, fenced code) stay whole when they fit, a long block is cut between lines
 * (a long line between words), and consecutive pieces of one section share `overlapTokens` of
 * trailing lines so a fact cut in two is still found whole in one of them.
 */
import { createHash } from 'node:crypto';

export interface Chunk {
  text: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  /** sha256 of `text`: the embedding cache key (with the model id). */
  hash: string;
}

export interface ChunkOptions {
  maxTokens: number;
  overlapTokens: number;
  countTokens: (text: string) => number;
}

/** What memory writes after an entry so a retried write finds it (see workspace-files.ts). */
export const WRITE_MARKER = /<!-- switchyard:memory [0-9a-f]+ -->/g;

interface Line {
  n: number;
  text: string;
  tokens: number;
}

interface Block {
  lines: Line[];
  heading: boolean;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function chunkMarkdown(source: string, options: ChunkOptions): Chunk[] {
  const max = Math.max(8, options.maxTokens);
  const overlap = Math.max(0, Math.min(options.overlapTokens, Math.floor(max / 2)));
  const lines = source
    .replace(WRITE_MARKER, '')
    .split(/\r?\n/)
    .map((text, i) => ({ n: i + 1, text: text.trimEnd(), tokens: 0 }));
  const chunks: Chunk[] = [];
  let current: Line[] = [];
  let tokens = 0;

  const emit = () => {
    const text = current
      .map((l) => l.text)
      .join('\n')
      .trim();
    if (text) {
      // The range covers the lines with text (blank lines at either end are not part of it).
      const filled = current.filter((l) => l.text.trim());
      chunks.push({ text, startLine: filled[0]!.n, endLine: filled.at(-1)!.n, hash: sha256(text) });
    }
  };
  /** Ends the current chunk; the next one starts with its trailing lines up to `overlap` tokens. */
  const cut = (carry: boolean) => {
    emit();
    const kept: Line[] = [];
    let keptTokens = 0;
    if (carry) {
      for (let i = current.length - 1; i > 0; i--) {
        const line = current[i]!;
        if (keptTokens + line.tokens > overlap) break;
        kept.unshift(line);
        keptTokens += line.tokens;
      }
    }
    current = kept;
    tokens = keptTokens;
  };
  const add = (line: Line) => {
    current.push(line);
    tokens += line.tokens;
  };

  for (const block of blocks(lines)) {
    for (const line of block.lines) line.tokens = line.text.trim() ? options.countTokens(line.text) + 1 : 0;
    const size = block.lines.reduce((s, l) => s + l.tokens, 0);
    const onlyHeadings = current.every((l) => !l.text.trim() || /^#{1,6}\s/.test(l.text));
    if (block.heading && !onlyHeadings) cut(false);
    if (tokens + size <= max) {
      for (const line of block.lines) add(line);
      continue;
    }
    if (size <= max && !onlyHeadings) {
      cut(true);
      // The carried overlap must not push a block that fits alone over the limit.
      while (current.length > 0 && tokens + size > max) tokens -= current.shift()!.tokens;
      for (const line of block.lines) add(line);
      continue;
    }
    // A block larger than a chunk: line by line, and a line larger than a chunk word by word.
    for (const line of block.lines) {
      if (line.tokens <= max) {
        if (tokens + line.tokens > max) cut(true);
        add(line);
        continue;
      }
      for (const piece of splitLine(line, max, options.countTokens)) {
        if (tokens + piece.tokens > max) cut(true);
        add(piece);
      }
    }
  }
  emit();
  return chunks;
}

/** Headings, fenced code and paragraphs (runs of non-blank lines), with the blank lines between. */
function blocks(lines: Line[]): Block[] {
  const out: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (/^#{1,6}\s/.test(line.text)) {
      out.push({ lines: [line], heading: true });
      i++;
    } else if (/^\s*(```|~~~)/.test(line.text)) {
      const fence = line.text.trim().slice(0, 3);
      let j = i + 1;
      while (j < lines.length && !lines[j]!.text.trim().startsWith(fence)) j++;
      out.push({ lines: lines.slice(i, Math.min(j + 1, lines.length)), heading: false });
      i = j + 1;
    } else if (!line.text.trim()) {
      out.push({ lines: [line], heading: false });
      i++;
    } else {
      let j = i;
      while (
        j < lines.length &&
        lines[j]!.text.trim() &&
        !/^#{1,6}\s/.test(lines[j]!.text) &&
        !/^\s*(```|~~~)/.test(lines[j]!.text)
      ) {
        j++;
      }
      out.push({ lines: lines.slice(i, j), heading: false });
      i = j;
    }
  }
  return out;
}

/** A line too long for one chunk, as pieces of whole words that each fit (same line number). */
function splitLine(line: Line, max: number, count: (text: string) => number): Line[] {
  const out: Line[] = [];
  let text = '';
  let tokens = 1;
  const push = () => {
    if (text.trim()) out.push({ n: line.n, text, tokens });
    text = '';
    tokens = 1;
  };
  // Word counts add up (both the tokenizer and the estimate split at white space first).
  for (const word of line.text.split(/(?<=\s)(?=\S)/)) {
    const size = count(word);
    if (size + 1 > max) {
      push();
      // A single "word" longer than a chunk (a pasted blob) is cut by characters.
      const step = Math.max(1, Math.floor((word.length * (max - 1)) / size));
      for (let k = 0; k < word.length; k += step) {
        text = word.slice(k, k + step);
        tokens = Math.min(max, count(text) + 1);
        push();
      }
      continue;
    }
    if (tokens + size > max) push();
    text += word;
    tokens += size;
  }
  push();
  return out;
}

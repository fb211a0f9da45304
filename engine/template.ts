/** Splitting strings into text and `${{ expr }}` pieces. Pure; used by the compiler. */

export interface TemplatePiece {
  /** Literal text, or the CEL source of an expression. */
  text: string;
  isExpr: boolean;
  /** Offset of the piece in the string (for expressions: of the first CEL character). */
  offset: number;
}

export interface SplitResult {
  pieces: TemplatePiece[];
  /** Set when a `${{` has no matching `}}`: its offset. */
  unterminatedAt?: number;
}

/** Split `text` into literal and expression pieces. `}}` inside CEL strings or maps is skipped. */
export function splitTemplate(text: string): SplitResult {
  const pieces: TemplatePiece[] = [];
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf('${{', pos);
    if (open < 0) break;
    if (open > pos) pieces.push({ text: text.slice(pos, open), isExpr: false, offset: pos });
    const start = open + 3;
    const end = findClose(text, start);
    if (end < 0) return { pieces, unterminatedAt: open };
    pieces.push({ text: text.slice(start, end), isExpr: true, offset: start });
    pos = end + 2;
  }
  if (pos < text.length) pieces.push({ text: text.slice(pos), isExpr: false, offset: pos });
  return { pieces };
}

export function hasExpression(text: string): boolean {
  return text.includes('${{');
}

function findClose(text: string, from: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '{') depth++;
    else if (ch === '}') {
      if (depth === 0 && text[i + 1] === '}') return i;
      depth = Math.max(0, depth - 1);
    }
  }
  return -1;
}

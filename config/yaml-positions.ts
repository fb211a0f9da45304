import { type Document, isMap, isPair, isScalar, type LineCounter, type Node } from 'yaml';

export interface SourcePosition {
  line: number;
  column: number;
}

/** JSON pointer ("/gateway/port") → segments, unescaping ~1 and ~0. */
export function pointerSegments(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Where a value (or, with `key`, one of its keys) sits in the YAML source. Falls back to the
 * closest ancestor that exists, so an error about a missing key points at the object that lacks it.
 */
export function positionOf(
  doc: Document,
  lines: LineCounter,
  segments: string[],
  key?: string,
): SourcePosition | undefined {
  let node: unknown = doc.contents;
  let best: Node | undefined = doc.contents ?? undefined;
  for (const segment of segments) {
    const next = childOf(node, segment, false);
    if (!next) break;
    node = next;
    best = next as Node;
  }
  if (key !== undefined) {
    const keyNode = childOf(node, key, true);
    if (keyNode) best = keyNode as Node;
  }
  const offset = best?.range?.[0];
  return offset === undefined ? undefined : lines.linePos(offset) && toPosition(lines, offset);
}

function toPosition(lines: LineCounter, offset: number): SourcePosition {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

function childOf(node: unknown, segment: string, wantKey: boolean): unknown {
  if (isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === segment) {
        return wantKey ? item.key : item.value;
      }
    }
    return undefined;
  }
  if (node && typeof node === 'object' && 'items' in node && Array.isArray(node.items)) {
    return (node.items as unknown[])[Number(segment)];
  }
  return undefined;
}

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { compilePipeline } from '../../engine/compile.js';
import { examplesResolver } from './helpers.js';

const SOURCES = [
  'pipelines/default.yaml',
  'pipelines/examples/approval.yaml',
  'pipelines/examples/digest.yaml',
  'pipelines/examples/resilient.yaml',
  'pipelines/examples/research.yaml',
].map((f) => readFileSync(f, 'utf8'));

const TOKENS = [
  '${{',
  '}}',
  ':',
  '- ',
  '\n',
  '  ',
  '"',
  "'",
  '{',
  '[',
  'steps.',
  'needs: [a]',
  'uses: x',
  '&a',
  '*a',
  '#',
  '\t',
];

/** Text mutations: delete, duplicate or insert a token at some position. */
const textMutation = fc.tuple(
  fc.constantFrom(...SOURCES),
  fc.array(
    fc.record({
      at: fc.nat(),
      op: fc.constantFrom('delete', 'insert', 'duplicate'),
      len: fc.integer({ min: 1, max: 20 }),
      token: fc.constantFrom(...TOKENS),
    }),
    { minLength: 1, maxLength: 4 },
  ),
);

function mutateText(
  source: string,
  edits: Array<{ at: number; op: string; len: number; token: string }>,
): string {
  let s = source;
  for (const e of edits) {
    const at = e.at % (s.length + 1);
    if (e.op === 'delete') s = s.slice(0, at) + s.slice(at + e.len);
    else if (e.op === 'insert') s = s.slice(0, at) + e.token + s.slice(at);
    else s = s.slice(0, at) + s.slice(at, at + e.len) + s.slice(at);
  }
  return s;
}

/** Structural mutations: replace a random node of the parsed document with a random value. */
const anyValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.constantFrom('${{ steps.x.output }}', '${{ 1 + }}', 'noop', '5m', 'all', [], {}, [{ uses: 'noop' }]),
  fc.dictionary(
    fc.constantFrom('uses', 'id', 'needs', 'if', 'with', 'switch', 'try', 'catch', 'set'),
    fc.string(),
  ),
);

function replaceAt(doc: unknown, pick: number, value: unknown): unknown {
  const nodes: Array<{ parent: Record<string | number, unknown>; key: string | number }> = [];
  const walk = (v: unknown) => {
    if (v && typeof v === 'object') {
      for (const [k, c] of Object.entries(v)) {
        nodes.push({ parent: v as Record<string, unknown>, key: Array.isArray(v) ? Number(k) : k });
        walk(c);
      }
    }
  };
  walk(doc);
  const target = nodes[pick % Math.max(1, nodes.length)];
  if (target) target.parent[target.key] = value;
  return doc;
}

describe('the compiler never throws on mutated pipelines', () => {
  test('random text edits of valid pipelines return errors or an IR, never an exception', () => {
    fc.assert(
      fc.property(textMutation, ([source, edits]) => {
        const result = compilePipeline(mutateText(source, edits), 'fuzz.yaml', {
          resolvePipeline: examplesResolver,
        });
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok) {
          expect(result.errors.length).toBeGreaterThan(0);
          expect(result.errors.every((e) => e.line >= 1 && e.column >= 1)).toBe(true);
          expect(result.errors.some((e) => e.message.startsWith('internal compiler error'))).toBe(false);
        }
      }),
      { numRuns: 150 },
    );
  });

  test('random structural replacements return errors or an IR, never an exception', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SOURCES), fc.nat(), anyValue, (source, pick, value) => {
        const doc = replaceAt(JSON.parse(JSON.stringify(parseYaml(source))), pick, value);
        const result = compilePipeline(stringify(doc), 'fuzz.yaml', { resolvePipeline: examplesResolver });
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok)
          expect(result.errors.some((e) => e.message.startsWith('internal compiler error'))).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});

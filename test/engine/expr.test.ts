// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
import { describe, expect, test } from 'vitest';
import { ExpressionError, evaluate, resolveTemplate } from '../../engine/expr.js';
import type { Template } from '../../engine/ir.js';

const ctx = {
  inputs: { count: 3, ratio: 0.5, name: 'Ada', tags: ['a', 'b'] },
  steps: { recall: { status: 'succeeded', output: { hits: [{ text: 'x', score: 0.9 }] } } },
  vars: { agent: 'main' },
  message: { text: 'hello', chat: { id: 'c1', kind: 'direct' } },
};

describe('evaluate: CEL at run time', () => {
  test('integers come back as JavaScript numbers, not BigInt', () => {
    const value = evaluate({ cel: 'inputs.count + 1', type: 'int' }, ctx);
    expect(value).toBe(4);
    expect(typeof value).toBe('number');
  });

  test('integral numbers in the context behave as CEL ints; fractional ones as doubles', () => {
    expect(evaluate('inputs.count * 2', ctx)).toBe(6);
    expect(evaluate('inputs.ratio * 2.0', ctx)).toBe(1);
    expect(evaluate('size(inputs.tags)', ctx)).toBe(2);
  });

  test('lists and maps come back as plain arrays and objects with numbers', () => {
    expect(evaluate('[1, 2, inputs.count]', ctx)).toEqual([1, 2, 3]);
    expect(evaluate('{"n": 1, "s": inputs.name}', ctx)).toEqual({ n: 1, s: 'Ada' });
    expect(evaluate('steps.recall.output.hits.map(h, h.text)', ctx)).toEqual(['x']);
  });

  test('timestamps become ISO strings and durations milliseconds', () => {
    expect(evaluate('timestamp("2024-01-01T00:00:00Z") + duration("1h")', ctx)).toBe(
      '2024-01-01T01:00:00.000Z',
    );
    expect(evaluate('duration("90s")', ctx)).toBe(90_000);
  });

  test('a failing expression throws an ExpressionError naming the expression', () => {
    expect(() => evaluate('inputs.missing.x', ctx)).toThrow(ExpressionError);
    expect(() => evaluate('1 / 0', ctx)).toThrow(/1 \/ 0/);
  });

  test('integers beyond the safe range are refused rather than silently rounded', () => {
    expect(() => evaluate('9223372036854775807', ctx)).toThrow(/does not fit/);
  });
});

describe('resolveTemplate: strings, typed values, nested data', () => {
  test('a string that is exactly one expression yields the typed value', () => {
    const t: Template = { kind: 'expr', expr: { cel: 'inputs.count', type: 'int' } };
    expect(resolveTemplate(t, ctx)).toBe(3);
  });

  test('mixed text and expressions yield a string', () => {
    const t: Template = {
      kind: 'text',
      parts: [
        'n=',
        { cel: 'inputs.count', type: 'int' },
        ' tags=',
        { cel: 'inputs.tags', type: 'list<string>' },
      ],
    };
    expect(resolveTemplate(t, ctx)).toBe('n=3 tags=["a","b"]');
  });

  test('objects and lists resolve each member; literals pass through', () => {
    const t: Template = {
      kind: 'object',
      fields: {
        who: { kind: 'expr', expr: { cel: 'vars.agent', type: 'string' } },
        list: {
          kind: 'list',
          items: [
            { kind: 'literal', value: 1 },
            { kind: 'expr', expr: { cel: 'message.chat.id', type: 'string' } },
          ],
        },
      },
    };
    expect(resolveTemplate(t, ctx)).toEqual({ who: 'main', list: [1, 'c1'] });
  });
});

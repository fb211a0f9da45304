import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { compilePipeline } from '../../engine/compile.js';
import { formatErrors } from '../../engine/errors.js';
import { examplesResolver } from './helpers.js';

/**
 * Each file in invalid/ ends with `# expect: LINE:COL message fragment` lines: the compiler
 * must report exactly those errors (same count, position and wording), and never throw.
 */
const DIR = 'test/engine/invalid';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

const resolvePipeline = (name: string) => {
  for (const f of files) {
    const source = readFileSync(`${DIR}/${f}`, 'utf8');
    if (new RegExp(`^name:\\s*${name}\\s*$`, 'm').test(source)) return { source, file: `${DIR}/${f}` };
  }
  return examplesResolver(name);
};

function expectations(source: string) {
  return [...source.matchAll(/^# expect: (\d+):(\d+) (.+)$/gm)].map((m) => ({
    line: Number(m[1]),
    column: Number(m[2]),
    fragment: m[3] ?? '',
  }));
}

describe('invalid pipelines are rejected with the expected errors', () => {
  test('the corpus has at least 40 invalid pipelines, each with expectations', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
    for (const f of files) expect(expectations(readFileSync(`${DIR}/${f}`, 'utf8')), f).not.toEqual([]);
  });

  test.each(files)('%s', (f) => {
    const source = readFileSync(`${DIR}/${f}`, 'utf8');
    const result = compilePipeline(source, `${DIR}/${f}`, { resolvePipeline });
    expect(result.ok).toBe(false);
    const got = result.errors.map((e) => ({
      line: e.line,
      column: e.column,
      message: e.message.replace(/\n/g, ' '),
    }));
    const want = expectations(source);
    expect(got.length, formatErrors(result.errors)).toBe(want.length);
    for (const w of want) {
      expect(
        got.some((g) => g.line === w.line && g.column === w.column && g.message.includes(w.fragment)),
        `missing ${w.line}:${w.column} ${w.fragment}\ngot:\n${formatErrors(result.errors)}`,
      ).toBe(true);
    }
    for (const e of result.errors) expect(e.file).toBe(`${DIR}/${f}`);
  });
});

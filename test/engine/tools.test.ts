// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { describePipeline } from '../../engine/describe.js';
import { formatDuration, parseDuration } from '../../engine/duration.js';
import { formatErrors } from '../../engine/errors.js';
import { canonicalJson, contentHash, sha256Hex } from '../../engine/hash.js';
import { renderMermaid } from '../../engine/mermaid.js';
import { createPipelineRegistry } from '../../engine/registry.js';
import { compileErrors, compileOk } from './helpers.js';

describe('hash', () => {
  test('sha256 matches node:crypto for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(sha256Hex(s)).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
      }),
      { numRuns: 200 },
    );
  });

  test('canonical JSON sorts keys at every depth, so key order never changes the hash', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
    expect(contentHash({ a: 1, b: 2 })).toBe(contentHash({ b: 2, a: 1 }));
  });
});

describe('durations', () => {
  test.each([
    ['500ms', 500],
    ['2s', 2000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['5 minutes', 'soon', '', '1x', '-1s'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  test('formatDuration is the inverse of parseDuration', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(parseDuration(formatDuration(90_061_001))).toBe(90_061_001);
  });
});

describe('formatErrors', () => {
  test('prints file:line:col: message lines in source order', () => {
    const errors = compileErrors(
      'name: t\nsteps:\n  - uses: nope\n  - uses: noop\n    wiht: {}\n',
      {},
      'p.yaml',
    );
    expect(formatErrors(errors).split('\n')).toEqual([
      expect.stringMatching(/^p\.yaml:3:11: unknown step type 'nope'/),
      expect.stringMatching(/^p\.yaml:5:5: unknown field 'wiht'/),
    ]);
  });
});

describe('renderMermaid and describePipeline', () => {
  test('the default pipeline draws as a flowchart with its DAG edges', () => {
    const p = compileOk(readFileSync('pipelines/default.yaml', 'utf8'));
    const graph = renderMermaid(p.ir);
    expect(graph.startsWith('flowchart TD\n')).toBe(true);
    expect(graph).toContain('s_route --> s_media');
    expect(graph).toContain('s_route --> s_recall');
    expect(graph).toContain('s_media --> s_agent');
    expect(graph).toContain('s_recall --> s_agent');
    expect(graph).toContain('s_agent --> s_reply');
    expect(graph).toContain('s_reply --> end__');
  });

  test('describePipeline gives the hash, inputs, outputs and a step count', () => {
    const d = describePipeline(compileOk(readFileSync('pipelines/default.yaml', 'utf8')));
    expect(d).toMatchObject({ name: 'default', outputs: ['reply', 'compaction', 'media'], calls: [] });
    expect(d.hash).toMatch(/^sha256:/);
    expect(d.stepCount).toBe(16);
  });
});

describe('createPipelineRegistry', () => {
  const v1 = 'name: greet\nsteps:\n  - uses: log\n    with:\n      message: hi\n';
  const v2 = 'name: greet\nsteps:\n  - uses: log\n    with:\n      message: hello\n';
  const broken = 'name: greet\nsteps:\n  - uses: lgo\n';

  test('a new good version replaces the old one; the old stays reachable by hash', () => {
    const reg = createPipelineRegistry();
    const a = reg.update('greet.yaml', v1);
    const b = reg.update('greet.yaml', v2);
    expect(a.ok && b.ok && b.changed).toBe(true);
    expect(reg.get('greet')?.hash).toBe(b.ok ? b.pipeline.hash : '');
    expect(reg.getByHash(a.ok ? a.pipeline.hash : '')?.ir.steps).toHaveLength(1);
  });

  test('a broken edit keeps the previous version active and reports the errors', () => {
    const reg = createPipelineRegistry();
    const good = reg.update('greet.yaml', v1);
    const bad = reg.update('greet.yaml', broken);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors[0]?.message).toContain("unknown step type 'lgo'");
    expect(!bad.ok && bad.active?.hash).toBe(good.ok ? good.pipeline.hash : '');
    expect(reg.get('greet')?.hash).toBe(good.ok ? good.pipeline.hash : '');
    expect([...reg.errors().keys()]).toEqual(['greet.yaml']);
  });

  test('pipelines call each other by name through the registry', () => {
    const reg = createPipelineRegistry();
    reg.update('greet.yaml', v1);
    const caller = reg.update('caller.yaml', 'name: caller\nsteps:\n  - call: greet\n');
    expect(caller.ok && Object.keys(caller.pipeline.ir.calls)).toEqual(['greet']);
  });
});

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { compilePipeline } from '../../engine/compile.js';
import type { Step } from '../../engine/ir.js';
import { compileErrors, compileOk, examplesResolver, pipeline } from './helpers.js';

const step = (src: string, header = ''): Step => {
  const s = compileOk(pipeline(src, header)).ir.steps[0];
  if (!s) throw new Error('no step');
  return s;
};

describe('compilePipeline: constructs compile to the expected IR', () => {
  test('a plain list runs in order: each step comes after the one before it', () => {
    const ir = compileOk(
      pipeline('  - id: a\n    uses: noop\n  - id: b\n    uses: noop\n  - uses: noop\n'),
    ).ir;
    expect(ir.steps.map((s) => [s.id, s.after])).toEqual([
      ['a', []],
      ['b', ['a']],
      ['_3', ['b']],
    ]);
  });

  test('needs: makes a DAG: listed steps are the only dependencies', () => {
    const ir = compileOk(
      pipeline(
        '  - id: a\n    uses: noop\n  - id: b\n    needs: []\n    uses: noop\n  - id: c\n    needs: [a, b]\n    uses: noop\n',
      ),
    ).ir;
    expect(ir.steps.map((s) => s.after)).toEqual([[], [], ['a', 'b']]);
  });

  test('uses: with: compiles arguments to templates, typed expressions and interpolated text', () => {
    const s = step(
      '  - id: send\n    uses: reply.send\n    with:\n      text: ${{ message.text }}\n      chat: "to ${{ message.chat.id }}!"\n      reply_to: plain\n',
    );
    expect(s).toMatchObject({
      kind: 'uses',
      type: 'reply.send',
      execution: 'workflow',
      with: {
        kind: 'object',
        fields: {
          text: { kind: 'expr', expr: { cel: 'message.text', type: 'string' } },
          chat: { kind: 'text', parts: ['to ', { cel: 'message.chat.id', type: 'string' }, '!'] },
          reply_to: { kind: 'literal', value: 'plain' },
        },
      },
    });
  });

  test('retry and timeout: step values override pipeline defaults, which override step-type defaults', () => {
    const header = 'defaults:\n  timeout: 20s\n  retry:\n    max_attempts: 7\n    initial_interval: 2s\n';
    const s = step(
      '  - uses: agent.turn\n    retry:\n      backoff_coefficient: 3\n      max_interval: 1m\n      non_retryable: [Bad]\n    with:\n      prompt: hi\n',
      header,
    );
    expect(s).toMatchObject({
      timeout: 20_000,
      retry: {
        maximumAttempts: 7,
        initialInterval: 2000,
        backoffCoefficient: 3,
        maximumInterval: 60_000,
        nonRetryableErrorTypes: ['Bad'],
      },
    });
  });

  test('if: on any step becomes a bool expression; bare CEL and ${{ }} are both accepted', () => {
    const ir = compileOk(
      pipeline("  - if: message.text == 'x'\n    uses: noop\n  - if: ${{ true }}\n    set:\n      a: 1\n"),
    ).ir;
    expect(ir.steps.map((s) => s.if)).toEqual([
      { cel: "message.text == 'x'", type: 'bool' },
      { cel: 'true', type: 'bool' },
    ]);
  });

  test('switch: cases keep their order and names; default is optional', () => {
    const s = step(
      "  - id: r\n    switch:\n      cases:\n        - name: hi\n          when: message.text == 'hi'\n          steps:\n            - uses: noop\n        - when: ${{ true }}\n          steps: []\n      default:\n        - uses: noop\n",
    );
    expect(s).toMatchObject({
      kind: 'switch',
      cases: [
        { name: 'hi', when: { cel: "message.text == 'hi'" }, steps: [{ id: '_r_hi_1', kind: 'uses' }] },
        { name: 'case2', steps: [] },
      ],
      default: [{ id: '_r_default_1' }],
    });
  });

  test('parallel: branches by name with a join mode; branch outputs are typed fields', () => {
    const ir = compileOk(
      pipeline(
        '  - id: p\n    parallel:\n      join: any\n      branches:\n        a:\n          - uses: noop\n        b:\n          - uses: noop\n  - uses: echo\n    with:\n      value: ${{ steps.p.output.a }}\n',
      ),
    ).ir;
    expect(ir.steps[0]).toMatchObject({
      kind: 'parallel',
      join: 'any',
      branches: [{ name: 'a' }, { name: 'b' }],
    });
  });

  test('foreach: items, element name, concurrency; the element and index are typed inside', () => {
    const s = step(
      '  - foreach:\n      items: ${{ message.attachments }}\n      as: file\n      concurrency: 4\n      steps:\n        - uses: log\n          with:\n            message: "${{ index }}: ${{ file.name }}"\n',
    );
    expect(s).toMatchObject({ kind: 'foreach', as: 'file', concurrency: 4, items: { kind: 'expr' } });
  });

  test('try/catch/finally: catch can filter error names and sees `error`', () => {
    const s = step(
      '  - try:\n      - raise: Boom\n    catch:\n      errors: [Boom]\n      steps:\n        - uses: log\n          with:\n            message: ${{ error.message }}\n    finally:\n      - uses: noop\n',
    );
    expect(s).toMatchObject({
      kind: 'try',
      steps: [{ kind: 'raise', error: 'Boom', message: { kind: 'literal', value: 'Boom' } }],
      catch: { errors: ['Boom'], steps: [{ kind: 'uses' }] },
      finally: [{ kind: 'uses', type: 'noop' }],
    });
  });

  test('raise: takes a name, or a name and a message template', () => {
    const s = step('  - raise:\n      error: Denied\n      message: "no: ${{ message.text }}"\n');
    expect(s).toMatchObject({ kind: 'raise', error: 'Denied', message: { kind: 'text' } });
  });

  test('wait: a duration, a duration from an expression, or until a timestamp', () => {
    const ir = compileOk(
      pipeline(
        "  - wait: 1h30m\n  - wait:\n      for: ${{ inputs.d }}\n  - wait:\n      until: '2030-01-01T09:00:00Z'\n",
        'inputs:\n  d:\n    type: string\n',
      ),
    ).ir;
    expect(ir.steps).toMatchObject([
      { kind: 'wait', duration: 5_400_000 },
      { kind: 'wait', durationFrom: { kind: 'expr' } },
      { kind: 'wait', until: { kind: 'literal', value: '2030-01-01T09:00:00Z' } },
    ]);
  });

  test('wait_for: a signal with a timeout and a timeout branch; its output is typed', () => {
    const ir = compileOk(
      pipeline(
        '  - id: ok\n    wait_for:\n      signal: approval\n      timeout: 10m\n      on_timeout:\n        - uses: noop\n  - if: ${{ steps.ok.output.timedOut }}\n    uses: noop\n',
      ),
    ).ir;
    expect(ir.steps[0]).toMatchObject({
      kind: 'wait_for',
      signal: 'approval',
      timeout: 600_000,
      onTimeout: [{ kind: 'uses' }],
    });
  });

  test('call: resolves the pipeline at compile time, embeds its IR and hash, checks its inputs', () => {
    const p = compileOk(readFileSync('pipelines/examples/research.yaml', 'utf8'));
    const call = p.ir.steps[1];
    expect(call).toMatchObject({ kind: 'call', pipeline: 'summarise', timeout: 300_000 });
    expect(p.ir.calls.summarise?.name).toBe('summarise');
    const child = compilePipeline(readFileSync('pipelines/examples/summarise.yaml', 'utf8'), 'x');
    expect(call?.kind === 'call' && call.hash).toBe(child.ok && child.pipeline.hash);
  });

  test('set: assigns typed variables visible to later steps', () => {
    const ir = compileOk(
      pipeline(
        '  - set:\n      n: 2\n      who: ${{ message.sender.name }}\n  - if: ${{ vars.n > 1 && vars.who != "" }}\n    uses: noop\n',
      ),
    ).ir;
    expect(ir.steps[0]).toMatchObject({ kind: 'set', values: { n: { kind: 'literal', value: 2 } } });
  });

  test('return: ends early with declared outputs', () => {
    const ir = compileOk(
      pipeline('  - return:\n      reply: ${{ message.text }}\n', 'outputs:\n  reply:\n    value: none\n'),
    ).ir;
    expect(ir.steps[0]).toMatchObject({ kind: 'return', outputs: { reply: { kind: 'expr' } } });
    expect(ir.outputs.reply).toEqual({ value: { kind: 'literal', value: 'none' } });
  });

  test('inputs become a JSON Schema: required unless defaulted or required: false', () => {
    const ir = compileOk(
      pipeline(
        '  - uses: noop\n',
        'inputs:\n  a:\n    type: string\n  b:\n    type: integer\n    default: 3\n  c:\n    type: boolean\n    required: false\n',
      ),
    ).ir;
    expect(ir.inputs).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'integer', default: 3 }, c: { type: 'boolean' } },
      required: ['a'],
      additionalProperties: false,
    });
  });

  test('env: only listed variables are visible, as strings', () => {
    const ir = compileOk(
      pipeline('  - uses: log\n    with:\n      message: ${{ env.TZ }}\n', 'env: [TZ]\n'),
    ).ir;
    expect(ir.env).toEqual(['TZ']);
  });

  test('the IR is plain JSON: it survives a JSON round trip unchanged', () => {
    const p = compileOk(readFileSync('pipelines/default.yaml', 'utf8'));
    expect(JSON.parse(JSON.stringify(p.ir))).toEqual(p.ir);
  });

  test('the hash is stable across compilations and ignores comments that do not move steps', () => {
    const src = readFileSync('pipelines/default.yaml', 'utf8');
    const a = compileOk(src).hash;
    expect(compileOk(src).hash).toBe(a);
    expect(compileOk(`${src}\n# trailing comment\n`).hash).toBe(a);
    expect(compileOk(src.replace('limit: 5', 'limit: 6')).hash).not.toBe(a);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test('a step sees the outputs of steps it needs transitively, but not of unrelated ones', () => {
    const errors = compileErrors(
      pipeline(
        '  - id: a\n    uses: noop\n  - id: b\n    needs: []\n    uses: echo\n    with:\n      value: ${{ steps.a.output }}\n',
      ),
    );
    expect(errors[0]?.message).toContain("no step 'a' is visible");
  });

  test('parallel branches keep their variables to themselves', () => {
    const errors = compileErrors(
      pipeline(
        '  - parallel:\n      branches:\n        a:\n          - set:\n              x: 1\n  - uses: echo\n    with:\n      value: ${{ vars.x }}\n',
      ),
    );
    expect(errors[0]?.message).toContain("no variable 'x'");
  });
});

describe('shipped pipelines', () => {
  test.each([
    'pipelines/default.yaml',
    'pipelines/examples/approval.yaml',
    'pipelines/examples/fanout.yaml',
    'pipelines/examples/digest.yaml',
    'pipelines/examples/resilient.yaml',
    'pipelines/examples/summarise.yaml',
    'pipelines/examples/research.yaml',
  ])('%s compiles', (file) => {
    const r = compilePipeline(readFileSync(file, 'utf8'), file, { resolvePipeline: examplesResolver });
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(true);
  });

  test('the default pipeline runs media enrichment and memory recall side by side', () => {
    const ir = compileOk(readFileSync('pipelines/default.yaml', 'utf8')).ir;
    const after = Object.fromEntries(ir.steps.map((s) => [s.id, s.after]));
    expect(after).toEqual({
      route: [],
      media: ['route'],
      recall: ['route'],
      agent: ['media', 'recall'],
      reply: ['agent'],
    });
  });
});

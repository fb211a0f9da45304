// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
import { describe, expect, test } from 'vitest';
import { compilePipeline } from '../../engine/compile.js';
import { formatErrors } from '../../engine/errors.js';
import type { CallStep, ForeachStep, Step, UsesStep } from '../../engine/ir.js';
import { renderMermaid } from '../../engine/mermaid.js';

const library: Record<string, string> = {
  lookup: 'name: lookup\ninputs:\n  word: { type: string }\nsteps:\n  - uses: noop\n',
};

function compile(source: string) {
  return compilePipeline(source, 't.yaml', {
    resolvePipeline: (name) => (library[name] ? { source: library[name], file: `${name}.yaml` } : undefined),
  });
}

function steps(source: string): Step[] {
  const r = compile(source);
  if (!r.ok) throw new Error(formatErrors(r.errors));
  return r.pipeline.ir.steps;
}

function errors(source: string): string[] {
  const r = compile(source);
  if (r.ok) throw new Error('expected compile errors, but it compiled');
  return formatErrors(r.errors).split('\n');
}

/** An `agent.turn` step whose `with:` ends with the given lines (indented 6). */
function turn(lines: string): string {
  return `name: t\nsteps:\n  - id: turn\n    uses: agent.turn\n    with:\n      prompt: hi\n${lines}`;
}

describe('tool_options: per registered tool, its timeout, retry and approval in one agent.turn step', () => {
  test('durations and retry are written like a step’s own, and land in the IR in milliseconds', () => {
    const [step] = steps(
      turn(
        [
          '      tool_options:',
          '        web_fetch:',
          '          timeout: 20s',
          '          retry: { max_attempts: 2, initial_interval: 1s, backoff_coefficient: 3, max_interval: 10s }',
          '          approval: required',
          '          approval_timeout: 15m',
          '        clock:',
          '          retry: { max_attempts: 1 }',
          '        transfer:',
          '          approval: required',
          '',
        ].join('\n'),
      ),
    ) as UsesStep[];
    expect(step?.toolOptions).toEqual({
      web_fetch: {
        timeout: 20_000,
        retry: { maximumAttempts: 2, initialInterval: 1000, backoffCoefficient: 3, maximumInterval: 10_000 },
        approval: 'required',
        approvalTimeout: 900_000,
      },
      // Only what is written: the rest stays the tool's own.
      clock: { retry: { maximumAttempts: 1 } },
      transfer: { approval: 'required' },
    });
    // Fixed at compile time: the options leave the step's arguments.
    expect(step?.with).toEqual({ kind: 'literal', value: { prompt: 'hi' } });
  });

  test('a step without tool_options or approval compiles to the same IR as before (no new fields)', () => {
    const plain = turn('      tools: [clock]\n');
    const withOptions = turn('      tools: [clock]\n      tool_options:\n        clock: { timeout: 5s }\n');
    const [a] = steps(plain) as UsesStep[];
    const [b] = steps(withOptions) as UsesStep[];
    expect(Object.keys(a ?? {}).sort()).toEqual([
      'after',
      'column',
      'execution',
      'id',
      'kind',
      'line',
      'retry',
      'timeout',
      'type',
      'with',
    ]);
    expect({ ...b, toolOptions: undefined }).toEqual({ ...a, toolOptions: undefined });
    expect(b?.toolOptions).toEqual({ clock: { timeout: 5000 } });
    // An empty mapping sets nothing.
    expect(steps(turn('      tool_options: {}\n'))[0]).not.toHaveProperty('toolOptions');
  });

  test('fields, durations and retry spellings are checked like a step’s retry: and timeout:', () => {
    expect(
      errors(
        turn(
          [
            '      tool_options:',
            '        web_fetch:',
            '          tmeout: 20s',
            '          retry: { max_attempt: 2, non_retryable: [Boom] }',
            '        clock:',
            '          timeout: 20 seconds',
            '          approval: yes',
            '        pager:',
            '          retry: { max_attempts: 0, initial_interval: 10s, max_interval: 1s }',
            '',
          ].join('\n'),
        ),
      ),
    ).toEqual([
      "t.yaml:9:11: unknown field 'tmeout' (did you mean 'timeout'?); expected one of: timeout, retry, approval, approval_timeout (at steps[0].with.tool_options.web_fetch.tmeout)",
      "t.yaml:10:20: unknown field 'max_attempt' (did you mean 'max_attempts'?); expected one of: max_attempts, initial_interval, backoff_coefficient, max_interval (at steps[0].with.tool_options.web_fetch.retry.max_attempt)",
      "t.yaml:10:36: unknown field 'non_retryable'; expected one of: max_attempts, initial_interval, backoff_coefficient, max_interval (at steps[0].with.tool_options.web_fetch.retry.non_retryable)",
      't.yaml:12:20: \'timeout\' is not valid: the string "20 seconds"; expected a duration such as 500ms, 2s, 5m, 1h, 1d or 1h30m (at steps[0].with.tool_options.clock.timeout)',
      't.yaml:13:21: \'approval\' must be one of "required", got the string "yes" (at steps[0].with.tool_options.clock.approval)',
      "t.yaml:15:34: 'max_attempts' must be >= 1, got number 0 (at steps[0].with.tool_options.pager.retry.max_attempts)",
      't.yaml:15:74: max_interval (1000ms) must not be shorter than initial_interval (10000ms) (at steps[0].with.tool_options.pager.retry.max_interval)',
    ]);
  });

  test('zero deadlines, and an approval_timeout without approval, are refused', () => {
    expect(
      errors(
        turn(
          [
            '      tool_options:',
            '        web_fetch: { timeout: 0s }',
            '        clock: { approval_timeout: 5m }',
            '        pager: { approval: required, approval_timeout: 0ms }',
            '',
          ].join('\n'),
        ),
      ),
    ).toEqual([
      't.yaml:8:31: timeout must be greater than 0 (at steps[0].with.tool_options.web_fetch.timeout)',
      't.yaml:9:18: approval_timeout needs approval: required next to it (at steps[0].with.tool_options.clock.approval_timeout)',
      't.yaml:10:56: approval_timeout must be greater than 0 (at steps[0].with.tool_options.pager.approval_timeout)',
    ]);
  });

  test('names: a tool name, not a pipeline tool of the step, and one tools: offers', () => {
    expect(
      errors(
        turn(
          [
            '      tools: [clock, web_fetch]',
            '      pipeline_tools: [lookup]',
            '      tool_options:',
            '        "web fetch": { timeout: 5s }',
            '        lookup: { timeout: 5s }',
            '        pager: { timeout: 5s }',
            '        clock: { timeout: 5s }',
            '',
          ].join('\n'),
        ),
      ),
    ).toEqual([
      "t.yaml:10:9: 'web fetch' is not a tool name (letters, digits, _ and -, at most 64 characters) (at steps[0].with.tool_options.web fetch)",
      "t.yaml:11:9: 'lookup' is a pipeline tool of this step; set its timeout and approval in its pipeline_tools entry, not in tool_options (at steps[0].with.tool_options.lookup)",
      "t.yaml:12:9: 'pager' is not offered in this step: tools: lists only clock, web_fetch; add it there or remove its options (at steps[0].with.tool_options.pager)",
    ]);
  });

  test('a name the worker may not register is left to the turn: the compiler does not know the tools', () => {
    const [step] = steps(turn('      tool_options:\n        no_such_tool: { timeout: 5s }\n')) as UsesStep[];
    expect(step?.toolOptions).toEqual({ no_such_tool: { timeout: 5000 } });
  });

  test('the shape of tool_options itself, and tool_options on another step type', () => {
    expect(errors(turn('      tool_options: [web_fetch]\n'))).toEqual([
      "t.yaml:7:21: 'tool_options' must be a mapping, got a list (at steps[0].with.tool_options)",
    ]);
    expect(errors(turn('      tool_options:\n        web_fetch:\n'))).toEqual([
      "t.yaml:8:19: 'web_fetch' must be a mapping, got null (at steps[0].with.tool_options.web_fetch)",
    ]);
    expect(errors(turn('      tool_options:\n        web_fetch: { timeout: "${{ inputs.t }}" }\n'))[0]).toBe(
      't.yaml:8:31: \'timeout\' is not valid: the string "${{ inputs.t }}"; expected a duration such as 500ms, 2s, 5m, 1h, 1d or 1h30m (at steps[0].with.tool_options.web_fetch.timeout)',
    );
    expect(
      errors('name: t\nsteps:\n  - uses: reply.send\n    with:\n      text: hi\n      tool_options: {}\n')[0],
    ).toBe(
      "t.yaml:6:7: unknown field 'tool_options'; expected one of: channel, account, chat, text, reply_to, thread, media, kind (at steps[0].with.tool_options)",
    );
  });
});

describe('approval: required on a step', () => {
  test('on uses:, call: and blocks, with an optional approval_timeout', () => {
    const [send, call, each] = steps(
      [
        'name: t',
        'steps:',
        '  - id: send_invoice',
        '    uses: reply.send',
        '    with: { text: invoice }',
        '    approval: required',
        '  - id: look',
        '    call: lookup',
        '    with: { word: crab }',
        '    approval: required',
        '    approval_timeout: 15m',
        '  - id: each',
        '    approval: required',
        '    foreach:',
        '      items: [1, 2]',
        '      steps:',
        '        - uses: noop',
        '',
      ].join('\n'),
    ) as [UsesStep, CallStep, ForeachStep];
    expect(send).toMatchObject({ id: 'send_invoice', approval: 'required' });
    expect(send).not.toHaveProperty('approvalTimeout');
    expect(call).toMatchObject({ id: 'look', approval: 'required', approvalTimeout: 900_000 });
    expect(each).toMatchObject({ kind: 'foreach', approval: 'required' });
    expect(each.steps[0]).not.toHaveProperty('approval');
  });

  test('a step without approval: has no approval field', () => {
    const [step] = steps('name: t\nsteps:\n  - uses: noop\n');
    expect(step).not.toHaveProperty('approval');
    expect(step).not.toHaveProperty('approvalTimeout');
  });

  test('the graph marks a step that waits for approval', () => {
    const r = compile('name: t\nsteps:\n  - id: pay\n    uses: noop\n    approval: required\n');
    if (!r.ok) throw new Error(formatErrors(r.errors));
    expect(renderMermaid(r.pipeline.ir)).toContain(
      's_pay["pay<br/><i>noop</i><br/><i>approval required</i>"]',
    );
  });

  test('a wrong value, a zero or malformed timeout, a timeout alone', () => {
    expect(
      errors(
        [
          'name: t',
          'steps:',
          '  - uses: noop',
          '    approval: yes',
          '  - uses: noop',
          '    approval: required',
          '    approval_timeout: 0s',
          '  - uses: noop',
          '    approval: required',
          '    approval_timeout: soon',
          '  - uses: noop',
          '    approval_timeout: 5m',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      't.yaml:4:15: \'approval\' must be one of "required", got the string "yes" (at steps[0].approval)',
      't.yaml:7:23: approval_timeout must be greater than 0 (at steps[1].approval_timeout)',
      't.yaml:10:23: \'approval_timeout\' is not valid: the string "soon"; expected a duration such as 500ms, 2s, 5m, 1h, 1d or 1h30m (at steps[2].approval_timeout)',
      't.yaml:12:5: approval_timeout needs approval: required next to it (at steps[3].approval_timeout)',
    ]);
  });

  test('refused on steps with nothing to approve', () => {
    expect(
      errors(
        [
          'name: t',
          'outputs:',
          '  x: {}',
          'steps:',
          '  - set: { a: 1 }',
          '    approval: required',
          '  - wait: 1s',
          '    approval: required',
          '  - wait_for: { signal: go }',
          '    approval_timeout: 1m',
          '  - raise: Nope',
          '    approval: required',
          '  - return: { x: 1 }',
          '    approval: required',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      't.yaml:6:5: approval: applies to steps that act (uses:, call:) or run other steps (switch:, parallel:, foreach:, try:); a set: step has nothing to approve (at steps[0].approval)',
      't.yaml:8:5: approval: applies to steps that act (uses:, call:) or run other steps (switch:, parallel:, foreach:, try:); a wait: step has nothing to approve (at steps[1].approval)',
      't.yaml:10:5: approval_timeout: applies to steps that act (uses:, call:) or run other steps (switch:, parallel:, foreach:, try:); a wait_for: step has nothing to approve (at steps[2].approval_timeout)',
      't.yaml:12:5: approval: applies to steps that act (uses:, call:) or run other steps (switch:, parallel:, foreach:, try:); a raise: step has nothing to approve (at steps[3].approval)',
      't.yaml:14:5: approval: applies to steps that act (uses:, call:) or run other steps (switch:, parallel:, foreach:, try:); a return: step has nothing to approve (at steps[4].approval)',
    ]);
  });
});

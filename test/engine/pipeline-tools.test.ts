// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { compilePipeline } from '../../engine/compile.js';
import { describePipeline } from '../../engine/describe.js';
import { formatErrors } from '../../engine/errors.js';
import type { UsesStep } from '../../engine/ir.js';
import { renderMermaid } from '../../engine/mermaid.js';
import { compileOk, examplesResolver } from './helpers.js';

/** Pipelines the tests offer as tools, by name. */
const library: Record<string, string> = {
  lookup: [
    'name: lookup',
    'description: Looks a word up in the dictionary.',
    'inputs:',
    '  word:',
    '    type: string',
    '    description: The word to look up.',
    '  lang:',
    '    type: string',
    '    default: en',
    'outputs:',
    '  meaning:',
    '    value: ${{ inputs.word }}',
    'steps:',
    '  - uses: noop',
    '',
  ].join('\n'),
  quiet: 'name: quiet\nsteps:\n  - uses: noop\n',
  'notes.v2': 'name: notes.v2\ndescription: Notes.\nsteps:\n  - uses: noop\n',
  loop: 'name: loop\nsteps:\n  - uses: agent.turn\n    with:\n      prompt: hi\n      pipeline_tools: [t]\n',
};

function resolve(name: string) {
  return library[name] !== undefined ? { source: library[name], file: `${name}.yaml` } : undefined;
}

/** An `agent.turn` step offering `tools` (YAML lines under `pipeline_tools:`). */
function turnWith(tools: string, extra = ''): string {
  return `name: t\nsteps:\n  - id: turn\n    uses: agent.turn\n    with:\n      prompt: hi\n${extra}      pipeline_tools:\n${tools}`;
}

function errors(source: string): string[] {
  const r = compilePipeline(source, 't.yaml', { resolvePipeline: resolve });
  if (r.ok) throw new Error('expected compile errors, but it compiled');
  return formatErrors(r.errors).split('\n');
}

function turnStep(source: string): UsesStep {
  const r = compilePipeline(source, 't.yaml', { resolvePipeline: resolve });
  if (!r.ok) throw new Error(formatErrors(r.errors));
  return r.pipeline.ir.steps[0] as UsesStep;
}

describe('pipeline_tools: other pipelines offered to the model as tools', () => {
  test('a bare name becomes a tool named after the pipeline, described by it, with its inputs as arguments', () => {
    const r = compilePipeline(turnWith('        - lookup\n'), 't.yaml', { resolvePipeline: resolve });
    if (!r.ok) throw new Error(formatErrors(r.errors));
    const step = r.pipeline.ir.steps[0] as UsesStep;
    expect(step.pipelineTools).toEqual([
      {
        name: 'lookup',
        description: 'Looks a word up in the dictionary.',
        pipeline: 'lookup',
        hash: r.pipeline.ir.calls.lookup && expect.stringMatching(/^sha256:/),
        parameters: {
          type: 'object',
          properties: {
            word: { type: 'string', description: 'The word to look up.' },
            lang: { type: 'string', default: 'en' },
          },
          required: ['word'],
          additionalProperties: false,
        },
      },
    ]);
    // The called IR is embedded like a call: target's, and the tools leave the step's arguments.
    const child = compilePipeline(library.lookup ?? '', 'lookup.yaml');
    expect(step.pipelineTools?.[0]?.hash).toBe(child.ok && child.pipeline.hash);
    expect(r.pipeline.ir.calls.lookup?.name).toBe('lookup');
    expect(step.with).toEqual({ kind: 'literal', value: { prompt: 'hi' } });
  });

  test('an entry may name the tool, describe it, require approval and set deadlines', () => {
    const step = turnStep(
      turnWith(
        '        - pipeline: lookup\n          name: define\n          description: Define a word.\n          approval: required\n          approval_timeout: 5m\n          timeout: 30s\n        - quiet\n',
      ),
    );
    expect(step.pipelineTools).toMatchObject([
      {
        name: 'define',
        description: 'Define a word.',
        pipeline: 'lookup',
        approval: 'required',
        approvalTimeout: 300_000,
        timeout: 30_000,
      },
      {
        name: 'quiet',
        description: "Runs the pipeline 'quiet'.",
        parameters: { type: 'object', properties: {}, required: [], additionalProperties: false },
      },
    ]);
    expect(step.pipelineTools?.[1]).not.toHaveProperty('approval');
  });

  test('steps without pipeline_tools compile exactly as before (no new IR field)', () => {
    const ir = compileOk(readFileSync('pipelines/examples/research.yaml', 'utf8')).ir;
    expect(ir.steps[0]).not.toHaveProperty('pipelineTools');
    expect(Object.keys(ir.calls)).toEqual(['summarise']);
  });

  test('the shipped toolbox example compiles, embeds both pipelines and shows its tools', () => {
    const p = compileOk(readFileSync('pipelines/examples/toolbox.yaml', 'utf8'), {}, 'toolbox.yaml');
    expect(Object.keys(p.ir.calls).sort()).toEqual(['research', 'summarise']);
    expect((p.ir.steps[0] as UsesStep).pipelineTools?.map((t) => [t.name, t.pipeline, t.approval])).toEqual([
      ['summarise', 'summarise', undefined],
      ['deep_research', 'research', 'required'],
    ]);
    expect(describePipeline(p).pipelineTools).toEqual([
      { step: 'turn', name: 'summarise', pipeline: 'summarise' },
      { step: 'turn', name: 'deep_research', pipeline: 'research', approval: 'required' },
    ]);
    expect(renderMermaid(p.ir)).toContain('<i>pipeline tools: summarise, deep_research</i>');
    const r = compilePipeline(readFileSync('pipelines/examples/toolbox.yaml', 'utf8'), 'toolbox.yaml', {
      resolvePipeline: examplesResolver,
    });
    expect(r.errors).toEqual([]);
  });
});

describe('pipeline_tools compile errors name the line, the column and what to do', () => {
  test('an unknown pipeline, as for call:', () => {
    expect(errors(turnWith('        - lookup\n        - lokup\n'))).toEqual([
      "t.yaml:9:11: unknown pipeline 'lokup': no pipeline with that name was found (at steps[0].with.pipeline_tools[1])",
    ]);
  });

  test('a pipeline offering itself, directly or through another, is a cycle', () => {
    expect(errors(turnWith('        - pipeline: t\n          name: again\n'))).toEqual([
      't.yaml:8:21: call cycle: t -> t; a pipeline cannot call itself, directly or not (at steps[0].with.pipeline_tools[0].pipeline)',
    ]);
    expect(errors(turnWith('        - loop\n'))[0]).toBe(
      "t.yaml:8:11: called pipeline 'loop' does not compile:",
    );
  });

  test('a tool name the model cannot call', () => {
    expect(errors(turnWith('        - pipeline: lookup\n          name: look up\n'))).toEqual([
      "t.yaml:9:17: tool name 'look up' must match ^[a-zA-Z0-9_-]{1,64}$ (letters, digits, _ and -, at most 64 characters) (at steps[0].with.pipeline_tools[0].name)",
    ]);
    expect(errors(turnWith('        - notes.v2\n'))).toEqual([
      "t.yaml:8:11: pipeline 'notes.v2' is not a valid tool name (letters, digits, _ and -, at most 64 characters); give the tool one with name: (at steps[0].with.pipeline_tools[0])",
    ]);
  });

  test('two tools of one step with the same name', () => {
    expect(errors(turnWith('        - lookup\n        - pipeline: quiet\n          name: lookup\n'))).toEqual(
      [
        "t.yaml:10:17: duplicate tool name 'lookup': pipeline_tools[0] already offers a tool by that name; give one of them another name: (at steps[0].with.pipeline_tools[1].name)",
      ],
    );
  });

  test('a name also listed in tools: (registered tools)', () => {
    expect(errors(turnWith('        - lookup\n', '      tools: [web_fetch, lookup]\n'))).toEqual([
      "t.yaml:7:26: 'lookup' is both in tools: and a pipeline tool (pipeline_tools[0]); tools: names registered tools only, and the two cannot share a name (at steps[0].with.tools[1])",
    ]);
  });

  test('misspelled fields, wrong values and expressions in an entry', () => {
    expect(
      errors(
        turnWith(
          '        - pipeline: lookup\n          descripton: x\n          approval: always\n          timeout: soon\n        - pipeline: quiet\n          approval_timeout: 1m\n          name: ${{ inputs.x }}\n',
        ),
      ),
    ).toEqual([
      "t.yaml:9:11: unknown field 'descripton' in a pipeline tool (did you mean 'description'?); known: pipeline, name, description, approval, approval_timeout, timeout (at steps[0].with.pipeline_tools[0].descripton)",
      "t.yaml:10:21: approval must be 'required' (or left out: no approval) (at steps[0].with.pipeline_tools[0].approval)",
      't.yaml:11:20: timeout expects a duration such as "500ms", "2s", "5m", "1h", "1d" or "1h30m" (greater than 0), got "soon" (at steps[0].with.pipeline_tools[0].timeout)',
      't.yaml:13:29: approval_timeout needs approval: required next to it (at steps[0].with.pipeline_tools[1].approval_timeout)',
      't.yaml:14:17: name: is fixed when the pipeline compiles; expressions are not allowed in pipeline_tools (at steps[0].with.pipeline_tools[1].name)',
    ]);
  });

  test('a list is expected, of names or mappings with pipeline:', () => {
    expect(
      errors(
        turnWith('        lookup\n').replace('pipeline_tools:\n        lookup', 'pipeline_tools: lookup'),
      ),
    ).toEqual([
      't.yaml:7:23: pipeline_tools must be a list; each entry a pipeline name, or { pipeline, name, description, approval, approval_timeout, timeout } (at steps[0].with.pipeline_tools)',
    ]);
    expect(errors(turnWith('        - 3\n        - name: x\n'))).toEqual([
      't.yaml:8:11: a pipeline tool is a pipeline name, or { pipeline, name, description, approval, approval_timeout, timeout } (at steps[0].with.pipeline_tools[0])',
      't.yaml:9:11: a pipeline tool needs pipeline: <name of the pipeline to run> (at steps[0].with.pipeline_tools[1])',
    ]);
  });

  test('pipeline_tools belongs to agent.turn steps', () => {
    expect(
      errors(
        'name: t\nsteps:\n  - uses: log\n    with:\n      message: hi\n      pipeline_tools: [lookup]\n',
      ),
    ).toEqual([
      "t.yaml:6:7: unknown field 'pipeline_tools'; expected one of: message, level (at steps[0].with.pipeline_tools)",
    ]);
  });
});

// `memory.remember` writes each entry exactly once across retries: 24 runs at once append to the
// same daily note, and in each a random attempt-1 failure is injected before the write, after it
// (the write happened, the activity's completion is lost, as when a worker dies there) or never.
// The note ends with every entry once, and the retried runs that had written report nothing new.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { builtInStepTypes } from '../../engine/index.js';
import type { AgentMemory } from '../../memory/agent-memory.js';
import { createMemoryService, type MemoryService } from '../../memory/service.js';
import { compile, type Harness, startHarness } from '../pipeline/harness.js';
import { memoryConfig } from './fixtures.js';

type Crash = 'before' | 'after' | 'none';

describe('memory.remember across retries', () => {
  const address = inject('temporalAddress');
  const home = mkdtempSync(join(tmpdir(), 'switchyard-remember-'));
  const workspace = join(home, 'agents', 'main');
  const crashes = new Map<string, Crash>();
  const at = new Date('2026-03-05T12:00:00Z');
  let real: MemoryService;
  let h: Harness;

  beforeAll(async () => {
    real = createMemoryService(memoryConfig(home, { timezone: 'UTC' }), {
      workspaceOf: () => workspace,
      secrets: { env: {} },
    });
    // The real memory, with a failure injected around the write of attempt 1.
    const flaky: MemoryService = {
      ...real,
      enabled: true,
      agent: (id) => {
        const memory = real.agent(id);
        return new Proxy(memory, {
          get(target, prop, receiver) {
            if (prop !== 'append') return Reflect.get(target, prop, receiver);
            return async (input: Parameters<AgentMemory['append']>[0]) => {
              const crash = Context.current().info.attempt === 1 ? crashes.get(input.text) : 'none';
              if (crash === 'before') throw ApplicationFailure.retryable('lost before the write', 'Crash');
              const result = await target.append(input);
              if (crash === 'after') throw ApplicationFailure.retryable('lost after the write', 'Crash');
              return result;
            };
          },
        });
      },
    };
    h = await startHarness(address, 'remember-once', { pipelineSteps: { memory: flaky, now: () => at } });
  });
  afterAll(async () => {
    await h?.close();
    await real?.close();
  });

  it('appends every entry once, whatever attempt failed and where', async () => {
    const p = compile(
      [
        'name: remember',
        'inputs: { text: { type: string } }',
        `outputs: { appended: { value: "\${{ steps.write.output.appended }}" } }`,
        'steps:',
        '  - id: write',
        '    uses: memory.remember',
        '    retry: { max_attempts: 3, initial_interval: 50ms }',
        `    with: { text: "\${{ inputs.text }}" }`,
      ].join('\n'),
      builtInStepTypes,
    );
    const modes: Crash[] = ['before', 'after', 'none'];
    const entries = Array.from(
      { length: 24 },
      (_, i) => `Fact number ${i}: the key ${i * 7919} opens box ${i}.`,
    );
    for (const text of entries) crashes.set(text, modes[Math.floor(Math.random() * modes.length)]!);
    const outputs = await Promise.all(entries.map((text) => h.run(p, { text })));

    const note = readFileSync(join(workspace, 'memory', '2026-03-05.md'), 'utf8');
    for (const text of entries) expect(note.split(text).length - 1, text).toBe(1);
    expect(note.startsWith('# 2026-03-05\n')).toBe(true);
    // A retry after a write that happened finds its key in the note and writes nothing.
    expect(outputs.map((o) => o.appended)).toEqual(entries.map((t) => crashes.get(t) !== 'after'));
    // The markers stay out of what search returns.
    const hit = (await real.agent('main').search('which key opens box 5')).hits[0]!;
    expect(hit.text).toContain('Fact number 5');
    expect(hit.text).not.toContain('switchyard:memory');
  }, 120_000);
});

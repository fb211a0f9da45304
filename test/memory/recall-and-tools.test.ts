// What memory hands to a turn and to the model: recall hits as short snippets with their source,
// a question far larger than the model's input cut rather than failing, memory_get reading a line
// range and refusing anything that is not a memory file, and a disabled memory saying so.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryGetTool, createMemorySearchTool } from '../../activities/agent/builtin-tools/index.js';
import type { ToolCallContext } from '../../activities/agent/index.js';
import { createMemoryActivities, RECALL_SNIPPET_CHARS } from '../../activities/memory.js';
import { Failures } from '../../engine/failures.js';
import { createMemoryService, type MemoryService } from '../../memory/service.js';
import { memoryConfig, writeWorkspace } from './fixtures.js';

const ctx = {
  toolCallId: 't1',
  runKey: 'r',
  idempotencyKey: 'turn:agent:main:x:1/3',
  attempt: 1,
} as ToolCallContext;

describe('recall and the memory tools', () => {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-recall-'));
  const workspace = join(home, 'agents', 'main');
  let service: MemoryService;
  beforeAll(() => {
    writeWorkspace(workspace);
    service = createMemoryService(memoryConfig(home), { workspaceOf: () => workspace, secrets: { env: {} } });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('recalls short snippets with their source and score, and cuts an oversized question', async () => {
    const { memoryRecall } = createMemoryActivities({ memory: service });
    const out = await memoryRecall({ query: 'When is the dentist appointment?', limit: 3 });
    expect(out.hits[0]).toMatchObject({
      path: 'memory/2026-03-04.md',
      source: expect.stringMatching(/^memory\/2026-03-04\.md#L\d+-L\d+$/),
    });
    expect(out.hits.every((h) => h.text.length <= RECALL_SNIPPET_CHARS && h.score > 0)).toBe(true);
    const huge = `${'dentist appointment with Dr. Patel '.repeat(5000)}?`;
    const cut = await memoryRecall({ query: huge, limit: 2 });
    expect(cut.hits[0]).toMatchObject({ path: 'memory/2026-03-04.md' });
    expect((await memoryRecall({ query: '   ' })).hits).toEqual([]);
  });

  it('says memory is disabled rather than pretending to search', async () => {
    const { memoryRecall } = createMemoryActivities({});
    expect(await memoryRecall({ query: 'anything' })).toEqual({ hits: [], disabled: true });
  });

  it('memory_search answers in OpenClaw’s shape; memory_get reads the lines it points at', async () => {
    const search = createMemorySearchTool({ memory: service });
    const found = (await search.execute({ query: 'Phoenix deadline', maxResults: 2 }, ctx)) as {
      content: Array<{ text: string }>;
    };
    const { results } = JSON.parse(found.content[0]!.text) as {
      results: Array<{ path: string; startLine: number; endLine: number; snippet: string; citation: string }>;
    };
    expect(results.length).toBeLessThanOrEqual(2);
    const top = results[0]!;
    expect(top).toMatchObject({
      path: 'memory/2026-03-02.md',
      citation: `memory/2026-03-02.md#L${top.startLine}-L${top.endLine}`,
    });
    const get = createMemoryGetTool({ memory: service });
    const read = (await get.execute({ path: top.path, from: 4, lines: 1 }, ctx)) as {
      details: { text: string };
    };
    expect(read.details.text).toBe(
      '- Project Phoenix: the deadline moved to 30 September; Maria owns the launch plan.',
    );
  });

  it('memory_get refuses paths outside the memory files, and names what it accepts', async () => {
    const get = createMemoryGetTool({ memory: service });
    for (const path of [
      '../../etc/passwd',
      '/etc/passwd',
      'AGENTS.md',
      'memory/../SOUL.md',
      'memory/notes.txt',
    ]) {
      const error = await get.execute({ path }, ctx).catch((e: unknown) => e);
      expect(error, path).toBeInstanceOf(ApplicationFailure);
      expect(error).toMatchObject({ type: Failures.MemoryPathRefused, nonRetryable: true });
      expect((error as Error).message).toMatch(/use MEMORY\.md or a file under memory\//);
    }
    const missing = await get.execute({ path: 'memory/2020-01-01.md' }, ctx).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/does not exist/);
  });
});

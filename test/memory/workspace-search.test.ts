// An OpenClaw workspace (MEMORY.md and three daily notes) indexed into the embedded store with the
// real local model, and searched the way the agent searches: the expected note ranks first, an
// edit re-indexes only the edited file, a binary file is skipped with its reason, a corrupt index
// is rebuilt from the notes.
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryService, type MemoryService } from '../../memory/service.js';
import { memoryConfig, NOTES, writeWorkspace } from './fixtures.js';

describe('an OpenClaw-style workspace in the embedded store, with the local model', () => {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-memory-ws-'));
  const workspace = join(home, 'agents', 'main');
  const logs: string[] = [];
  let service: MemoryService;

  beforeAll(() => {
    writeWorkspace(workspace);
    service = createMemoryService(memoryConfig(home), {
      workspaceOf: () => workspace,
      secrets: { env: {} },
      log: (level, message) => logs.push(`${level}: ${message}`),
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('indexes MEMORY.md and the daily notes, and finds what each question is about first', async () => {
    const memory = service.agent('main');
    const report = await memory.sync();
    expect(report.indexed.sort()).toEqual(['MEMORY.md', ...Object.keys(NOTES)].sort());
    expect(report.skipped).toEqual([]);

    const top = async (query: string) => (await memory.search(query)).hits[0];
    const daughter = (await top("What is my daughter's name?"))!;
    expect(daughter).toMatchObject({ path: 'MEMORY.md' });
    expect(daughter.text).toContain('My daughter is called Ana');
    // The line range points at the fact (line 4) in the file.
    expect(daughter.startLine).toBeLessThanOrEqual(4);
    expect(daughter.endLine).toBeGreaterThanOrEqual(4);
    expect(await top('When is the Phoenix deadline?')).toMatchObject({ path: 'memory/2026-03-02.md' });
    expect(await top('INV-2024-0087')).toMatchObject({ path: 'memory/2026-03-02.md' });
    expect(await top('when is the recycling collected?')).toMatchObject({ path: 'memory/2026-03-03.md' });
    expect(await top('when do I see the dentist?')).toMatchObject({ path: 'memory/2026-03-04.md' });
    expect(await top('food allergies in the family')).toMatchObject({ path: 'MEMORY.md' });
    const hit = (await memory.search('dentist appointment')).hits[0]!;
    expect(hit.score).toBeGreaterThan(0.25);
    expect(hit.startLine).toBeLessThanOrEqual(5);
    expect(hit.endLine).toBeGreaterThanOrEqual(hit.startLine);
  });

  it('re-indexes only the note that changed, and embeds only its new chunk', async () => {
    const memory = service.agent('main');
    const path = 'memory/2026-03-03.md';
    appendFileSync(join(workspace, path), '\n## Garden\n- The tomatoes need water every evening in July.\n');
    const report = await memory.sync();
    expect(report.indexed).toEqual([path]);
    expect(report.chunksEmbedded).toBe(1);
    expect(report.chunksCached).toBeGreaterThanOrEqual(1);
    expect((await memory.search('watering the tomato plants')).hits[0]).toMatchObject({ path });
    // Nothing changed: nothing is read again.
    expect((await memory.sync()).indexed).toEqual([]);
  });

  it('skips a binary file in memory/ with the reason, and keeps the rest searchable', async () => {
    const memory = service.agent('main');
    writeFileSync(join(workspace, 'memory', 'photo.md'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]));
    const report = await memory.sync();
    expect(report.skipped).toEqual([
      { path: 'memory/photo.md', reason: 'binary (contains NUL bytes), not a text note' },
    ]);
    expect(logs.some((l) => l.includes('skipped memory/photo.md'))).toBe(true);
    expect((await memory.search('Dr. Patel')).hits[0]).toMatchObject({ path: 'memory/2026-03-04.md' });
  });

  it('rebuilds a corrupt index from the notes', async () => {
    await service.close();
    const file = join(home, 'memory', 'main.sqlite');
    const bytes = readFileSync(file);
    bytes.fill(0x42, 0, 4096);
    writeFileSync(file, bytes);
    service = createMemoryService(memoryConfig(home), { workspaceOf: () => workspace, secrets: { env: {} } });
    const memory = service.agent('main');
    expect((await memory.search("What is my daughter's name?")).hits[0]).toMatchObject({ path: 'MEMORY.md' });
    expect((await memory.status()).files).toBe(4);
  });
});

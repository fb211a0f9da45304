import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  defaultPipelineDirs,
  loadPipelineLibrary,
  type PipelineFileEvent,
  type PipelineLibrary,
} from '../../client/pipelines.js';
import type { PipelineState } from '../../workflows/pipeline/pipeline-api.js';
import { type Harness, startHarness } from './harness.js';

const version = (v: string, pause = '1500ms') => `
name: versioned
outputs:
  version: { value: ${v} }
steps:
  - id: pause
    wait: ${pause}
  - id: say
    uses: echo
    with: { value: ${v} }
`;

describe('the pipeline library on disk', () => {
  it('compiles every shipped pipeline, embedding called pipelines', () => {
    const library = loadPipelineLibrary({
      dirs: defaultPipelineDirs({ home: mkdtempSync(join(tmpdir(), 'sy-')) }),
    });
    expect(library.errors().size).toBe(0);
    expect(library.list().map((p) => p.name)).toEqual(
      expect.arrayContaining([
        'default',
        'approval',
        'digest',
        'fanout',
        'research',
        'resilient',
        'summarise',
      ]),
    );
    expect(Object.keys(library.get('research')?.ir.calls ?? {})).toEqual(['summarise']);
  });
});

describe('hot reload while a run waits on a timer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-pipelines-'));
  const file = join(dir, 'versioned.yaml');
  const events: PipelineFileEvent[] = [];
  const reported: string[] = [];
  let library: PipelineLibrary;
  let h: Harness;

  const nextEvent = async (ok: (e: PipelineFileEvent) => boolean) => {
    const seen = events.length;
    for (let i = 0; i < 200; i++) {
      const hit = events.slice(seen).find(ok);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('the library did not reload the file');
  };

  beforeAll(async () => {
    writeFileSync(file, version('v1'));
    library = loadPipelineLibrary({
      dirs: [dir],
      watch: true,
      onEvent: (e) => events.push(e),
      onError: (m) => reported.push(m),
    });
    h = await startHarness(inject('temporalAddress'), 'reload');
  });
  afterAll(async () => {
    library?.close();
    await h?.close();
  });

  it('keeps the running version, gives new runs the edited one, and keeps it when an edit is broken', async () => {
    const v1 = library.get('versioned');
    if (!v1) throw new Error('v1 did not compile');
    const running = await h.start(v1);
    for (;;) {
      const state = await running.query<PipelineState>('pipeline.state').catch(() => undefined);
      if (state?.steps.pause?.status === 'running') break;
      await new Promise((r) => setTimeout(r, 25));
    }

    const pending = nextEvent((e) => e.ok && 'hash' in e && e.changed);
    writeFileSync(file, version('v2', '10ms'));
    await pending;
    const v2 = library.get('versioned');
    expect(v2?.hash).not.toBe(v1.hash);
    expect(library.getByHash(v1.hash)?.ir).toEqual(v1.ir);

    const failing = nextEvent((e) => !e.ok);
    writeFileSync(file, 'name: versioned\nsteps:\n  - uses: no.such.type\n');
    const broken = await failing;
    expect(broken).toMatchObject({ ok: false, active: { name: 'versioned', hash: v2?.hash } });
    expect(library.get('versioned')?.hash).toBe(v2?.hash);
    expect(reported.join('\n')).toMatch(/versioned\.yaml:3:11: unknown step type 'no\.such\.type'/);
    expect(library.errors().get(file)?.[0]).toMatchObject({ line: 3, column: 11 });

    const fresh = library.get('versioned');
    if (!fresh) throw new Error('no active version');
    expect(await h.run(fresh)).toEqual({ version: 'v2' });
    expect(await running.result()).toEqual({ version: 'v1' });
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { cronWorkflowBundle } from './harness.js';

// Recorded by `RECORD_CRON_HISTORIES=1 npx vitest run test/cron/schedules.test.ts`. The shared
// test/replay/replay.test.ts replays them too once workflows/index.ts exports scheduledTaskWorkflow.
const dir = join(import.meta.dirname, '../replay/histories');
const files = readdirSync(dir).filter((f) => /^schedule-.*\.json$/.test(f));

describe('recorded scheduled-task histories replay against the current workflow code', () => {
  it('has at least one recorded scheduled run', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s replays without a determinism error', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    const results = Worker.runReplayHistories({ workflowBundle: await cronWorkflowBundle() }, [
      { workflowId: file, history },
    ]);
    for await (const result of results) {
      expect(result.error, `${file}: ${result.error?.message}`).toBeUndefined();
    }
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { dataConverterOf } from '../../temporal/data-converter.js';
import { loadWorkflowBundle } from '../../worker/bundle.js';
import { testConfig } from '../helpers/config.js';

const dir = join(import.meta.dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

// With the payload codec every process uses: histories written in clear (before encryption, or
// with it off) replay unchanged through it (test/integration/encryption.test.ts replays encrypted ones).
const dataConverter = dataConverterOf(testConfig(undefined));

describe('recorded workflow histories replay against the current code (with the payload codec)', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s replays without a determinism error', async (file) => {
    // A fixture may name the workflow id it ran under (the approval board derives ids from it);
    // otherwise the file name stands in for it.
    const { workflowId = file, ...json } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const history = historyFromJSON(json);
    const workflowType =
      history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? 'unknown';
    const results = Worker.runReplayHistories({ workflowBundle: await loadWorkflowBundle(), dataConverter }, [
      { workflowId, history },
    ]);
    for await (const result of results) {
      expect(result.error, `${file} (${workflowType}): ${result.error?.message}`).toBeUndefined();
    }
  });
});

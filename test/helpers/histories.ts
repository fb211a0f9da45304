/**
 * Recording workflow histories as replay fixtures. Failures in a history carry the stack trace of
 * the machine that recorded it (absolute paths of its checkout and node_modules); the fixture keeps
 * everything replay needs and drops those.
 */
import { writeFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

/** A history's JSON (as `historyToJSON` or `temporal workflow show --output json` gives it) without stack traces. */
export function withoutStackTraces(json: string): string {
  const stripped = JSON.parse(json, (key, value) => (key === 'stackTrace' ? undefined : value));
  return `${JSON.stringify(stripped, null, 2)}\n`;
}

/**
 * Writes a fetched history as a replay fixture, stack traces stripped. Pass the workflow id when
 * the workflow code reads it (approval ids are derived from it): test/replay replays under that id.
 */
export function writeHistoryFixture(file: string, history: History, workflowId?: string): void {
  const json = historyToJSON(history);
  const withId = workflowId === undefined ? json : JSON.stringify({ workflowId, ...JSON.parse(json) });
  writeFileSync(file, withoutStackTraces(withId));
}

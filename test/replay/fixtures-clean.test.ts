/**
 * Recorded histories are fixtures of this repository, not of the machine that recorded them:
 * no stack traces (which carry that machine's absolute paths), no paths of a checkout.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { projectRoot } from '../../config/home.js';
import { withoutStackTraces } from '../helpers/histories.js';

function historyFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return historyFiles(path);
    return entry.name.endsWith('.json') && dir.endsWith('histories') ? [path] : [];
  });
}

it('recorded histories carry no stack traces and no absolute paths', () => {
  const files = historyFiles(join(projectRoot(), 'test'));
  expect(files.length).toBeGreaterThanOrEqual(15);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const name = relative(projectRoot(), file);
    expect(text, name).not.toContain('"stackTrace"');
    expect(text, name).not.toMatch(/(?:\/work|\/home|\/root|\/tmp|\/Users)\/[\w.-]+\//);
  }
});

it('the recording helper strips stack traces at any depth and keeps the rest', () => {
  const json = JSON.stringify({
    events: [
      {
        failure: {
          message: 'boom',
          stackTrace: 'Error: boom\n    at /home/builder/switchyard/x.ts:1:1',
          cause: { stackTrace: 'x' },
        },
      },
    ],
  });
  expect(JSON.parse(withoutStackTraces(json))).toEqual({
    events: [{ failure: { message: 'boom', cause: {} } }],
  });
});

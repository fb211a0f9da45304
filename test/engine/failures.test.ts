/**
 * The failure registry is the one place failure names are spelled: each entry is its own name,
 * no name appears twice, docs/pipelines.md lists every one with the right "retried" column, and
 * no source file outside the registry spells a registered name as a string literal.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Failures, RETRYABLE_FAILURES } from '../../engine/failures.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCE_FOLDERS = [
  'activities',
  'workflows',
  'engine',
  'client',
  'channels',
  'gateway',
  'worker',
  'config',
  'cli',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The rows of the table under `## Failures` in docs/pipelines.md: name → retried. */
function documentedFailures(): Map<string, string> {
  const doc = readFileSync(join(root, 'docs', 'pipelines.md'), 'utf8');
  const section = doc.split('\n## Failures\n')[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, string>();
  for (const m of section.matchAll(/^\| `(\w+)` \| .* \| (yes|no) \|$/gm)) rows.set(m[1] ?? '', m[2] ?? '');
  return rows;
}

describe('the failure registry', () => {
  const entries = Object.entries(Failures);

  it('names every failure by itself, once', () => {
    for (const [key, name] of entries) expect(name, key).toBe(key);
    expect(new Set(Object.values(Failures)).size).toBe(entries.length);
    expect(new Set(RETRYABLE_FAILURES).size).toBe(RETRYABLE_FAILURES.length);
  });

  it('is listed in docs/pipelines.md, each name with whether Temporal retries it', () => {
    const documented = documentedFailures();
    const expected = new Map(
      entries.map(([, name]) => [name, RETRYABLE_FAILURES.includes(name) ? 'yes' : 'no'] as const),
    );
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(expected));
  });

  it('gives every entry a doc line', () => {
    const text = readFileSync(join(root, 'engine', 'failures.ts'), 'utf8');
    for (const [key] of entries) expect(text, key).toMatch(new RegExp(`/\\*\\* .+ \\*/\\n  ${key}: '`));
  });

  it('is the only place a registered name is spelled as a string', () => {
    const names = Object.values(Failures).join('|');
    const literal = new RegExp(`['"](${names})['"]`);
    const spelled = SOURCE_FOLDERS.flatMap(sourceFiles)
      .filter((file) => file !== 'engine/failures.ts')
      .filter((file) => literal.test(readFileSync(join(root, file), 'utf8')));
    expect(spelled).toEqual([]);
  });
});

import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConfigChange, describeRefusedEdit, type LiveConfig, liveConfig } from '../../config/live.js';
import { loadConfig } from '../../config/load.js';

const live: LiveConfig[] = [];
afterEach(() => {
  for (const l of live.splice(0)) l.close();
});

function setUp(yaml: string | undefined, check?: (c: ReturnType<typeof loadConfig>) => void) {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-live-'));
  const file = join(home, 'switchyard.yaml');
  if (yaml !== undefined) writeFileSync(file, yaml);
  const refused: string[] = [];
  const changes: ConfigChange[] = [];
  const config = liveConfig(loadConfig({ home, env: {} }), {
    env: {},
    onInvalid: (error, f) => refused.push(describeRefusedEdit(error, f)),
    ...(check ? { check } : {}),
  });
  config.onChange((c) => changes.push(c));
  live.push(config);
  // Editors replace the file; a rename also gives it a new inode, as a real save does.
  const edit = (text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  return { home, file, config, refused, changes, edit };
}

describe('switchyard.yaml while a process runs (hot reload)', () => {
  it('an edit is in effect at the next look, with the keys that changed', () => {
    const { config, edit, changes } = setUp('providers:\n  fake: { baseUrl: "http://127.0.0.1:1/v1" }\n');
    expect((config.current().models.providers as Record<string, { baseUrl: string }>).fake?.baseUrl).toBe(
      'http://127.0.0.1:1/v1',
    );
    edit('providers:\n  fake: { baseUrl: "http://127.0.0.1:2/v1" }\n');
    expect((config.current().models.providers as Record<string, { baseUrl: string }>).fake?.baseUrl).toBe(
      'http://127.0.0.1:2/v1',
    );
    expect(changes.map((c) => c.changed)).toEqual([['providers']]);
    expect(changes[0]!.needsRestart).toEqual([]);
  });

  it('a file created after start is read, and deleting it brings the defaults back', () => {
    const { config, edit, file } = setUp(undefined);
    expect(config.current().routing.agents).toBeUndefined();
    edit('agents:\n  - id: main\n    model: anthropic/claude-sonnet-4-5\n');
    expect(config.current().routing.agents).toEqual([{ id: 'main', model: 'anthropic/claude-sonnet-4-5' }]);
    renameSync(file, `${file}.old`);
    expect(config.current().routing.agents).toBeUndefined();
  });

  it('a bad edit keeps the previous config and is reported once, with file:line', () => {
    const { config, edit, refused, changes, file } = setUp('log:\n  level: info\n');
    edit('log:\n  level: loud\n');
    expect(config.current().log.level).toBe('info');
    expect(config.current().log.level).toBe('info');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toContain(`${file}:2:10: log.level: must be one of`);
    expect(changes).toEqual([]);
    edit('log:\n  level: debug\n');
    expect(config.current().log.level).toBe('debug');
    expect(changes.map((c) => c.needsRestart)).toEqual([['log.level']]);
  });

  it('a model that names an unknown provider is refused with its line', () => {
    const { config, edit, refused, file } = setUp('agents:\n  - id: main\n');
    edit('agents:\n  - id: main\n    model: antropic/claude-sonnet-4-5\n');
    expect(config.current().routing.agents).toEqual([{ id: 'main' }]);
    expect(refused[0]).toContain(`${file}:3:12: agents.0.model: 'antropic/claude-sonnet-4-5' names provider`);
  });

  it("a process's own check can refuse an edit the schema allows", () => {
    const { config, edit, refused } = setUp('tools:\n  webFetch: { allowHosts: [a.lan] }\n', (c) => {
      if (c.tools.webFetch.allowHosts.includes('forbidden.lan'))
        throw new Error('forbidden.lan is not allowed');
    });
    edit('tools:\n  webFetch: { allowHosts: [forbidden.lan] }\n');
    expect(config.current().tools.webFetch.allowHosts).toEqual(['a.lan']);
    expect(refused[0]).toMatch(/cannot be used; the previous configuration stays in effect: forbidden\.lan/);
  });

  it('notices an edit by itself (nobody asking), and a change of the secrets file', async () => {
    const { home, edit, changes } = setUp('log:\n  level: info\n');
    edit('log:\n  level: warn\n');
    await expect.poll(() => changes.length, { timeout: 5_000 }).toBe(1);
    writeFileSync(join(home, 'secrets.json'), '{"a":"b"}');
    await expect.poll(() => changes.length, { timeout: 5_000 }).toBe(2);
    expect(changes[1]!.changed).toEqual(['secrets']);
  });
});

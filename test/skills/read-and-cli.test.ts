// The `read` tool opens skill files and nothing else; `switchyard skills list|info|check` says what
// the agent has, what is not ready and why, and which SKILL.md files are broken (file:line).
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { MachineTools } from '../../activities/agent/builtin-tools/availability.js';
import { createReadTool } from '../../activities/agent/builtin-tools/read.js';
import type { ToolCallContext } from '../../activities/agent/index.js';
import { registerSkillsCommands } from '../../cli/commands/skills.js';
import { loadConfig } from '../../config/load.js';
import { bundledSkillsDir } from '../../skills/catalog.js';
import { runCli } from '../helpers/cli.js';

function files(root: string, tree: Record<string, string>): string {
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const ctx: ToolCallContext = {
  toolCallId: 'c',
  runKey: 'r',
  idempotencyKey: 'k',
  attempt: 1,
  signal: new AbortController().signal,
};

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  expect((error as ApplicationFailure).type).toBe('ReadRefused');
  return (error as ApplicationFailure).message;
}

describe('the read tool', () => {
  const root = mkdtempSync(join(tmpdir(), 'switchyard-read-'));
  const skill = join(root, 'skills', 'notes');
  files(root, {
    'skills/notes/SKILL.md': '---\nname: notes\ndescription: n\n---\nSee {baseDir}/references/howto.md\n',
    'skills/notes/references/howto.md': Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n'),
    'skills/notes/blob.bin': '\0\0\0',
    'secret.txt': 'not a skill file',
  });
  symlinkSync(join(root, 'secret.txt'), join(skill, 'sneaky.md'));
  const read = createReadTool({ folders: async () => [skill] });

  it("returns a SKILL.md with {baseDir} as the skill folder's path", async () => {
    expect(await read.execute({ path: join(skill, 'SKILL.md') }, ctx)).toBe(
      `---\nname: notes\ndescription: n\n---\nSee ${skill}/references/howto.md\n`,
    );
  });

  it('reads a file of the skill by a path relative to its folder, in parts', async () => {
    expect(await read.execute({ path: 'references/howto.md', offset: 29 }, ctx)).toBe('line 29\nline 30');
    expect(await read.execute({ path: 'references/howto.md', limit: 2 }, ctx)).toBe(
      `line 1\nline 2\n\n[${join(skill, 'references', 'howto.md')}: lines 1-2 of 30; read on with offset 3]`,
    );
  });

  it('opens nothing outside skill folders, however the path is spelled', async () => {
    expect(await refusal(read.execute({ path: '/etc/passwd' }, ctx))).toBe(
      'read: refused: /etc/passwd is not in a skill folder (read only opens skill files: a SKILL.md from the skills list, or a file in its folder)',
    );
    expect(await refusal(read.execute({ path: '../../secret.txt' }, ctx))).toContain(
      'no file ../../secret.txt in any skill folder',
    );
    expect(await refusal(read.execute({ path: join(skill, '..', '..', 'secret.txt') }, ctx))).toContain(
      'is not in a skill folder',
    );
    expect(await refusal(read.execute({ path: join(skill, 'sneaky.md') }, ctx))).toContain('no file');
    expect(await refusal(read.execute({ path: join(skill, 'blob.bin') }, ctx))).toContain(
      'is not a text file',
    );
  });
});

const machine =
  (over: Partial<MachineTools> = {}) =>
  () => ({
    chromium: '/usr/bin/chromium',
    bwrap: '/usr/bin/bwrap',
    sandboxProblem: undefined,
    ...over,
  });

describe('switchyard skills', () => {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-skills-cli-'));
  files(home, {
    'switchyard.yaml': 'skills:\n  entries:\n    daily-briefing: { enabled: false }\n',
    'agents/main/skills/weather/SKILL.md':
      '---\nname: weather\ndescription: My own weather, over the shipped one\n---\nUse the `web_fetch` tool.\n',
    'agents/main/skills/gh/SKILL.md':
      '---\nname: gh\ndescription: GitHub via gh\nmetadata: {"openclaw": {"requires": {"bins": ["gh-not-installed"]}}}\n---\nRun gh with the `exec` tool.\n',
    'skills/broken/SKILL.md': '---\nname: broken\ndescription: "unclosed\n---\n',
  });
  const config = () => loadConfig({ home, env: {} });
  const cli = (...args: string[]) =>
    runCli((p) => registerSkillsCommands(p, { config, machine: machine() }), ...args);

  it('list: every skill with its status and source, then why some are not ready, then the broken files', async () => {
    const { out, exitCode } = await cli('skills', 'list');
    expect(exitCode).toBe(0);
    const rows = out.split('\n');
    expect(rows[0]).toMatch(/^NAME\s+STATUS\s+SOURCE\s+DESCRIPTION$/);
    expect(rows.find((r) => r.startsWith('weather'))).toMatch(
      /^weather\s+ready\s+workspace\s+My own weather/,
    );
    expect(rows.find((r) => r.startsWith('web-summary'))).toMatch(/^web-summary\s+ready\s+shipped\s+/);
    expect(rows.find((r) => r.startsWith('daily-briefing'))).toMatch(/^daily-briefing\s+not ready\s+shipped/);
    expect(out).toContain(
      '  gh: needs gh-not-installed on PATH (not found); needs the `exec` tool to run gh-not-installed: off (tools.exec.security is deny; set it to allowlist or full to turn exec on)',
    );
    expect(out).toContain(
      '  daily-briefing: disabled in switchyard.yaml (skills.entries.daily-briefing.enabled: false)',
    );
    expect(out).toContain(
      `Broken (skipped):\n  ${join(home, 'skills', 'broken', 'SKILL.md')}:3: front matter is not valid YAML`,
    );
  });

  it('info: where the skill is, what it needs, what it overrides, and its instructions', async () => {
    const { out } = await cli('skills', 'info', 'weather');
    expect(out.split('\n').slice(0, 5)).toEqual([
      'weather — My own weather, over the shipped one',
      'status:       ready',
      `file:         ${join(home, 'agents', 'main', 'skills', 'weather', 'SKILL.md')} (workspace)`,
      'tools:        web_fetch',
      `overrides:    ${join(bundledSkillsDir(), 'weather', 'SKILL.md')} (shipped)`,
    ]);
    expect(out).toContain('Use the `web_fetch` tool.');
    const missing = await cli('skills', 'info', 'nope');
    expect(missing.exitCode).toBe(1);
    expect(missing.err).toContain(
      "switchyard skills: no skill 'nope' (skills: gh, weather, daily-briefing, web-summary)",
    );
  });

  it('check: a summary, each reason, and exit code 1 while a SKILL.md is broken', async () => {
    const { out } = await cli('skills', 'check');
    expect(out).toContain('Agent main: 4 skills found, 2 ready, 2 not ready, 1 broken.');
    expect(out).toContain('Ready: weather, web-summary');
    expect(process.exitCode).toBe(1);
    process.exitCode = 0;
  });

  it('exec being on (and its sandbox working) makes a skill whose binary exists ready', async () => {
    files(home, {
      'agents/main/skills/lister/SKILL.md':
        '---\nname: lister\ndescription: lists files\nmetadata: {"openclaw": {"requires": {"bins": ["ls"]}}}\n---\nRun ls.\n',
    });
    writeFileSync(join(home, 'switchyard.yaml'), 'tools:\n  exec: { security: allowlist }\n');
    const on = await runCli(
      (p) => registerSkillsCommands(p, { config, machine: machine() }),
      'skills',
      'list',
    );
    expect(on.out).toMatch(/\nlister\s+ready\s+workspace/);
    const noSandbox = await runCli(
      (p) =>
        registerSkillsCommands(p, {
          config,
          machine: machine({ sandboxProblem: 'bubblewrap is not installed' }),
        }),
      'skills',
      'list',
    );
    expect(noSandbox.out).toContain(
      'lister: needs the `exec` tool to run ls: off: bubblewrap is not installed',
    );
  });
});

// Skills as OpenClaw writes them: SKILL.md folders found in the workspace, the data directory,
// the shipped skills and extra folders, in OpenClaw's precedence; gated by metadata.openclaw;
// broken ones reported with file and line while the others load. Real files in a temp folder.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledSkillsDir, loadSkillCatalog } from '../../skills/catalog.js';
import type { SkillEnvironment } from '../../skills/eligibility.js';
import { skillsPromptSection } from '../../skills/prompt.js';
import { parseSkillFile, SkillFileError } from '../../skills/skill-file.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'switchyard-skills-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function skill(name: string, description: string, extra: string[] = [], body = 'Do the thing.'): string {
  return ['---', `name: ${name}`, `description: ${description}`, ...extra, '---', '', body, ''].join('\n');
}

const SWITCHYARD_TOOLS = ['web_fetch', 'message', 'sessions_history', 'cron', 'read'];

function environment(over: Partial<SkillEnvironment> = {}): SkillEnvironment {
  return {
    platform: 'linux',
    env: {},
    hasBin: (name) => ['sh', 'ls'].includes(name),
    tools: new Set(SWITCHYARD_TOOLS),
    toolOff: (name) => (name === 'exec' ? 'off (tools.exec.security is deny)' : undefined),
    configValue: () => undefined,
    ...over,
  };
}

describe('SKILL.md front matter', () => {
  it("reads name, description and metadata.openclaw in OpenClaw's one-line JSON form", () => {
    const parsed = parseSkillFile(
      skill('image-lab', 'Generate images', [
        'metadata: {"openclaw": {"requires": {"bins": ["uv"], "env": ["GEMINI_API_KEY"], "config": ["browser.enabled"]}, "primaryEnv": "GEMINI_API_KEY", "os": ["linux", "darwin"],}}',
      ]),
      '/s/image-lab/SKILL.md',
      '/s/image-lab',
      'image-lab',
    );
    expect(parsed).toMatchObject({
      name: 'image-lab',
      description: 'Generate images',
      metadata: {
        primaryEnv: 'GEMINI_API_KEY',
        os: ['linux', 'darwin'],
        requires: { bins: ['uv'], anyBins: [], env: ['GEMINI_API_KEY'], config: ['browser.enabled'] },
      },
      userInvocable: true,
      disableModelInvocation: false,
      body: 'Do the thing.',
    });
  });

  it('takes metadata as a YAML block too, and the legacy clawdbot name', () => {
    const parsed = parseSkillFile(
      skill('gh', 'GitHub', ['metadata:', '  clawdbot:', '    requires:', '      anyBins: [gh, hub]']),
      '/s/gh/SKILL.md',
      '/s/gh',
      'gh',
    );
    expect(parsed.metadata.requires.anyBins).toEqual(['gh', 'hub']);
  });

  it('names the folder when the front matter has no name', () => {
    const text = ['---', 'description: no name here', '---', 'x'].join('\n');
    expect(parseSkillFile(text, '/s/folder-name/SKILL.md', '/s/folder-name', 'folder-name').name).toBe(
      'folder-name',
    );
  });

  it.each([
    ['no front matter', 'just text\n', 1, 'no front matter'],
    ['unclosed front matter', '---\nname: x\ndescription: y\n', 1, 'never closed'],
    ['invalid YAML', '---\nname: x\ndescription: [unclosed\nfoo: bar\n---\n', 3, 'not valid YAML'],
    [
      'a description that is a list',
      '---\nname: x\ndescription:\n  - a\n---\n',
      3,
      'description must be text',
    ],
    ['no description', '---\nname: x\n---\n', 1, 'no description'],
    ['a bad name', '---\nname: "has spaces"\ndescription: y\n---\n', 2, 'name must be'],
    [
      'metadata that is not JSON',
      '---\nname: x\ndescription: y\nmetadata: "{not json"\n---\n',
      4,
      'metadata',
    ],
    [
      'bins that are not names',
      '---\nname: x\ndescription: y\nmetadata: {"openclaw": {"requires": {"bins": 5}}}\n---\n',
      4,
      'requires.bins must be a list',
    ],
  ])('reports %s with the file and line', (_, text, line, words) => {
    let error: unknown;
    try {
      parseSkillFile(text, '/s/x/SKILL.md', '/s/x', 'x');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SkillFileError);
    expect((error as SkillFileError).message).toContain(`/s/x/SKILL.md:${line}: `);
    expect((error as SkillFileError).message).toContain(words);
  });
});

describe('finding skills', () => {
  it("follows OpenClaw's precedence: workspace, then .agents, data dir, shipped, extra folders", async () => {
    const workspace = tree({
      'skills/weather/SKILL.md': skill('weather', 'from the workspace'),
      '.agents/skills/notes/SKILL.md': skill('notes', 'from .agents'),
      '.agents/skills/weather2/SKILL.md': skill('weather', 'from .agents, hidden'),
    });
    const dataDir = tree({
      'skills/notes/SKILL.md': skill('notes', 'from the data dir, hidden'),
      'skills/todo/SKILL.md': skill('todo', 'from the data dir'),
    });
    const bundled = tree({
      'todo/SKILL.md': skill('todo', 'shipped, hidden'),
      'ship/SKILL.md': skill('ship', 's'),
    });
    const extra = tree({
      'ship/SKILL.md': skill('ship', 'extra, hidden'),
      'far/SKILL.md': skill('far', 'extra'),
    });
    const catalog = await loadSkillCatalog(
      { workspace, dataDir, bundledDir: bundled, extraDirs: [extra] },
      environment(),
    );
    expect(catalog.skills.map((s) => [s.name, s.description, s.source])).toEqual([
      ['weather', 'from the workspace', 'workspace'],
      ['notes', 'from .agents', 'workspace-agents'],
      ['todo', 'from the data dir', 'managed'],
      ['ship', 's', 'bundled'],
      ['far', 'extra', 'extra'],
    ]);
    expect(catalog.shadowed.map((s) => `${s.skill.description} < ${s.by.description}`).sort()).toEqual([
      'extra, hidden < s',
      'from .agents, hidden < from the workspace',
      'from the data dir, hidden < from .agents',
      'shipped, hidden < from the data dir',
    ]);
  });

  it('finds grouped skills up to six folders deep, and stops below a SKILL.md', async () => {
    const workspace = tree({
      'skills/personal/research/SKILL.md': skill('research', 'grouped'),
      'skills/research-tools/SKILL.md': skill('lookup', 'outer'),
      'skills/research-tools/inner/SKILL.md': skill('inner', 'never found'),
      'skills/a/b/c/d/e/f/SKILL.md': skill('deep', 'six deep'),
      'skills/a/b/c/d/e/f/g/SKILL.md': skill('deeper', 'seven deep'),
    });
    const catalog = await loadSkillCatalog({ workspace }, environment());
    expect(catalog.skills.map((s) => s.name).sort()).toEqual(['deep', 'lookup', 'research']);
  });

  it('reports a broken SKILL.md with its file and line, and loads the others', async () => {
    const workspace = tree({
      'skills/good/SKILL.md': skill('good', 'works'),
      'skills/broken/SKILL.md': '---\nname: broken\ndescription: [oops\n---\n',
    });
    const catalog = await loadSkillCatalog({ workspace }, environment());
    expect(catalog.offered.map((s) => s.name)).toEqual(['good']);
    expect(catalog.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        new RegExp(`^${join(workspace, 'skills', 'broken', 'SKILL.md')}:3: front matter is not valid YAML`),
      ),
    ]);
  });

  it('reports a folder it cannot read (a link loop) and loads the others', async () => {
    const workspace = tree({ 'skills/ok/SKILL.md': skill('ok', 'fine') });
    symlinkSync('self', join(workspace, 'skills', 'self'));
    symlinkSync('b', join(workspace, 'skills', 'a'));
    symlinkSync('a', join(workspace, 'skills', 'b'));
    // A dangling link is nothing at all, not an error.
    symlinkSync('nowhere', join(workspace, 'skills', 'gone'));
    const catalog = await loadSkillCatalog({ workspace }, environment());
    expect(catalog.offered.map((s) => s.name)).toEqual(['ok']);
    expect(catalog.errors.map((e) => e.message)).toEqual(
      ['a', 'b', 'self'].map(
        (name) =>
          `${join(workspace, 'skills', name)}: folder cannot be read (ELOOP: a symbolic link loop); skipped`,
      ),
    );
    // The skills root itself a loop: reported, the other roots still load.
    const looped = mkdtempSync(join(tmpdir(), 'switchyard-skills-'));
    symlinkSync('skills', join(looped, 'skills'));
    const both = await loadSkillCatalog({ workspace: looped, bundledDir: bundledSkillsDir() }, environment());
    expect(both.skills.map((s) => s.source)).toContain('bundled');
    expect(both.errors.map((e) => e.message)).toEqual([
      `${join(looped, 'skills')}: folder cannot be read (ELOOP: a symbolic link loop); skipped`,
    ]);
  });

  it('skips a workspace skill folder that links outside the workspace', async () => {
    const outside = tree({ 'evil/SKILL.md': skill('evil', 'elsewhere') });
    const workspace = tree({ 'skills/ok/SKILL.md': skill('ok', 'fine') });
    symlinkSync(join(outside, 'evil'), join(workspace, 'skills', 'evil'));
    const catalog = await loadSkillCatalog({ workspace }, environment());
    expect(catalog.skills.map((s) => s.name)).toEqual(['ok']);
    expect(catalog.errors[0]?.message).toContain('links outside');
  });
});

describe('which skills can run here', () => {
  const judged = async (text: string, over: Partial<SkillEnvironment> = {}) => {
    const workspace = tree({ 'skills/s/SKILL.md': text });
    const catalog = await loadSkillCatalog({ workspace }, environment(over));
    return catalog.skills[0]!.verdict;
  };

  it('a skill whose binaries run through exec names exec and why it is off, and the missing binary', async () => {
    const verdict = await judged(
      skill('weather', 'curl it', ['metadata: {"openclaw": {"requires": {"bins": ["curl"]}}}']),
    );
    expect(verdict.eligible).toBe(false);
    expect(verdict.reasons).toEqual([
      'needs curl on PATH (not found)',
      'needs the `exec` tool to run curl: off (tools.exec.security is deny)',
    ]);
  });

  it('a skill that says it uses a tool Switchyard lacks names it', async () => {
    const verdict = await judged(
      skill('draw', 'draws', [], 'Use the `canvas` tool to draw, then the `web_fetch` tool.'),
    );
    expect(verdict.reasons).toEqual(['needs the `canvas` tool, which Switchyard does not have']);
  });

  it('env, os, config and being disabled are each a reason; always skips requires but not os', async () => {
    const meta =
      'metadata: {"openclaw": {"os": ["darwin"], "requires": {"env": ["API_KEY"], "config": ["channels.slack"]}}}';
    expect((await judged(skill('s', 'x', [meta]), { entries: { s: { enabled: false } } })).reasons).toEqual([
      'disabled in switchyard.yaml (skills.entries.s.enabled: false)',
      'runs only on darwin (this is linux)',
      'needs the environment variable API_KEY (set for the worker, or in skills.entries.s.env)',
      'needs channels.slack set in switchyard.yaml',
    ]);
    const always =
      'metadata: {"openclaw": {"always": true, "requires": {"env": ["API_KEY"], "bins": ["nope"]}}}';
    expect((await judged(skill('s', 'x', [always]))).eligible).toBe(true);
    const ok = await judged(skill('s', 'x', [meta]), {
      platform: 'darwin',
      entries: { s: { env: { API_KEY: 'k' } } },
      configValue: (p) => (p === 'channels.slack' ? { botToken: 'x' } : undefined),
    });
    expect(ok).toEqual({ eligible: true, reasons: [], tools: [] });
  });

  it('browser.enabled means the browser tool', async () => {
    const verdict = await judged(
      skill('b', 'x', ['metadata: {"openclaw": {"requires": {"config": ["browser.enabled"]}}}']),
    );
    expect(verdict.reasons).toEqual(['needs the `browser` tool: not offered in this turn']);
    expect(
      (
        await judged(
          skill('b', 'x', ['metadata: {"openclaw": {"requires": {"config": ["browser.enabled"]}}}']),
          {
            tools: new Set([...SWITCHYARD_TOOLS, 'browser']),
          },
        )
      ).eligible,
    ).toBe(true);
  });

  it("an OpenClaw user's skills folder works unchanged where its tools exist", async () => {
    // Skills as OpenClaw users write them: one-line metadata, {baseDir}, a bundled-style gate.
    const workspace = tree({
      'skills/hn-digest/SKILL.md': [
        '---',
        'name: hn-digest',
        'description: Digest of the Hacker News front page.',
        'metadata: {"openclaw":{"emoji":"🟧","homepage":"https://news.ycombinator.com"}}',
        '---',
        '',
        '# HN digest',
        'Use the `web_fetch` tool on https://news.ycombinator.com and list the top 5 stories.',
        'Format rules are in {baseDir}/references/format.md.',
        '',
      ].join('\n'),
      'skills/hn-digest/references/format.md': 'One line per story.\n',
      'skills/gh-issues/SKILL.md': [
        '---',
        'name: gh-issues',
        'description: "Triage GitHub issues with the gh CLI"',
        'metadata: {"openclaw":{"requires":{"bins":["gh"]},"install":[{"id":"brew","kind":"brew","formula":"gh","bins":["gh"]}]}}',
        '---',
        'Run `gh issue list` with the `exec` tool.',
        '',
      ].join('\n'),
      'skills/mac-notes/SKILL.md': [
        '---',
        'name: apple-notes',
        'description: Apple Notes via memo',
        'metadata: {"openclaw":{"os":["darwin"],"requires":{"bins":["memo"]}}}',
        '---',
        'Use memo.',
        '',
      ].join('\n'),
    });
    const catalog = await loadSkillCatalog({ workspace }, environment());
    expect(catalog.errors).toEqual([]);
    expect(catalog.offered.map((s) => s.name)).toEqual(['hn-digest']);
    const why = Object.fromEntries(catalog.skills.map((s) => [s.name, s.verdict.reasons]));
    expect(why['gh-issues']).toEqual([
      'needs gh on PATH (not found)',
      'needs the `exec` tool to run gh: off (tools.exec.security is deny)',
    ]);
    expect(why['apple-notes']).toContain('runs only on darwin (this is linux)');
  });
});

describe('the shipped skills', () => {
  it('all load without errors and are offered with the tools Switchyard always has', async () => {
    const catalog = await loadSkillCatalog({ bundledDir: bundledSkillsDir() }, environment());
    expect(catalog.errors).toEqual([]);
    expect(catalog.offered.map((s) => s.name).sort()).toEqual(['daily-briefing', 'weather', 'web-summary']);
    expect(Object.fromEntries(catalog.skills.map((s) => [s.name, s.verdict.tools]))).toEqual({
      'daily-briefing': ['cron'],
      weather: ['web_fetch'],
      'web-summary': ['web_fetch'],
    });
  });
});

describe('the skills list in the system prompt', () => {
  it('lists name, description and location, escaped, sorted, within the budget', async () => {
    const workspace = tree({
      'skills/b/SKILL.md': skill('beta', 'Uses <tags> & "quotes"'),
      'skills/a/SKILL.md': skill('alpha', 'First'),
    });
    const catalog = await loadSkillCatalog({ workspace }, environment());
    const section = skillsPromptSection(catalog.offered);
    expect(section).toContain('with the `read` tool');
    expect(section).toContain(
      [
        '<available_skills>',
        '  <skill>',
        '    <name>alpha</name>',
        '    <description>First</description>',
        `    <location>${join(workspace, 'skills', 'a', 'SKILL.md')}</location>`,
        '  </skill>',
        '  <skill>',
        '    <name>beta</name>',
        '    <description>Uses &lt;tags&gt; &amp; &quot;quotes&quot;</description>',
      ].join('\n'),
    );
    const small = skillsPromptSection(catalog.offered, { maxChars: 900 });
    expect(small).toContain('<name>alpha</name>');
    expect(small).not.toContain('<name>beta</name>');
    expect(small).toContain('(1 more skills are not listed here');
  });
});

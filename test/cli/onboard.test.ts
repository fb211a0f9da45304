// Onboarding's dialogue and what it writes, without a gateway: the answers checked, the real test
// call against a wire-level provider, switchyard.yaml edited in place (comments kept, validated
// like a load), the key in the secrets file 0600 and nowhere else, and the terminal rendering
// (a key is asked for as a secret).
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SetupView } from '../../channels/webchat/protocol.js';
import { runSetupInTerminal, type SetupIO } from '../../cli/setup-terminal.js';
import { editConfigFile, writeSecret } from '../../config/edit.js';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import { createOnboarding, setupReason } from '../../gateway/onboarding.js';
import { startWireServer, type WireServer } from '../agent/wire-servers.js';

const KEY = 'sk-or-onboard-unit-0123456789';

function home(yaml?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-onboard-'));
  if (yaml !== undefined) writeFileSync(join(dir, 'switchyard.yaml'), yaml);
  return dir;
}

describe('onboarding: what it asks, tests and writes', () => {
  let wire: WireServer;
  beforeAll(async () => {
    wire = await startWireServer('openai', (req) =>
      req.headers.authorization === `Bearer ${KEY}` || req.headers.authorization === 'Bearer from-env'
        ? { text: 'ready' }
        : { status: 401, message: 'Incorrect API key provided' },
    );
  });
  afterAll(async () => wire?.close());

  it('says why an agent cannot answer yet, and nothing once it can', () => {
    const dir = home();
    expect(setupReason(loadConfig({ home: dir, env: {} }), 'main', {})).toBe("agent 'main' has no model yet");
    const configured = home('agents:\n  - id: main\n    model: openrouter/some/model\n');
    const config = loadConfig({ home: configured, env: {} });
    expect(setupReason(config, 'main', {})).toMatch(
      /^openrouter\/some\/model cannot be used yet: .*OPENROUTER_API_KEY/,
    );
    expect(setupReason(config, 'main', { OPENROUTER_API_KEY: 'x' })).toBeUndefined();
  });

  it('refuses a wrong key after a real test call (without repeating it), then writes the right one 0600 and keeps the file’s comments', async () => {
    const dir = home(
      '# my settings\nlog:\n  level: info # chatty enough\nagents:\n  - id: main\n    model:\n      primary: openai/gpt-4.1\n      fallbacks: []\n',
    );
    const current = () => loadConfig({ home: dir, env: {} });
    const session = createOnboarding({ config: current, env: {}, context: 'command' }, 'main', 'test');
    expect(session.view()).toMatchObject({ step: 'provider', text: expect.stringContaining("agent 'main'") });
    expect(session.choose('nope')).toMatchObject({
      step: 'provider',
      error: "'nope' is not one of the choices",
    });
    const form = session.choose('openrouter');
    expect(form.fields?.find((f) => f.name === 'apiKey')).toMatchObject({ secret: true, required: true });

    const empty = await session.submit({ model: 'some/model', baseUrl: `${wire.url}/v1` });
    expect(empty).toMatchObject({ step: 'details', error: 'Paste the API key.' });
    const badUrl = await session.submit({ apiKey: KEY, model: 'some/model', baseUrl: 'ftp://x' });
    expect(badUrl.error).toMatch(/not an http\(s\) URL/);
    const wrong = await session.submit({
      apiKey: 'sk-wrong-key-42',
      model: 'some/model',
      baseUrl: `${wire.url}/v1`,
    });
    expect(wrong.step).toBe('details');
    expect(wrong.error).toMatch(/^The test call failed: .*401/);
    expect(wrong.error).not.toContain('sk-wrong-key-42');
    expect(wrong.fields?.find((f) => f.name === 'baseUrl')?.value).toBe(`${wire.url}/v1`);
    expect(session.done).toBe(false);
    expect(readFileSync(join(dir, 'switchyard.yaml'), 'utf8')).not.toContain('openrouter');

    const done = await session.submit({ apiKey: ` ${KEY} `, model: 'some/model', baseUrl: `${wire.url}/v1` });
    expect(done).toMatchObject({ step: 'done', model: 'openrouter/some/model' });
    expect(done.text).toMatch(/^Done: openrouter\/some\/model answered the test call \(“ready”\)/);
    expect(done.text).not.toContain(KEY);
    expect(session.done).toBe(true);

    const yaml = readFileSync(join(dir, 'switchyard.yaml'), 'utf8');
    expect(yaml).toContain('# my settings');
    expect(yaml).toContain('level: info # chatty enough');
    expect(yaml).not.toContain(KEY);
    const config = current();
    expect(config.models).toMatchObject({
      providers: { openrouter: { apiKey: { secret: 'openrouter' }, baseUrl: `${wire.url}/v1` } },
      agents: [{ id: 'main', model: { primary: 'openrouter/some/model', fallbacks: [] } }],
    });
    const secrets = join(dir, 'secrets.json');
    expect(JSON.parse(readFileSync(secrets, 'utf8'))).toEqual({ openrouter: KEY });
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    expect(setupReason(config, 'main', {})).toBeUndefined();
  });

  it('uses a key from the environment when none is pasted, and then stores none', async () => {
    const dir = home();
    const env = { OPENROUTER_API_KEY: 'from-env' };
    const session = createOnboarding(
      { config: () => loadConfig({ home: dir, env: {} }), env },
      'main',
      'test',
    );
    const form = session.choose('openrouter');
    expect(form.fields?.find((f) => f.name === 'apiKey')).toMatchObject({
      required: false,
      placeholder: 'leave empty to use OPENROUTER_API_KEY from the environment',
    });
    const done = await session.submit({ apiKey: '', model: 'm', baseUrl: `${wire.url}/v1` });
    expect(done.step).toBe('done');
    expect(done.text).toContain('Your message is on its way.');
    expect(loadConfig({ home: dir, env: {} }).models).toMatchObject({
      providers: { openrouter: { baseUrl: `${wire.url}/v1` } },
      agents: [{ id: 'main', model: 'openrouter/m' }],
    });
    expect(() => statSync(join(dir, 'secrets.json'))).toThrow();
  });

  it('an edit that would make switchyard.yaml invalid is refused with file:line and writes nothing', () => {
    const before = 'agents:\n  - id: main\n';
    const dir = home(before);
    let error: unknown;
    try {
      editConfigFile(dir, (doc) => doc.setIn(['agents', 0, 'model'], 'nowhere/m'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]!.where).toMatch(/switchyard\.yaml:3:\d+$/);
    expect(readFileSync(join(dir, 'switchyard.yaml'), 'utf8')).toBe(before);
  });

  it('the secrets file keeps its other entries, becomes 0600, and a broken one is refused without showing it', () => {
    const dir = home();
    const file = join(dir, 'secrets.json');
    writeFileSync(file, '{"telegram":"123:abc"}');
    chmodSync(file, 0o644);
    writeSecret(file, 'anthropic', 'sk-ant-1');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ telegram: '123:abc', anthropic: 'sk-ant-1' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, 'hunter2 is not json');
    expect(() => writeSecret(file, 'anthropic', 'sk-ant-2')).toThrow(/must be a JSON object/);
    expect(() => writeSecret(file, 'anthropic', 'sk-ant-2')).not.toThrow(/hunter2/);
    expect(readFileSync(file, 'utf8')).toBe('hunter2 is not json');
  });

  it('in a terminal: numbered choices, the key asked as a secret, asked again after a failed test', async () => {
    const asked: Array<{ question: string; secret: boolean }> = [];
    const said: string[] = [];
    const answers = ['5', 'http://127.0.0.1:9/v1', 'm1', 'sk-typed', '', '', 'sk-typed-again'];
    const io: SetupIO = {
      say: (text) => said.push(text),
      ask: async (question, options) => {
        asked.push({ question, secret: options?.secret === true });
        return answers.shift() ?? '';
      },
      close: () => undefined,
    };
    const views: Array<Record<string, unknown>> = [];
    let submits = 0;
    const details: SetupView = {
      step: 'details',
      provider: 'openai-compatible',
      text: 'details',
      fields: [
        { name: 'baseUrl', label: 'API URL', required: true, value: 'http://127.0.0.1:11434/v1' },
        { name: 'model', label: 'Model', required: true },
        { name: 'apiKey', label: 'API key', required: false, secret: true },
      ],
    };
    const last = await runSetupInTerminal(
      {
        step: 'provider',
        text: 'pick',
        choices: [1, 2, 3, 4, 5].map((i) => ({ id: `p${i}`, label: `P${i}` })),
      },
      async (frame) => {
        views.push(frame);
        if (frame.action === 'choose') return details;
        submits += 1;
        return submits === 1
          ? { ...details, error: 'The test call failed: refused' }
          : { step: 'done', text: 'Done.' };
      },
      io,
    );
    expect(last.step).toBe('done');
    expect(views[0]).toEqual({ type: 'setup', action: 'choose', provider: 'p5' });
    expect(views[1]).toEqual({
      type: 'setup',
      action: 'submit',
      values: { baseUrl: 'http://127.0.0.1:9/v1', model: 'm1', apiKey: 'sk-typed' },
    });
    // After the failure the defaults are offered again (empty answer = keep), the key is asked again.
    expect(views[2]).toEqual({
      type: 'setup',
      action: 'submit',
      values: { baseUrl: 'http://127.0.0.1:11434/v1', model: '', apiKey: 'sk-typed-again' },
    });
    expect(asked.filter((a) => a.secret).map((a) => a.question)).toEqual([
      'API key (optional): ',
      'API key (optional): ',
    ]);
    expect(said).toContain('! The test call failed: refused');
    expect(said.join('\n')).not.toContain('sk-typed');
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { servesChannel } from '../../config/config.js';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import { effectiveAddress } from '../../temporal/connection.js';

function homeWith(yaml?: string): string {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
  if (yaml !== undefined) writeFileSync(join(home, 'switchyard.yaml'), yaml);
  return home;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map(
      (p) => `${p.where.replace(/^.*switchyard\.yaml/, 'switchyard.yaml')} ${p.key}: ${p.message}`,
    );
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('runs on embedded defaults when there is no switchyard.yaml', () => {
    const config = loadConfig({ home: homeWith(), env: {} });
    expect(config.configFile).toBeUndefined();
    expect(config.gateway).toMatchObject({ host: '127.0.0.1', port: 18789 });
    expect(config.temporal).toMatchObject({
      address: undefined,
      namespace: 'default',
      taskQueue: 'switchyard',
    });
    expect(config.temporal.devServer).toMatchObject({ port: 7233, uiPort: 8233 });
    expect(effectiveAddress(config)).toBe('127.0.0.1:7233');
  });

  it('reads values from switchyard.yaml and lets the environment override them', () => {
    const home = homeWith('gateway:\n  port: 9000\ntemporal:\n  namespace: home\n');
    const config = loadConfig({
      home,
      env: { SWITCHYARD_GATEWAY_PORT: '9100', TEMPORAL_ADDRESS: 'tmprl.example:7233' },
    });
    expect(config.gateway.port).toBe(9100);
    expect(config.temporal.namespace).toBe('home');
    expect(config.temporal.address).toBe('tmprl.example:7233');
  });

  it('keeps attachments under the data directory with per-kind size limits and retention', () => {
    const home = homeWith('media:\n  maxMB: { video: 100 }\n  retention: { days: 7 }\n');
    const { media } = loadConfig({ home, env: {} });
    expect(media.dir).toBe(join(home, 'media'));
    expect(media.maxBytes).toEqual({
      image: 20 * 1024 * 1024,
      voice: 25 * 1024 * 1024,
      audio: 25 * 1024 * 1024,
      video: 100 * 1024 * 1024,
      document: 20 * 1024 * 1024,
      file: 20 * 1024 * 1024,
    });
    expect(media.retention).toEqual({ maxAgeMs: 7 * 24 * 60 * 60_000, maxTotalBytes: 2048 * 1024 * 1024 });
    const problems = problemsOf(() =>
      loadConfig({ home: homeWith('media:\n  maxMB: { photo: 5, image: 0 }\n'), env: {} }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^switchyard\.yaml:2:\d+ media\.maxMB\.photo: unknown key; allowed here: image, voice/,
      ),
      expect.stringMatching(/^switchyard\.yaml:2:\d+ media\.maxMB\.image: must be > 0/),
    ]);
  });

  it('names the file, line and column of a YAML syntax error', () => {
    const home = homeWith('gateway:\n  port: [1, 2\n');
    const [problem] = problemsOf(() => loadConfig({ home, env: {} }));
    expect(problem).toMatch(/^switchyard\.yaml:2:9 .*; the \[ opened here is never closed/);
  });

  it('points an unclosed quote at where it opens, not at the end of the file', () => {
    const home = homeWith(
      'gateway:\n  port: 18789\nlog:\n  level: info\nagents:\n  - id: "main\n    workspace: ~/notes\n',
    );
    const [problem] = problemsOf(() => loadConfig({ home, env: {} }));
    expect(problem).toMatch(
      /^switchyard\.yaml:6:9 : Missing closing "quote; the quote opened here is never closed/,
    );
  });

  it('names the key and line of every schema violation, with what was expected', () => {
    const home = homeWith('gateway:\n  port: "eighty"\n  prot: 1\nlog:\n  level: loud\n');
    const problems = problemsOf(() => loadConfig({ home, env: {} }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^switchyard\.yaml:2:9 gateway\.port: must be integer, got "eighty"/),
        expect.stringMatching(
          /^switchyard\.yaml:3:3 gateway\.prot: unknown key; allowed here: host, port, token/,
        ),
        expect.stringMatching(/^switchyard\.yaml:5:10 log\.level: must be one of .*"info".*got "loud"/),
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  it('reads which private hosts web_fetch may reach, and names a misspelt key', () => {
    expect(loadConfig({ home: homeWith(), env: {} }).tools.webFetch).toEqual({
      allowHosts: [],
      allowPrivate: false,
    });
    const home = homeWith('tools:\n  webFetch:\n    allowHosts: [HomeAssistant.local, nas.lan]\n');
    expect(loadConfig({ home, env: {} }).tools.webFetch).toEqual({
      allowHosts: ['homeassistant.local', 'nas.lan'],
      allowPrivate: false,
    });
    const problems = problemsOf(() =>
      loadConfig({ home: homeWith('tools:\n  webFetch:\n    allowHost: [nas.lan]\n'), env: {} }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^switchyard\.yaml:3:5 tools\.webFetch\.allowHost: unknown key; allowed here: allowHosts, allowPrivate/,
      ),
    ]);
  });

  it('names the environment variable when an override is invalid', () => {
    const problems = problemsOf(() =>
      loadConfig({ home: homeWith(), env: { SWITCHYARD_GATEWAY_PORT: 'abc' } }),
    );
    expect(problems).toEqual(['SWITCHYARD_GATEWAY_PORT gateway.port: must be a whole number, got "abc"']);
    const range = problemsOf(() =>
      loadConfig({ home: homeWith(), env: { SWITCHYARD_GATEWAY_PORT: '70000' } }),
    );
    expect(range[0]).toMatch(/^SWITCHYARD_GATEWAY_PORT gateway\.port: must be <= 65535/);
  });

  it('gives a gateway host its channels with gateway.channels or SWITCHYARD_GATEWAY_CHANNELS', () => {
    const all = loadConfig({ home: homeWith(), env: {} });
    expect(all.gateway.channels).toBeUndefined();
    expect(servesChannel(all, 'telegram')).toBe(true);

    const fromFile = loadConfig({ home: homeWith('gateway:\n  channels: [openai, cron]\n'), env: {} });
    expect(fromFile.gateway.channels).toEqual(['openai', 'cron']);
    expect(servesChannel(fromFile, 'openai')).toBe(true);
    expect(servesChannel(fromFile, 'telegram')).toBe(false);

    const fromEnv = loadConfig({
      home: homeWith('gateway:\n  channels: [openai]\n'),
      env: { SWITCHYARD_GATEWAY_CHANNELS: ' telegram, discord ' },
    });
    expect(fromEnv.gateway.channels).toEqual(['telegram', 'discord']);

    const typo = problemsOf(() =>
      loadConfig({ home: homeWith(), env: { SWITCHYARD_GATEWAY_CHANNELS: 'telegram,telgram' } }),
    );
    expect(typo).toEqual([
      expect.stringMatching(
        /^SWITCHYARD_GATEWAY_CHANNELS gateway\.channels\.1: must be one of "webchat", "openai", .*got "telgram"/,
      ),
    ]);
    const none = problemsOf(() => loadConfig({ home: homeWith('gateway:\n  channels: []\n'), env: {} }));
    expect(none).toEqual([expect.stringMatching(/^switchyard\.yaml:2:\d+ gateway\.channels: /)]);
  });

  it('checks agents and bindings, including references the schema cannot express', () => {
    const home = homeWith(
      'agents:\n  - id: main\n  - id: Main\nbindings:\n  - match: { channel: telegram }\n    agentId: nobody\nsession:\n  dmScope: sometimes\n',
    );
    const schemaProblems = problemsOf(() => loadConfig({ home, env: {} }));
    expect(schemaProblems).toEqual([
      expect.stringMatching(/^switchyard\.yaml:8:12 session\.dmScope: must be one of "main"/),
    ]);

    const refs = homeWith(
      'agents:\n  - id: main\n  - id: Main\nbindings:\n  - match: { channel: telegram }\n    agentId: nobody\n',
    );
    expect(problemsOf(() => loadConfig({ home: refs, env: {} }))).toEqual([
      expect.stringMatching(/^switchyard\.yaml:3:9 agents\.1\.id: "Main" is already the id of agents\[0\]/),
      expect.stringMatching(/^switchyard\.yaml:6:14 bindings\.0\.agentId: names no agent/),
    ]);
    const ok = loadConfig({ home: homeWith('agents:\n  - id: main\n    default: true\n'), env: {} });
    expect(ok.routing.agents).toEqual([{ id: 'main', default: true }]);
  });

  it('names the cron task and field of an invalid schedule, with what is wrong', () => {
    const home = homeWith(
      'cron:\n  tasks:\n    - id: morning\n      schedule: { kind: cron, expr: "0 25 * * *", tz: Europe/Berlin }\n      payload: { kind: agentTurn, message: brief me }\n',
    );
    const [problem, ...rest] = problemsOf(() => loadConfig({ home, env: {} }));
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^switchyard\.yaml:4:\d+ cron\.tasks\.0\.schedule\.expr: .*hour/);
  });

  it('rejects a TEMPORAL_ADDRESS that is not host:port', () => {
    const problems = problemsOf(() =>
      loadConfig({ home: homeWith(), env: { TEMPORAL_ADDRESS: 'http://x' } }),
    );
    expect(problems[0]).toMatch(/^TEMPORAL_ADDRESS temporal\.address: must look like host:port/);
  });
});

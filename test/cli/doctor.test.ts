// `switchyard doctor`: what it says about this machine, the config, Temporal and a running
// gateway's chat accounts, and that a problem makes it fail with a fix to apply.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type Check, runChecks } from '../../cli/commands/doctor.js';
import { loadConfig } from '../../config/load.js';
import { buildGateway } from '../../gateway/server.js';
import { freePort } from '../helpers/ports.js';
import { BIN } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { startFakeTelegram } from '../telegram/helpers.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function home(yaml?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-doctor-'));
  dirs.push(dir);
  if (yaml !== undefined) writeFileSync(join(dir, 'switchyard.yaml'), yaml);
  return dir;
}

const byName = (checks: Check[], name: string) => checks.find((c) => c.name === name);

/** The environment of a doctor run: this data dir, nothing inherited that would point elsewhere. */
async function envOf(dir: string, extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SWITCHYARD_HOME: dir,
    SWITCHYARD_GATEWAY_PORT: String(await freePort()),
    SWITCHYARD_TEMPORAL_PORT: String(await freePort()),
    ...extra,
  };
}

describe('switchyard doctor', () => {
  it('passes on a fresh data dir with embedded defaults, and says the gateway is not running', async () => {
    const dir = home();
    const checks = await runChecks(await envOf(dir));
    expect(byName(checks, 'node')).toMatchObject({ ok: true });
    expect(byName(checks, 'data-dir')).toMatchObject({ ok: true, detail: `${dir} is writable` });
    expect(byName(checks, 'config')).toMatchObject({
      ok: true,
      detail: 'no switchyard.yaml: embedded defaults',
    });
    expect(byName(checks, 'temporal-cli')).toMatchObject({ ok: true });
    expect(byName(checks, 'gateway')).toMatchObject({
      ok: false,
      optional: true,
      detail: expect.stringMatching(/^not running at http:\/\/127\.0\.0\.1:\d+/),
      fix: 'start it with `switchyard up` (or `switchyard gateway`)',
    });
    expect(byName(checks, 'model')).toMatchObject({
      ok: false,
      optional: true,
      detail: "agent 'main' has no model yet",
      fix: expect.stringContaining('switchyard onboard'),
    });
    expect(checks.filter((c) => !c.ok && !c.optional)).toEqual([]);
  });

  it('says the model is ready once the agent has one and its key', async () => {
    const dir = home('agents:\n  - id: main\n    model: anthropic/claude-sonnet-4-5\n');
    expect(byName(await runChecks(await envOf(dir)), 'model')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^anthropic\/claude-sonnet-4-5 cannot be used yet: .*ANTHROPIC_API_KEY/),
    });
    expect(byName(await runChecks(await envOf(dir, { ANTHROPIC_API_KEY: 'sk-x' })), 'model')).toEqual({
      name: 'model',
      ok: true,
      detail: "agent 'main' has a model with its key",
    });
  });

  it('fails on an invalid switchyard.yaml, naming the line, and exits 1 with the fix', async () => {
    const dir = home('gateway:\n  port: "many"\n');
    const env = await envOf(dir);
    delete env.SWITCHYARD_GATEWAY_PORT; // the file's value is what is wrong
    const checks = await runChecks(env);
    expect(byName(checks, 'config')).toMatchObject({
      ok: false,
      detail: expect.stringContaining(`${join(dir, 'switchyard.yaml')}:2:9`),
      fix: 'edit switchyard.yaml as the lines above say',
    });
    const failed = await run(process.execPath, [BIN, 'doctor'], { env }).then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toMatch(/^FAIL {2}config {11}Invalid configuration:$/m);
    expect(failed?.stdout).toMatch(
      /^ {23}\S*switchyard\.yaml:2:9: gateway\.port: must be integer, got "many"$/m,
    );
    expect(failed?.stdout).toContain('fix: edit switchyard.yaml as the lines above say');
    expect(failed?.stdout).toMatch(/1 problem\(s\) to fix\.$/m);
  });

  it('fails when the data dir cannot be written', async () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: use a path under a regular file instead, which nobody can create.
      const file = join(home(), 'not-a-dir');
      writeFileSync(file, '');
      const checks = await runChecks(await envOf(join(file, 'home')));
      expect(byName(checks, 'data-dir')).toMatchObject({
        ok: false,
        fix: expect.stringContaining('SWITCHYARD_HOME'),
      });
      return;
    }
    const dir = home();
    chmodSync(dir, 0o500);
    const checks = await runChecks(await envOf(dir));
    expect(byName(checks, 'data-dir')).toMatchObject({
      ok: false,
      fix: expect.stringContaining('SWITCHYARD_HOME'),
    });
  });

  it('checks a Temporal named by TEMPORAL_ADDRESS: serving, or not answering', async () => {
    const serving = await runChecks(await envOf(home(), { TEMPORAL_ADDRESS: inject('temporalAddress') }));
    expect(byName(serving, 'temporal')).toMatchObject({
      ok: true,
      detail: expect.stringContaining('is serving'),
    });
    const nobody = `127.0.0.1:${await freePort()}`;
    const down = await runChecks(await envOf(home(), { TEMPORAL_ADDRESS: nobody }));
    expect(byName(down, 'temporal')).toMatchObject({
      ok: false,
      detail: `${nobody} (TEMPORAL_ADDRESS) does not answer`,
    });
  });

  // A refused, logged-out or reconnecting account as doctor reports it: test/telegram/health.test.ts.
  it("reports a running gateway and each chat account's state", async () => {
    const telegram = await startFakeTelegram();
    const dir = home(
      [
        'channels:',
        '  telegram:',
        `    apiRoot: "${telegram.apiRoot}"`,
        '    accounts:',
        `      good: { botToken: "${telegram.botToken}" }`,
        '',
      ].join('\n'),
    );
    const env = await envOf(dir, { TEMPORAL_ADDRESS: inject('temporalAddress') });
    const config = loadConfig({ home: dir, env });
    const gateway = await buildGateway({
      config,
      token: 'doctor-token-0123456789',
      logger: false,
      watchPipelines: false,
    });
    try {
      await gateway.app.listen({ host: '127.0.0.1', port: config.gateway.port });
      const checks = await until(
        async () => {
          const all = await runChecks(env);
          return byName(all, 'telegram/good')?.ok ? all : undefined;
        },
        30_000,
        250,
      );
      expect(byName(checks, 'gateway')).toMatchObject({
        ok: true,
        detail: expect.stringMatching(/^running at http:\/\/127\.0\.0\.1:\d+; \d+ worker\(s\) polling$/),
      });
      expect(byName(checks, 'telegram/good')).toMatchObject({
        ok: true,
        detail: expect.stringMatching(/^connected/),
      });
      expect(checks.filter((c) => !c.ok && !c.optional)).toEqual([]);
    } finally {
      await gateway.close();
      await telegram.close();
    }
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { BIN, isAlive, spawnSwitchyard } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

const run = promisify(execFile);

describe('switchyard up (the home-server path)', () => {
  it('starts Temporal with its UI, the worker and the gateway, answers an echo, keeps the console to its own lines, and Ctrl-C leaves nothing behind', async () => {
    const home = mkdtempSync(join(tmpdir(), 'switchyard-up-'));
    const env = {
      SWITCHYARD_HOME: home,
      SWITCHYARD_GATEWAY_PORT: '0', // the gateway picks a free one and says which
      SWITCHYARD_TEMPORAL_PORT: String(await freePort()),
      SWITCHYARD_TEMPORAL_UI_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: '',
    };
    const up = spawnSwitchyard(['up'], env);
    try {
      await up.waitFor(/^Switchyard is up\./, 90_000);
      const out = up.output();
      const gatewayUrl = /gateway\s+(http:\/\/\S+)/.exec(out)![1]!;
      const uiUrl = /UI: (http:\/\/\S+)/.exec(out)![1]!;
      expect(out).toContain(`data dir     ${home}`);
      const cliEnv = { ...process.env, ...env, SWITCHYARD_GATEWAY_PORT: new URL(gatewayUrl).port };
      const pids = [/Temporal dev server pid (\d+)/, /\[worker\].*pid (\d+)/, /\[gateway\].*pid (\d+)/].map(
        (re) => Number(re.exec(out)![1]),
      );

      expect((await fetch(uiUrl)).status).toBe(200);
      expect(await (await fetch(`${gatewayUrl}/readyz`)).json()).toMatchObject({ ok: true, workers: 1 });
      const echoed = await run(process.execPath, [BIN, 'echo', 'are you there?'], { env: cliEnv });
      expect(JSON.parse(echoed.stdout)).toMatchObject({
        text: 'are you there?',
        workflowId: expect.stringMatching(/^echo:/),
      });
      expect(readFileSync(join(home, 'gateway.token'), 'utf8').trim().length).toBeGreaterThanOrEqual(24);

      // An expected failure (no model configured) is one line on the console, not a stack trace.
      const sent = await run(process.execPath, [BIN, 'send', 'hello'], { env: cliEnv });
      expect(sent.stdout).toContain("agent 'main' has no model");
      const failed = await up.waitFor(/^\[worker\] turn failed/, 30_000);
      expect(failed).toMatch(
        /\(session agent:main:main\): AgentFailed: agent 'main' has no model: set agents\[\]\.model/,
      );
      const screen = up.output().trimEnd().split('\n');
      expect(screen.length, screen.join('\n')).toBeLessThanOrEqual(24); // one screen
      for (const line of screen) {
        expect(line, "only Switchyard's own lines").not.toMatch(
          /\[(INFO|WARN|ERROR)\]|sdkComponent|^\S+\s+at |"level":|Deprecation|strict mode/,
        );
      }
      expect(screen.filter((l) => /no model/.test(l))).toHaveLength(1);
      // The SDK's logs are in the files: the channel queues' warnings, the failed activity with its stack.
      const gatewayLog = readFileSync(join(home, 'logs', 'gateway.log'), 'utf8');
      expect(gatewayLog).toContain('No workflows registered, not polling for workflow tasks');
      const workerLog = readFileSync(join(home, 'logs', 'worker.log'), 'utf8');
      const activityFailed = workerLog.split('\n').find((l) => l.includes('"msg":"Activity failed"'));
      expect(JSON.parse(activityFailed ?? '{}')).toMatchObject({
        activityType: 'agentPrepareTurn',
        error: { failureType: 'ModelConfigError', stack: expect.stringContaining('    at ') },
      });

      up.child.kill('SIGINT');
      expect(await up.exited).toEqual({ code: 0, signal: null });
      expect(up.output()).toContain('[supervisor] stopped');
      for (const pid of pids) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
    } finally {
      await up.kill('SIGKILL');
    }
  }, 240_000);

  it('keeps going when the Temporal dev server is SIGKILLed: restarts it on the same file, says so, and a call in flight completes', async () => {
    const home = mkdtempSync(join(tmpdir(), 'switchyard-up-tkill-'));
    const env = {
      SWITCHYARD_HOME: home,
      // The gateway binds a port of the system's choosing and reports it; the dev server cannot
      // (`temporal server start-dev --port 0` refuses: "missing frontend port"), so its ports are picked here.
      SWITCHYARD_GATEWAY_PORT: '0',
      SWITCHYARD_TEMPORAL_PORT: String(await freePort()),
      SWITCHYARD_TEMPORAL_UI_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: '',
    };
    const up = spawnSwitchyard(['up'], env);
    try {
      await up.waitFor(/^Switchyard is up\./, 90_000);
      const out = up.output();
      const gatewayUrl = /gateway\s+(http:\/\/\S+)/.exec(out)![1]!;
      const port = new URL(gatewayUrl).port;
      expect(port).not.toBe('0');
      expect(out).toContain(`[gateway] gateway listening on ${gatewayUrl} `);
      const temporalPid = Number(/Temporal dev server pid (\d+)/.exec(out)![1]);
      const cliEnv = { ...process.env, ...env, SWITCHYARD_GATEWAY_PORT: port };

      // An echo whose activity holds for 4 s, running when Temporal dies.
      const echo = run(process.execPath, [BIN, 'echo', '--delay', '4000', 'across the restart'], {
        env: cliEnv,
      });
      const address = `127.0.0.1:${env.SWITCHYARD_TEMPORAL_PORT}`;
      await until(
        async () => {
          const listed = await run(inject('temporalCli'), [
            'workflow',
            'count',
            '--address',
            address,
            '--query',
            "WorkflowType='echoWorkflow' AND ExecutionStatus='Running'",
          ]).catch(() => ({ stdout: '' }));
          return /Total: [1-9]/.test(listed.stdout) || undefined;
        },
        30_000,
        200,
      );
      process.kill(temporalPid, 'SIGKILL');

      await up.waitFor(/^\[supervisor\] Temporal dev server is back/, 90_000);
      expect(up.output()).toMatch(
        /\[supervisor\] Temporal dev server exited \(SIGKILL\)[^\n]*; restarting in 0\.25s \(restart #1; see \S+temporal\.log\)/,
      );
      const echoed = await echo;
      expect(JSON.parse(echoed.stdout)).toMatchObject({ text: 'across the restart' });
      expect(isAlive(temporalPid)).toBe(false);
      await until(
        async () => {
          const ready = (await (await fetch(`${gatewayUrl}/readyz`)).json()) as {
            ok: boolean;
            workers: number;
          };
          return (ready.ok && ready.workers >= 1) || undefined;
        },
        60_000,
        250,
      );

      up.child.kill('SIGINT');
      expect(await up.exited).toEqual({ code: 0, signal: null });
    } finally {
      await up.kill('SIGKILL');
    }
  }, 240_000);
});

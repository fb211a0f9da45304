import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { BIN, isAlive, spawnSwitchyard } from '../helpers/processes.js';

const run = promisify(execFile);

describe('switchyard up (the home-server path)', () => {
  it('starts Temporal with its UI, the worker and the gateway, answers an echo, keeps the console to its own lines, and Ctrl-C leaves nothing behind', async () => {
    const home = mkdtempSync(join(tmpdir(), 'switchyard-up-'));
    const env = {
      SWITCHYARD_HOME: home,
      SWITCHYARD_GATEWAY_PORT: String(await freePort()),
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
      const pids = [/Temporal dev server pid (\d+)/, /\[worker\].*pid (\d+)/, /\[gateway\].*pid (\d+)/].map(
        (re) => Number(re.exec(out)![1]),
      );

      expect((await fetch(uiUrl)).status).toBe(200);
      expect(await (await fetch(`${gatewayUrl}/readyz`)).json()).toMatchObject({ ok: true, workers: 1 });
      const echoed = await run(process.execPath, [BIN, 'echo', 'are you there?'], {
        env: { ...process.env, ...env },
      });
      expect(JSON.parse(echoed.stdout)).toMatchObject({
        text: 'are you there?',
        workflowId: expect.stringMatching(/^echo:/),
      });
      expect(readFileSync(join(home, 'gateway.token'), 'utf8').trim().length).toBeGreaterThanOrEqual(24);

      // An expected failure (no model configured) is one line on the console, not a stack trace.
      const sent = await run(process.execPath, [BIN, 'send', 'hello'], { env: { ...process.env, ...env } });
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
  });
});

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
  it('starts Temporal with its UI, the worker and the gateway, answers an echo, and Ctrl-C leaves nothing behind', async () => {
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

      up.child.kill('SIGINT');
      expect(await up.exited).toEqual({ code: 0, signal: null });
      expect(up.output()).toContain('[supervisor] stopped');
      for (const pid of pids) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
    } finally {
      await up.kill('SIGKILL');
    }
  });
});

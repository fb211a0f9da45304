import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { startWireServer } from '../agent/wire-servers.js';
import { freePort } from '../helpers/ports.js';
import { BIN, isAlive, spawnInTerminal, spawnSwitchyard } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

const run = promisify(execFile);

describe('switchyard up (the home-server path)', () => {
  it('starts Temporal with its UI, the worker and the gateway, answers an echo, leads to a model (switchyard send at a terminal, switchyard onboard) and answers with it, keeps the console to its own lines, and Ctrl-C leaves nothing behind', async () => {
    const home = mkdtempSync(join(tmpdir(), 'switchyard-up-'));
    const env = {
      SWITCHYARD_HOME: home,
      SWITCHYARD_GATEWAY_PORT: '0', // the gateway picks a free one and says which
      SWITCHYARD_TEMPORAL_PORT: String(await freePort()),
      SWITCHYARD_TEMPORAL_UI_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: '',
    };
    const KEY = 'sk-up-terminal-0123456789abcdef';
    const wire = await startWireServer('openai', (req) =>
      req.path.startsWith('/wrong/')
        ? { status: 404, message: 'no such route' }
        : { text: `Hello from ${req.body.model}.` },
    );
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

      // No model yet: `send` from a script does not start a turn that can only fail; it says how to set one up.
      const cli = (args: string[], input?: string) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = execFile(process.execPath, [BIN, ...args], { env: cliEnv }, (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
          );
          child.stdin?.end(input ?? '');
        });
      const unset = await cli(['send', 'hello']);
      expect(unset.code).toBe(3);
      expect(unset.stderr).toContain("agent 'main' has no model yet");
      expect(unset.stderr).toContain('Run `switchyard onboard`');

      // `switchyard send` at a terminal: the same dialogue, the key typed without echo, then the answer.
      const tty = spawnInTerminal(['send', 'What is the capital of France?'], cliEnv);
      try {
        await tty.waitFor(/Provider \[1-\d\]: /, 30_000);
        tty.type('openai-compatible');
        await tty.waitFor(/API URL \[http:\/\/127\.0\.0\.1:11434\/v1\]: /);
        tty.type(`${wire.url}/v1`);
        await tty.waitFor(/Model \(llama3\.1:8b\): /);
        tty.type('m1');
        await tty.waitFor(/API key \(if the server wants one\) \(optional\): /);
        tty.type(KEY);
        await tty.waitFor(/Done: server\/m1 answered the test call/, 60_000);
        await tty.waitFor(/^Hello from m1\.\r?$/, 60_000);
        expect(await tty.exited).toEqual({ code: 0, signal: null });
      } finally {
        await tty.kill('SIGKILL');
      }
      expect(tty.output()).not.toContain(KEY);
      expect(wire.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
      const secrets = join(home, 'secrets.json');
      expect(JSON.parse(readFileSync(secrets, 'utf8'))).toEqual({ server: KEY });
      expect(statSync(secrets).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(home, 'switchyard.yaml'), 'utf8')).not.toContain(KEY);

      // `switchyard onboard` from a pipe: another model on the same server, no key, a real test call.
      const onboarded = await cli(
        ['onboard', '--provider', 'openai-compatible', '--base-url', `${wire.url}/v1`, '--model', 'm2'],
        '\n', // no key: the server wants none
      );
      expect(onboarded.stdout).toMatch(/Done: server\/m2 answered the test call/);
      expect(onboarded.code).toBe(0);
      // The running worker and gateway use it at once.
      const answered = await cli(['send', 'hello']);
      expect(answered.stdout.trim()).toBe('Hello from m2.');

      // An expected failure (the provider's URL edited wrong) is one line on the console, not a stack trace.
      const file = join(home, 'switchyard.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(`${wire.url}/v1`, `${wire.url}/wrong/v1`));
      const sent = await cli(['send', 'hello again']);
      expect(sent.stdout).toContain('Sorry, I could not answer that: ');
      const failed = await up.waitFor(/^\[worker\] turn failed/, 30_000);
      expect(failed).toMatch(/\(session agent:main:main\): AgentFailed: .*model server\/m2 failed: 404/);
      const screen = up.output().trimEnd().split('\n');
      expect(screen.length, screen.join('\n')).toBeLessThanOrEqual(24); // one screen
      for (const line of screen) {
        expect(line, "only Switchyard's own lines").not.toMatch(
          /\[(INFO|WARN|ERROR)\]|sdkComponent|^\S+\s+at |"level":|Deprecation|strict mode/,
        );
      }
      expect(screen.filter((l) => /turn failed/.test(l))).toHaveLength(1);
      // The SDK's logs are in the files: the channel queues' warnings, the failed activity with its stack.
      const gatewayLog = readFileSync(join(home, 'logs', 'gateway.log'), 'utf8');
      expect(gatewayLog).toContain('No workflows registered, not polling for workflow tasks');
      const workerLog = readFileSync(join(home, 'logs', 'worker.log'), 'utf8');
      const activityFailed = workerLog.split('\n').find((l) => l.includes('"msg":"Activity failed"'));
      expect(JSON.parse(activityFailed ?? '{}')).toMatchObject({
        activityType: 'agentModelCall',
        error: { failureType: 'ModelRequestInvalid', stack: expect.stringContaining('    at ') },
      });

      up.child.kill('SIGINT');
      expect(await up.exited).toEqual({ code: 0, signal: null });
      expect(up.output()).toContain('[supervisor] stopped');
      for (const pid of pids) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
    } finally {
      await up.kill('SIGKILL');
      await wire.close();
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

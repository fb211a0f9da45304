// The exec tool's parts, for real: commands run in bubblewrap (no network, the workspace only,
// killed at their time or output limit), OpenClaw's deny/allowlist/full × ask levels decide per
// call, and the SQLite journal makes a retried call report what the first attempt did instead of
// running the command again.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Context,
  type FauxProviderRegistration,
  fauxAssistantMessage,
  fauxToolCall,
  registerFauxProvider,
  type ToolResultMessage,
} from '@mariozechner/pi-ai';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createExecTool } from '../../activities/agent/builtin-tools/exec.js';
import { ExecJournal } from '../../activities/agent/builtin-tools/exec-journal.js';
import { decideExec } from '../../activities/agent/builtin-tools/exec-policy.js';
import { findBwrap, probeSandbox, runSandboxed } from '../../activities/agent/builtin-tools/exec-sandbox.js';
import { loadAgentModelsConfig, type ToolCallContext } from '../../activities/agent/index.js';
import { resolveApproval, workflowApprovals } from '../../client/approvals.js';
import type { ExecToolConfig } from '../../config/config.js';
import type { PendingApproval } from '../../workflows/agent/approval-api.js';
import type { AgentTurnResult, AgentTurnWorkflowInput } from '../../workflows/agent/index.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { writeHistoryFixture } from '../helpers/histories.js';
import { bundleAgentWorkflows, connectClient, scheduledByType, startAgentWorker } from './harness.js';

const bwrap = findBwrap();

function workspace(): string {
  return mkdtempSync(join(tmpdir(), 'switchyard-exec-ws-'));
}

/** A loopback TCP server that counts the connections it gets. */
async function listener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((socket) => {
    n++;
    socket.on('error', () => {}); // the probe hangs up at once
    socket.end('hello\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, connections: () => n };
}

const PROBE = (port: number) =>
  `if bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}' 2>/dev/null; then echo CONNECTED; else echo NO-NETWORK; fi`;

describe('the sandbox', () => {
  let tcp: Awaited<ReturnType<typeof listener>>;
  beforeAll(async () => {
    expect(bwrap, 'bubblewrap must be installed (scripts/setup.mjs --test installs it)').toBeDefined();
    expect(probeSandbox(bwrap)).toBeUndefined();
    tcp = await listener();
  });
  afterAll(() => tcp.server.close());

  const run = (command: string, over: Partial<Parameters<typeof runSandboxed>[0]> = {}) =>
    runSandboxed(
      {
        command,
        workspace: over.workspace ?? workspace(),
        network: false,
        timeoutMs: 20_000,
        maxOutputBytes: 1 << 20,
        ...over,
      },
      bwrap!,
    );

  it('runs in /workspace as uid 1000 with no capabilities, writing to the host folder', async () => {
    const ws = workspace();
    writeFileSync(join(ws, 'notes.txt'), 'from the host\n');
    const result = await run(
      'pwd; id -u; grep CapEff /proc/self/status; cat notes.txt; echo made > out.txt',
      {
        workspace: ws,
      },
    );
    expect(result).toMatchObject({ exitCode: 0, signal: null });
    expect(result.output.split('\n')).toEqual([
      '/workspace',
      '1000',
      'CapEff:\t0000000000000000',
      'from the host',
      '',
    ]);
    expect(readFileSync(join(ws, 'out.txt'), 'utf8')).toBe('made\n');
  });

  it("sees only the system's programs: not the host's home, the data dir or secrets", async () => {
    const result = await run(
      'ls /; ls /root 2>&1; cat /etc/shadow 2>&1; ls /work 2>&1; echo $HOME; env | sort',
    );
    expect(result.output).toContain("ls: cannot access '/root': No such file or directory");
    expect(result.output).toContain('cat: /etc/shadow: No such file or directory');
    expect(result.output).toContain("ls: cannot access '/work'");
    // A clean environment: nothing of the worker's (its keys, tokens, SWITCHYARD_*) leaks in.
    const names = result.output.split('\n').flatMap((l) => /^([A-Z_]+)=/.exec(l)?.[1] ?? []);
    expect(
      names.filter((n) => !['HOME', 'LANG', 'PATH', 'PWD', 'SHLVL', 'TERM', 'TMPDIR', '_'].includes(n)),
    ).toEqual([]);
    expect(result.output).toContain('HOME=/tmp');
  });

  it('cannot connect to a loopback server on the host when the network is off, and can when it is allowed', async () => {
    const before = tcp.connections();
    const off = await run(PROBE(tcp.port));
    expect(off.output.trim()).toBe('NO-NETWORK');
    expect(tcp.connections()).toBe(before);
    const on = await run(PROBE(tcp.port), { network: true });
    expect(on.output.trim()).toBe('CONNECTED');
    await expect.poll(() => tcp.connections()).toBe(before + 1);
  });

  it('kills a command that runs too long, with everything it started', async () => {
    const marker = `sleep-marker-${process.pid}-${Date.now()}`;
    const result = await run(`sh -c 'sleep 300; echo ${marker}' & sh -c 'sleep 301; echo ${marker}'`, {
      timeoutMs: 500,
    });
    expect(result.stopped).toBe('timeout');
    // 'close' comes once every process holding the output is gone: the background one too.
    expect(() => execFileSync('pgrep', ['-f', marker])).toThrow();
  });

  it('stops a command that prints without end, keeping its beginning and end', async () => {
    const result = await run('yes "a line of output"', { maxOutputBytes: 256 * 1024 });
    expect(result.stopped).toBe('output');
    expect(result.bytes).toBeGreaterThan(256 * 1024);
    expect(result.output.length).toBeLessThan(40 * 1024);
    expect(result.output.startsWith('a line of output\n')).toBe(true);
    expect(result.output).toMatch(/\[… \d+ bytes left out …\]/);
  });
});

const policy = (over: Partial<ExecToolConfig> = {}): ExecToolConfig => ({
  security: 'allowlist',
  ask: 'on-miss',
  allowlist: [],
  network: false,
  timeoutMs: 20_000,
  maxOutputBytes: 1 << 20,
  ...over,
});

describe("OpenClaw's exec levels", () => {
  const ws = workspace();
  mkdirSync(join(ws, 'bin'));
  writeFileSync(join(ws, 'bin', 'tool.sh'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
  const decide = (command: string, over: Partial<ExecToolConfig>) =>
    decideExec(command, policy(over), { workspace: ws });

  it.each([
    ['date', { allowlist: ['/usr/bin/date'] }, 'allowed'],
    ['date -u && ls -la | wc -l', { allowlist: ['/usr/bin/*'] }, 'allowed'],
    ['LANG=C date', { allowlist: ['/USR/BIN/DATE'] }, 'allowed'],
    ['./bin/tool.sh', { allowlist: ['/workspace/bin/*'] }, 'allowed'],
    ['date', { allowlist: ['date'] }, 'ask'],
    ['date', { allowlist: [] }, 'ask'],
    ['date > out.txt', { allowlist: ['/usr/bin/date'] }, 'ask'],
    ['echo $(cat /etc/passwd)', { allowlist: ['/usr/bin/*'] }, 'ask'],
    ['$CMD', { allowlist: ['/usr/bin/*'] }, 'ask'],
    ['date; curl example.org', { allowlist: ['/usr/bin/date'] }, 'ask'],
    ['date', { allowlist: ['/usr/bin/date'], ask: 'always' }, 'ask'],
    ['rm -rf x', { allowlist: [], ask: 'off' }, 'refused'],
    ['rm -rf x', { security: 'full', ask: 'off' }, 'allowed'],
    ['rm -rf x', { security: 'full', ask: 'on-miss' }, 'allowed'],
    ['rm -rf x', { security: 'full', ask: 'always' }, 'ask'],
    ['date', { security: 'deny' }, 'refused'],
    ['   ', { security: 'full' }, 'refused'],
  ] as Array<[string, Partial<ExecToolConfig>, string]>)('%s with %j: %s', (command, over, expected) => {
    expect(decide(command, over).run).toBe(expected);
  });

  it('says why a command is not allowed', () => {
    expect(decide('curl x', { allowlist: ['/usr/bin/date'], ask: 'off' })).toEqual({
      run: 'refused',
      why: "'curl' (/usr/bin/curl) is not in the allowlist, and tools.exec.ask is off (nobody is asked)",
    });
    expect(decide('nosuchprogram', { allowlist: ['/usr/bin/*'] }).why).toBe(
      "'nosuchprogram' is not a program on the sandbox's PATH",
    );
  });
});

function context(key: string, over: Partial<ToolCallContext> = {}): ToolCallContext {
  return {
    toolCallId: 'call-1',
    runKey: 'web:chat:1',
    idempotencyKey: key,
    attempt: 1,
    signal: new AbortController().signal,
    approved: false,
    heartbeat: () => {},
    ...over,
  };
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('the exec tool', () => {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-exec-home-'));
  const ws = workspace();
  const journal = new ExecJournal(join(home, 'exec-journal.db'));
  let current = policy({ allowlist: ['/usr/bin/echo'] });
  const tool = createExecTool({
    policy: () => current,
    workspaceOf: () => ws,
    journal: () => journal,
    bwrap,
  });
  afterAll(() => journal.close());

  it('asks before a command outside the allowlist and runs one inside it by itself', async () => {
    const ctx = { toolCallId: 'c', runKey: 'r', idempotencyKey: 'k' };
    expect(await tool.approvalFor!({ command: 'echo hi' }, ctx)).toEqual({
      approval: 'none',
      why: 'every program is in the allowlist',
    });
    expect(await tool.approvalFor!({ command: 'touch x' }, ctx)).toMatchObject({ approval: 'required' });
    current = policy({ allowlist: ['/usr/bin/echo'], ask: 'off' });
    expect(await tool.approvalFor!({ command: 'touch x' }, ctx)).toEqual({
      refused:
        "'touch' (/usr/bin/touch) is not in the allowlist, and tools.exec.ask is off (nobody is asked)",
    });
    current = policy({ allowlist: ['/usr/bin/echo'] });
  });

  it('refuses a command that needs approval when the call was not approved', async () => {
    const error = await failure(tool.execute({ command: 'touch never' }, context('wf-a/1')));
    expect(error.type).toBe('ExecRefused');
    expect(error.message).toContain("needs the owner's approval");
  });

  it('runs an approved call once: a retry gets the recorded result, the command does not run again', async () => {
    const command = 'echo run >> runs.txt; wc -l < runs.txt';
    const first = await tool.execute({ command }, context('wf-b/3', { approved: true }));
    expect(first).toMatch(/^\$ echo run >> runs.txt; wc -l < runs.txt\n1\n\[exit code 0, [\d.]+ s\]$/);
    const retry = await tool.execute({ command }, context('wf-b/3', { approved: true, attempt: 2 }));
    expect(retry).toBe(first);
    expect(readFileSync(join(ws, 'runs.txt'), 'utf8')).toBe('run\n');
  });

  it('reports the outcome as unknown when the command started but its worker died, and does not run it', async () => {
    journal.claim('wf-c/5/call-1', 'echo run >> runs-c.txt'); // what a worker wrote before it was killed
    const error = await failure(
      tool.execute({ command: 'echo run >> runs-c.txt' }, context('wf-c/5', { approved: true, attempt: 2 })),
    );
    expect(error.type).toBe('ExecOutcomeUnknown');
    expect(error.message).toContain('It was not run again');
    expect(() => readFileSync(join(ws, 'runs-c.txt'))).toThrow();
  });

  it('a command past its time limit is a clear error, recorded like any result', async () => {
    const error = await failure(
      tool.execute({ command: 'sleep 30', timeout: 1 }, context('wf-d/1', { approved: true })),
    );
    expect(error.type).toBe('ExecTimedOut');
    expect(error.message).toBe(
      "exec: killed after 1 s (its time limit; the owner's limit is tools.exec.timeoutSeconds): sleep 30\n(no output)",
    );
    const again = await failure(
      tool.execute({ command: 'sleep 30', timeout: 1 }, context('wf-d/1', { approved: true })),
    );
    expect([again.type, again.message]).toEqual([error.type, error.message]);
  });

  it('a command that prints gigabytes is stopped at the output limit', async () => {
    current = policy({ security: 'full', ask: 'off', maxOutputBytes: 64 * 1024 });
    const error = await failure(tool.execute({ command: 'cat /dev/zero | tr "\\0" x' }, context('wf-e/1')));
    expect(error.type).toBe('ExecOutputLimit');
    expect(error.message).toMatch(
      /^exec: stopped after printing more than 64 KiB \(its output limit, tools.exec.maxOutputKB\)/,
    );
    expect(error.message.length).toBeLessThan(40 * 1024);
    current = policy({ allowlist: ['/usr/bin/echo'] });
  });

  it('says so when the sandbox cannot run here', async () => {
    const broken = createExecTool({
      policy: () => policy({ security: 'full', ask: 'off' }),
      workspaceOf: () => ws,
      journal: () => journal,
      bwrap: undefined,
      sandboxProblem: 'bubblewrap is not installed: apt-get install bubblewrap',
    });
    const error = await failure(broken.execute({ command: 'echo hi' }, context('wf-f/1')));
    expect([error.type, error.message]).toEqual([
      'ExecUnavailable',
      'exec: bubblewrap is not installed: apt-get install bubblewrap',
    ]);
  });
});

describe('exec in an agent turn (real Temporal, faux model)', () => {
  const address = inject('temporalAddress');
  let faux: FauxProviderRegistration;
  let client: Client;
  let bundle: WorkflowBundle;
  beforeAll(async () => {
    faux = registerFauxProvider({ provider: 'faux-exec' });
    [client, bundle] = await Promise.all([connectClient(address), bundleAgentWorkflows()]);
  });
  afterAll(() => faux?.unregister());

  it('runs an allowlisted command by itself, waits for the owner on another, refuses what ask: off forbids, honours a step’s tool_options', async () => {
    const home = mkdtempSync(join(tmpdir(), 'switchyard-exec-agent-'));
    const ws = join(home, 'agents', 'main');
    mkdirSync(ws, { recursive: true });
    const config = loadAgentModelsConfig(
      {
        providers: {
          'faux-exec': {
            type: 'openai-compatible',
            api: faux.api,
            baseUrl: 'http://127.0.0.1:9',
            apiKey: 'none',
            models: [{ id: 'm', contextWindow: 32_000 }],
          },
        },
        agents: [{ id: 'main', model: 'faux-exec/m' }],
      },
      { home },
    );
    let exec = policy({ allowlist: ['/usr/bin/echo', '/usr/bin/date'] });
    const journal = new ExecJournal(join(home, 'exec-journal.db'));
    const taskQueue = uniqueTaskQueue('exec-agent');
    const worker = await startAgentWorker({
      address,
      taskQueue,
      bundle,
      deps: {
        config,
        tools: [createExecTool({ policy: () => exec, workspaceOf: () => ws, journal: () => journal, bwrap })],
      },
    });
    const results = (c: Context) =>
      c.messages
        .filter((m): m is ToolResultMessage => m.role === 'toolResult')
        .map((m) => [m.isError, m.content.map((x) => ('text' in x ? x.text : '')).join('')] as const);
    let seen: ReturnType<typeof results> = [];
    const calls = (...commands: string[]) =>
      fauxAssistantMessage(
        commands.map((command) => fauxToolCall('exec', { command })),
        { stopReason: 'toolUse' },
      );
    try {
      faux.setResponses([
        calls('echo hello from the sandbox', 'echo made > made.txt'),
        (c) => {
          seen = results(c);
          return fauxAssistantMessage('done');
        },
      ]);
      const handle = await client.workflow.start('agentTurnWorkflow', {
        taskQueue,
        workflowId: `exec-agent-${taskQueue}`,
        args: [{ args: { prompt: 'say hello and make a file' } } satisfies AgentTurnWorkflowInput],
      });
      // The redirection makes the second a miss: it waits; the first has already run.
      let pending: PendingApproval[] = [];
      await expect
        .poll(
          async () => {
            pending = await workflowApprovals(client, handle.workflowId);
            return pending.length;
          },
          { timeout: 30_000 },
        )
        .toBe(1);
      expect(pending[0]).toMatchObject({ tool: 'exec', args: '{"command":"echo made > made.txt"}' });
      expect(existsSync(join(ws, 'made.txt'))).toBe(false);
      await resolveApproval(client, handle.workflowId, pending[0]!.id, 'approve');
      expect(((await handle.result()) as AgentTurnResult).text).toBe('done');
      expect(seen.map(([isError, text]) => [isError, text.split('\n').slice(0, 2).join('\n')])).toEqual([
        [false, '$ echo hello from the sandbox\nhello from the sandbox'],
        [false, '$ echo made > made.txt\n(no output)'],
      ]);
      expect(readFileSync(join(ws, 'made.txt'), 'utf8')).toBe('made\n');
      const history = await handle.fetchHistory();
      expect(scheduledByType(history.events ?? [])).toMatchObject({ agentToolApproval: 2, agentToolCall: 2 });
      if (process.env.RECORD_EXEC_HISTORY) {
        // RECORD_EXEC_HISTORY=1 npx vitest run test/agent/exec.test.ts → the replay fixture of a per-call approval.
        writeHistoryFixture(
          join(import.meta.dirname, '../replay/histories/agent-turn-workflow-exec-per-call.json'),
          history,
          handle.workflowId,
        );
      }

      // With ask: off, a command outside the allowlist is refused before anyone is asked.
      exec = policy({ allowlist: ['/usr/bin/echo'], ask: 'off' });
      faux.setResponses([
        calls('rm -rf /workspace/*'),
        (c) => {
          seen = results(c);
          return fauxAssistantMessage('refused');
        },
      ]);
      const refusedTurn = (await client.workflow.execute('agentTurnWorkflow', {
        taskQueue,
        workflowId: `exec-agent-refused-${taskQueue}`,
        args: [{ args: { prompt: 'clean up' } } satisfies AgentTurnWorkflowInput],
      })) as AgentTurnResult;
      expect(refusedTurn.text).toBe('refused');
      expect(seen).toEqual([
        [
          true,
          "tool exec refused: 'rm' (/usr/bin/rm) is not in the allowlist, and tools.exec.ask is off (nobody is asked)",
        ],
      ]);
      expect(existsSync(join(ws, 'made.txt'))).toBe(true);

      // A pipeline step's tool_options apply to exec as to any tool: `approval: required` makes
      // even an allowlisted command wait for the owner, and the step's timeout is the activity's.
      exec = policy({ allowlist: ['/usr/bin/echo'] });
      faux.setResponses([
        calls('echo the step asked first'),
        (c) => {
          seen = results(c);
          return fauxAssistantMessage('asked');
        },
      ]);
      const stepTurn = await client.workflow.start('agentTurnWorkflow', {
        taskQueue,
        workflowId: `exec-agent-step-${taskQueue}`,
        args: [
          {
            args: { prompt: 'echo it' },
            ctx: { tools: { exec: { approval: 'required', timeoutMs: 120_000 } } },
          } satisfies AgentTurnWorkflowInput,
        ],
      });
      await expect
        .poll(
          async () => {
            pending = await workflowApprovals(client, stepTurn.workflowId);
            return pending.length;
          },
          { timeout: 30_000 },
        )
        .toBe(1);
      expect(pending[0]).toMatchObject({ tool: 'exec', args: '{"command":"echo the step asked first"}' });
      expect(scheduledByType((await stepTurn.fetchHistory()).events ?? []).agentToolCall).toBeUndefined();
      await resolveApproval(client, stepTurn.workflowId, pending[0]!.id, 'approve');
      expect(((await stepTurn.result()) as AgentTurnResult).text).toBe('asked');
      expect(seen.map(([isError, text]) => [isError, text.split('\n').slice(0, 2).join('\n')])).toEqual([
        [false, '$ echo the step asked first\nthe step asked first'],
      ]);
      const scheduled = ((await stepTurn.fetchHistory()).events ?? []).find(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'agentToolCall',
      )?.activityTaskScheduledEventAttributes;
      expect(Number(scheduled?.startToCloseTimeout?.seconds)).toBe(120);
    } finally {
      await worker.shutdown();
      journal.close();
    }
  });
});

// exec runs exactly once, even when the worker running it is SIGKILLed. Two parts:
//  1. Many trials, cheap: a process runs one exec call (the built tool, real bubblewrap, the real
//     journal) and is SIGKILLed at a random moment — before the journal, while the command runs,
//     after it finished — then a second process retries the same call. The command counts its runs
//     in a file: it is never run twice, and what the retry reports matches what happened.
//  2. The whole way: `switchyard worker` (a real process) with exec on, a model at the OpenAI wire,
//     the gateway's OpenAI-compatible API, real Temporal. The first exec waits for the owner's
//     approval and cannot reach a loopback server (no network in the sandbox); the second starts,
//     the worker is SIGKILLed while it runs, a new worker takes the retried call and reports the
//     outcome as unknown instead of running it again.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ExecJournal } from '../../activities/agent/builtin-tools/exec-journal.js';
import { wireModelYaml } from '../../bench/fake-model.js';
import { listApprovals, resolveApprovalById } from '../../client/approvals.js';
import { projectRoot } from '../../config/home.js';
import { loadConfig } from '../../config/load.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { startedAttempts } from '../agent/harness.js';
import { startWireServer, type WireReply } from '../agent/wire-servers.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';
import { type Spawned, spawnSwitchyard } from '../helpers/processes.js';

const dist = (path: string) => join(projectRoot(), 'dist', path);

/** One exec call in its own process (the built code), printing what it returned or threw. */
const CHILD = `
const [journalFile, workspace, key, command] = process.argv.slice(1);
const { createExecTool } = await import(${JSON.stringify(dist('activities/agent/builtin-tools/exec.js'))});
const { ExecJournal } = await import(${JSON.stringify(dist('activities/agent/builtin-tools/exec-journal.js'))});
const { findBwrap } = await import(${JSON.stringify(dist('activities/agent/builtin-tools/exec-sandbox.js'))});
const journal = new ExecJournal(journalFile);
const tool = createExecTool({
  policy: () => ({ security: 'full', ask: 'off', allowlist: [], network: false, timeoutMs: 30000, maxOutputBytes: 1 << 20 }),
  workspaceOf: () => workspace,
  journal: () => journal,
  bwrap: findBwrap(),
});
const ctx = { toolCallId: 'call-1', runKey: 'web:c:1', idempotencyKey: key, attempt: 1, signal: new AbortController().signal, approved: true };
try {
  console.log(JSON.stringify({ ok: true, text: await tool.execute({ command }, ctx) }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, type: error.type, message: error.message }));
}
journal.close();
`;

interface CallOutcome {
  ok: boolean;
  text?: string;
  type?: string;
  message?: string;
}

function runCall(
  args: string[],
  killAfterMs?: number,
): Promise<{ outcome?: CallOutcome; signal: NodeJS.Signals | null; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line && signal === null) reject(new Error(`exec child exited ${code} without an answer:\n${out}`));
      resolve({
        ...(line ? { outcome: JSON.parse(line) as CallOutcome } : {}),
        signal,
        ms: Date.now() - started,
      });
    });
  });
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** True while a process whose command line contains `marker` is alive. */
function alive(marker: string): boolean {
  try {
    execFileSync('pgrep', ['-f', marker]);
    return true;
  } catch {
    return false;
  }
}

describe('an exec call killed at a random moment is never run twice', () => {
  it('over many trials: the retry reports the recorded result, runs it (never started), or says unknown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-exec-trials-'));
    const journalFile = join(dir, 'exec-journal.db');
    const trial = (i: number) => {
      const ws = join(dir, `ws-${i}`);
      mkdirSync(ws);
      const marker = `exec-trial-${process.pid}-${i}`;
      return {
        ws,
        key: `turn:trial/${i}`,
        marker,
        command: `echo run >> runs; sleep 0.3; echo done; : ${marker}`,
      };
    };
    // How long one call takes here, unkilled: the kill moments spread over that (and a bit past).
    const baseline = trial(0);
    const first = await runCall([journalFile, baseline.ws, baseline.key, baseline.command]);
    expect(first.outcome).toMatchObject({ ok: true, text: expect.stringContaining('done') });
    const span = first.ms * 1.3;

    const TRIALS = 24;
    const tally = {
      finishedBeforeKill: 0,
      killedBeforeStart: 0,
      killedWhileRunning: 0,
      killedAfterFinishing: 0,
    };
    const journal = new ExecJournal(journalFile);
    try {
      for (let i = 1; i <= TRIALS; i++) {
        const t = trial(i);
        const killAt = Math.round(((i - 1 + Math.random()) / TRIALS) * span);
        const killed = await runCall([journalFile, t.ws, t.key, t.command], killAt);
        // The sandbox dies with its worker: nothing of the command is left running.
        await expect.poll(() => alive(t.marker), { timeout: 10_000 }).toBe(false);
        const before = lines(join(t.ws, 'runs')).length;
        const retry = await runCall([journalFile, t.ws, t.key, t.command]);
        const runs = lines(join(t.ws, 'runs')).length;
        const record = journal.get(`${t.key}/call-1`);
        const where = `trial ${i} (killed at ${killAt} ms of ~${first.ms}; first ${killed.signal ?? 'finished'}; retry ${JSON.stringify(retry.outcome)})`;
        expect(runs, where).toBeLessThanOrEqual(1);
        // The journal has the call, finished, or started by a worker that never finished it.
        expect(record?.state, where).toBe(retry.outcome?.type === 'ExecOutcomeUnknown' ? 'started' : 'done');
        if (killed.signal === null) {
          tally.finishedBeforeKill++;
          // Finished and recorded: the retry gets that result, and the command ran once.
          expect(retry.outcome, where).toEqual(killed.outcome);
          expect(runs, where).toBe(1);
        } else if (retry.outcome?.ok && before === 1) {
          tally.killedAfterFinishing++;
          // Finished and recorded, killed before it could report: the retry reads the record.
          expect(runs, where).toBe(1);
        } else if (retry.outcome?.ok) {
          tally.killedBeforeStart++;
          // Killed before it claimed the call (or before the sandbox ran): the retry ran it, once.
          expect(runs, where).toBe(1);
        } else {
          tally.killedWhileRunning++;
          // Started, then its worker died: not run again; the model is told the outcome is unknown.
          expect(retry.outcome?.type, where).toBe('ExecOutcomeUnknown');
          expect(runs, where).toBe(before);
        }
      }
    } finally {
      journal.close();
    }
    console.log(`[exec trials] ${TRIALS} kills over ${Math.round(span)} ms: ${JSON.stringify(tally)}`);
    expect(Object.values(tally).reduce((a, b) => a + b)).toBe(TRIALS);
  }, 240_000);
});

const TOKEN = 'exec-crash-test-token-0123456789';

describe('exec through a real worker that is SIGKILLed while the command runs', () => {
  const address = inject('temporalAddress');
  const taskQueue = uniqueTaskQueue('exec-crash');
  const user = `exec-${Date.now()}`; // the OpenAI API's `user`: one conversation
  const marker = `exec-crash-marker-${process.pid}-${Date.now()}`;
  const workers: Spawned[] = [];
  let gateway: Gateway;
  let model: Awaited<ReturnType<typeof startWireServer>>;
  let tcp: { port: number; connections: number; close(): void };
  let env: NodeJS.ProcessEnv;
  let base: string;
  let workspace: string;

  beforeAll(async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.on('error', () => {});
      socket.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    tcp = {
      port: (server.address() as { port: number }).port,
      get connections() {
        return connections;
      },
      close: () => server.close(),
    };
    const probe = `if bash -c 'exec 3<>/dev/tcp/127.0.0.1/${tcp.port}' 2>/dev/null; then echo CONNECTED; else echo NO-NETWORK; fi`;
    const long = `echo ran >> runs.txt; sleep 300; : ${marker}`;
    model = await startWireServer('openai', (request): WireReply => {
      const done = (request.body.messages as Array<{ role: string }>).filter((m) => m.role === 'tool').length;
      if (done === 0)
        return { toolCalls: [{ id: 'call_probe', name: 'exec', arguments: { command: probe } }] };
      if (done === 1) return { toolCalls: [{ id: 'call_long', name: 'exec', arguments: { command: long } }] };
      return { text: 'Done: the network is off, and the long job was cut short.' };
    });
    const home = mkdtempSync(join(tmpdir(), 'switchyard-e2e-exec-crash-'));
    workspace = join(home, 'agents', 'main');
    writeFileSync(
      join(home, 'switchyard.yaml'),
      wireModelYaml(model.url, [
        'tools:',
        '  exec:',
        '    security: allowlist', // nothing in the allowlist: every command waits for approval
        '    ask: on-miss',
        '  browser:',
        '    enabled: false',
      ]),
    );
    const port = await freePort();
    env = {
      SWITCHYARD_HOME: home,
      TEMPORAL_ADDRESS: address,
      SWITCHYARD_TASK_QUEUE: taskQueue,
      SWITCHYARD_GATEWAY_TOKEN: TOKEN,
      SWITCHYARD_GATEWAY_PORT: String(port),
    };
    gateway = await buildGateway({
      config: loadConfig({ home, env }),
      token: TOKEN,
      logger: false,
      watchPipelines: false,
    });
    base = await gateway.app.listen({ host: '127.0.0.1', port });
    await gateway.channels.workersReady;
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await gateway?.close();
    await model?.close();
    tcp?.close();
  });

  /** Approves the next exec call that waits, once it is listed; returns its arguments. */
  async function approveNext(seen: Set<string>): Promise<string> {
    let found: { id: string; args: string; workflowId: string } | undefined;
    await expect
      .poll(
        async () => {
          found = (await listApprovals(gateway.client, { taskQueue })).find(
            (a) => a.tool === 'exec' && !seen.has(a.id),
          );
          return found !== undefined;
        },
        { timeout: 60_000, interval: 250 },
      )
      .toBe(true);
    seen.add(found!.id);
    await resolveApprovalById(gateway.client, found!.id, 'approve', { workflowId: found!.workflowId });
    return found!.args;
  }

  it('asks, runs without network, and after a SIGKILL mid-run does not run the command again', async () => {
    const first = spawnSwitchyard(['worker'], env);
    workers.push(first);
    await first.waitFor(/worker ready/);
    const response = fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'main',
        user,
        messages: [{ role: 'user', content: 'Check the network, then run the job.' }],
      }),
    });

    // 1. The probe waits for the owner; approved, it runs in the sandbox and reaches nothing.
    const approved = new Set<string>();
    expect(await approveNext(approved)).toContain('/dev/tcp/127.0.0.1');
    // 2. The long job: approved, it starts (its first line is written), then its worker dies.
    expect(await approveNext(approved)).toContain('runs.txt');
    await expect.poll(() => lines(join(workspace, 'runs.txt')), { timeout: 60_000 }).toEqual(['ran']);
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // The sandbox went down with the worker.
    await expect.poll(() => alive(marker), { timeout: 10_000 }).toBe(false);

    const second = spawnSwitchyard(['worker'], env);
    workers.push(second);
    await second.waitFor(/worker ready/);
    // The retried call lands on the new worker once the old one's heartbeat is missed (20 s).
    const res = await response;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]!.message.content).toBe(
      'Done: the network is off, and the long job was cut short.',
    );

    // The command ran once.
    expect(lines(join(workspace, 'runs.txt'))).toEqual(['ran']);
    expect(tcp.connections).toBe(0);
    const toolResults = (model.requests.at(-1)!.body.messages as Array<{ role: string; content: unknown }>)
      .filter((m) => m.role === 'tool')
      .map((m) => String(m.content));
    expect(toolResults[0]).toMatch(/^\$ if bash -c .*\nNO-NETWORK\n\[exit code 0, [\d.]+ s\]$/);
    expect(toolResults[1]).toContain('tool exec failed: exec: this command was started at');
    expect(toolResults[1]).toContain('It was not run again, and whether it completed is unknown');

    // In the turn's history: each call checked, the long one tried on both workers. The default
    // pipeline's turn runs inside its session workflow (docs/sessions.md), waiting for the owner's
    // approvals there too: no turn workflow of its own.
    const list = async (prefix: string) => {
      const ids = [];
      const query = `TaskQueue = '${taskQueue}' AND WorkflowId STARTS_WITH '${prefix}'`;
      for await (const run of gateway.client.workflow.list({ query })) ids.push(run.workflowId);
      return ids;
    };
    expect(await list('turn:')).toEqual([]);
    const sessions = await list('session:');
    expect(sessions).toHaveLength(1);
    const events = (await gateway.client.workflow.getHandle(sessions[0]!).fetchHistory()).events ?? [];
    expect(startedAttempts(events, 'agentToolApproval')).toEqual([1, 1]);
    // (History keeps one started event per activity, with its last attempt: the probe's first,
    // the long job's second, on the new worker.)
    expect(startedAttempts(events, 'agentToolCall')).toEqual([1, 2]);
  }, 240_000);
});

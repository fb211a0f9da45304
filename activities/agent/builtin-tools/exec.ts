/**
 * The agent's `exec` tool: one shell command (`sh -c`) in the bubblewrap sandbox
 * (exec-sandbox.ts), after the owner's approval unless the allowlist permits it (exec-policy.ts,
 * decided per call by `approvalFor` before the workflow asks anyone), exactly once across
 * retries (exec-journal.ts). Off unless `tools.exec.security` is allowlist or full.
 */
import { mkdir } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { ExecToolConfig } from '../../../config/config.js';
import { Failures } from '../../../engine/failures.js';
import type { AgentToolDefinition, ToolCallContext } from '../tools.js';
import type { ExecJournal, ExecOutcome } from './exec-journal.js';
import { decideExec } from './exec-policy.js';
import { runSandboxed, type SandboxResult } from './exec-sandbox.js';

export interface ExecToolOptions {
  /** tools.exec as it is now. */
  policy: () => ExecToolConfig;
  /** The workspace of the agent whose turn makes the call (mounted at /workspace). */
  workspaceOf: (runKey: string, ctx: Pick<ToolCallContext, 'idempotencyKey'>) => string;
  /** The journal that makes each call run at most once (opened on first use). */
  journal: () => ExecJournal;
  /** The bwrap binary. */
  bwrap: string | undefined;
  /** Why the sandbox cannot run here (probeSandbox), if it cannot. */
  sandboxProblem?: string;
  /** How often the running call heartbeats. Default 2 s. */
  heartbeatMs?: number;
}

const HEARTBEAT_TIMEOUT_MS = 20_000;

export function createExecTool(options: ExecToolOptions): AgentToolDefinition {
  const refused = (message: string) => ApplicationFailure.nonRetryable(message, Failures.ExecRefused);
  const tool: AgentToolDefinition = {
    name: 'exec',
    description:
      'Run a shell command (sh -c) in a sandbox and get its output and exit code. The working directory is ' +
      "/workspace (your workspace's files); /tmp is scratch space; the system's programs are there but nothing " +
      'else of the machine, and there is no network unless the owner allowed it. The owner may have to approve ' +
      'the command first. Commands are killed when they run too long or print too much. Each call runs at ' +
      'most once: never repeat a call just because its result was unclear, check its effects instead.',
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['command'],
      properties: {
        command: { type: 'string', minLength: 1, description: 'The command line, as for sh -c.' },
        timeout: {
          type: 'integer',
          minimum: 1,
          description: "Seconds before it is killed (at most the owner's limit, which is also the default).",
        },
      },
    },
    approval: 'per-call',
    // Room for the command's own limit; the heartbeat notices a dead worker long before.
    get timeoutMs() {
      return options.policy().timeoutMs + 30_000;
    },
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
    // A retry never runs the command twice (the journal); it reports what the first attempt did.
    retry: { maximumAttempts: 3 },
    approvalFor(args, ctx) {
      const decision = decideExec(String(args.command ?? ''), options.policy(), {
        workspace: options.workspaceOf(ctx.runKey, ctx),
      });
      if (decision.run === 'refused') return { refused: decision.why };
      return { approval: decision.run === 'ask' ? 'required' : 'none', why: decision.why };
    },
    async execute(args, ctx) {
      const command = String(args.command ?? '');
      const policy = options.policy();
      const workspace = options.workspaceOf(ctx.runKey, ctx);
      // Checked again here: the workflow asked before, but the config may have changed since.
      const decision = decideExec(command, policy, { workspace });
      if (decision.run === 'refused') throw refused(`exec: refused: ${decision.why}`);
      if (decision.run === 'ask' && !ctx.approved) {
        throw refused(
          `exec: refused: this command needs the owner's approval (${decision.why}), and none was given`,
        );
      }
      if (options.sandboxProblem || !options.bwrap) {
        throw ApplicationFailure.nonRetryable(
          `exec: ${options.sandboxProblem ?? 'bubblewrap is not installed'}`,
          Failures.ExecUnavailable,
        );
      }
      const key = `${ctx.idempotencyKey}/${ctx.toolCallId}`;
      await mkdir(workspace, { recursive: true });
      const claim = options.journal().claim(key, command);
      if (!claim.run) return replay(claim.record.outcome, claim.record.startedAt);
      const limitMs = Math.min(
        policy.timeoutMs,
        typeof args.timeout === 'number' ? args.timeout * 1000 : Number.POSITIVE_INFINITY,
      );
      const beat = setInterval(() => ctx.heartbeat?.(), options.heartbeatMs ?? 2_000);
      let result: SandboxResult;
      try {
        result = await runSandboxed(
          {
            command,
            workspace,
            network: policy.network,
            timeoutMs: limitMs,
            maxOutputBytes: policy.maxOutputBytes,
            signal: ctx.signal,
          },
          options.bwrap,
        );
      } catch (error) {
        const outcome: ExecOutcome = {
          ok: false,
          type: Failures.ExecUnavailable,
          message: `exec: the sandbox could not start: ${(error as Error).message}`,
        };
        options.journal().finish(key, outcome);
        return replay(outcome);
      } finally {
        clearInterval(beat);
      }
      const outcome = outcomeOf(command, result, limitMs, policy.maxOutputBytes);
      options.journal().finish(key, outcome);
      return replay(outcome);
    },
  };
  return tool;
}

/** What the model reads: the recorded outcome, text or the same failure again. */
function replay(outcome: ExecOutcome | undefined, startedAt?: number): string {
  if (!outcome) {
    throw ApplicationFailure.nonRetryable(
      `exec: this command was started${startedAt ? ` at ${new Date(startedAt).toISOString()}` : ''} by a worker ` +
        'that stopped before it finished. It was not run again, and whether it completed is unknown: check its ' +
        'effects (the files it should have written, what it should have changed) before running it again.',
      Failures.ExecOutcomeUnknown,
    );
  }
  if (outcome.ok) return outcome.text;
  throw ApplicationFailure.nonRetryable(outcome.message, outcome.type);
}

function outcomeOf(command: string, result: SandboxResult, limitMs: number, maxBytes: number): ExecOutcome {
  const output = result.output.trimEnd();
  const shown = output ? `\n${output}` : '\n(no output)';
  if (result.stopped === 'timeout') {
    return {
      ok: false,
      type: Failures.ExecTimedOut,
      message: `exec: killed after ${seconds(limitMs)} (its time limit; the owner's limit is tools.exec.timeoutSeconds): ${command}${shown}`,
    };
  }
  if (result.stopped === 'output') {
    return {
      ok: false,
      type: Failures.ExecOutputLimit,
      message: `exec: stopped after printing more than ${Math.round(maxBytes / 1024)} KiB (its output limit, tools.exec.maxOutputKB): ${command}${shown}`,
    };
  }
  if (result.stopped === 'cancelled') {
    return {
      ok: false,
      type: Failures.ExecTimedOut,
      message: `exec: stopped because the turn was cancelled: ${command}`,
    };
  }
  const status =
    result.signal !== null ? `killed by ${result.signal}` : `exit code ${result.exitCode ?? 'unknown'}`;
  return { ok: true, text: `$ ${command}${shown}\n[${status}, ${seconds(result.durationMs)}]` };
}

function seconds(ms: number): string {
  return `${+(ms / 1000).toFixed(1)} s`;
}

// `switchyard sessions list|show|reset|abort`: the owner's view of open conversations, straight
// from Temporal (the session workflows hold the state; nothing is cached elsewhere).
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import {
  abortSession,
  listSessions,
  resetSession,
  SessionNotFoundError,
  sessionHistory,
  type TurnMemo,
  turnMemo,
} from '../../client/sessions.js';
import type { UncertainSendRecord } from '../../workflows/pipeline/pipeline-api.js';
import { printLine, table } from '../output.js';
import { connectFromConfig, type TemporalWhere, withOpened } from '../temporal.js';

export interface SessionsCommandsContext {
  /** A Temporal client, and how to let it go; defaults to the configured server. */
  connect?: () => Promise<{ client: Client; close: () => Promise<void> } & TemporalWhere>;
}

export function registerSessionsCommands(program: Command, ctx: SessionsCommandsContext = {}): void {
  const connect = ctx.connect ?? connectFromConfig;
  const withClient = <T>(cmd: Command, fn: (client: Client, taskQueue?: string) => Promise<T>): Promise<T> =>
    withOpened(
      cmd,
      connect,
      'sessions',
      (error) => (error instanceof SessionNotFoundError ? 'not_found' : undefined),
      (opened) => fn(opened.client, opened.taskQueue),
    );
  const print = printLine;

  const sessions = program
    .command('sessions')
    .description('Conversations the assistant is holding (one session workflow each)');

  sessions
    .command('list')
    .description('Show open sessions, newest first')
    .option('--limit <n>', 'show at most this many', '100')
    .option('--json', 'print JSON')
    .action(async (options: { limit: string; json?: boolean }, cmd: Command) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        return cmd.error(`--limit must be a whole number ≥ 1, got '${options.limit}'`);
      }
      const list = await withClient(cmd, (client, taskQueue) =>
        listSessions(client, { limit, ...(taskQueue ? { taskQueue } : {}) }),
      );
      if (options.json) return print(cmd, JSON.stringify(list, null, 2));
      if (list.length === 0) return print(cmd, 'No open sessions.');
      print(
        cmd,
        table(
          ['SESSION', 'STARTED', 'RUN'],
          list.map((s) => [s.sessionKey, s.startTime.toISOString(), s.runId]),
        ),
      );
    });

  sessions
    .command('show <key>')
    .description('Show the transcript, summary, queue and recent turns of a session')
    .option('--json', 'print JSON')
    .action(async (key: string, options: { json?: boolean }, cmd: Command) => {
      const { history, memos } = await withClient(cmd, async (client) => {
        const history = await sessionHistory(client, key);
        // Turns inside the session carry their usage and uncertain sends on their record; a turn
        // run as a child (or re-run by a reset) keeps them in its memo.
        const memos = await Promise.all(
          history.turns.map(async (t): Promise<TurnMemo> => {
            const onRecord = t.uncertainSends ?? [];
            if (t.inline && !t.rerun)
              return { ...(t.usage ? { usage: t.usage } : {}), uncertainSends: onRecord };
            const memo = await turnMemo(client, t.workflowId);
            return { ...memo, uncertainSends: [...onRecord, ...memo.uncertainSends] };
          }),
        );
        return { history, memos };
      });
      const usage = memos.map((m) => m.usage);
      if (options.json) {
        const turns = history.turns.map((t, i) => ({
          ...t,
          usage: usage[i] ?? null,
          uncertainSends: memos[i]?.uncertainSends ?? [],
        }));
        return print(cmd, JSON.stringify({ ...history, turns }, null, 2));
      }
      const lines = [`Session ${history.sessionKey}`, `Turns: ${history.turnCount}`];
      if (history.summary) lines.push(`Summary: ${history.summary}`);
      if (history.running) lines.push(`Running: ${history.running.workflowId}`);
      if (history.pending.length > 0) {
        lines.push(`Waiting: ${history.pending.map((p) => `${p.messageId} (${p.mode})`).join(', ')}`);
      }
      lines.push('');
      if (history.transcript.length === 0) lines.push('(transcript is empty)');
      for (const entry of history.transcript) {
        const who = entry.role === 'user' ? (entry.senderName ?? entry.senderId ?? 'user') : 'assistant';
        lines.push(
          `${new Date(entry.at).toISOString()}  ${who}${entry.steered ? ' (steer)' : ''}: ${entry.text}`,
        );
      }
      if (history.turns.length > 0) {
        lines.push('', 'Recent turns (tokens in/out, model calls, tool calls, cost):');
        history.turns.forEach((turn, i) => {
          const u = usage[i];
          const cost = u ? `$${u.cost.toFixed(4)}` : '';
          const figures = u
            ? `${u.input}/${u.output} tokens, ${u.modelCalls} model, ${u.toolCalls} tool, ${cost}`
            : 'no agent usage';
          lines.push(`  ${turn.workflowId}  ${turn.status}  ${figures}`);
          for (const send of memos[i]?.uncertainSends ?? [])
            lines.push(`    ! ${describeUncertainSend(send)}`);
        });
      }
      print(cmd, lines.join('\n'));
    });

  sessions
    .command('reset <key>')
    .description('Forget the transcript and summary (re-delivered old messages are still dropped)')
    .action(async (key: string, _options: unknown, cmd: Command) => {
      const { cleared } = await withClient(cmd, (client) => resetSession(client, key));
      print(cmd, `Reset ${key}: ${cleared} transcript ${cleared === 1 ? 'entry' : 'entries'} forgotten.`);
    });

  sessions
    .command('abort <key>')
    .description('Stop the turn that is running (no reply is sent) and drop the messages waiting behind it')
    .option('--keep-queued', 'only stop the running turn; queued messages are still answered')
    .action(async (key: string, options: { keepQueued?: boolean }, cmd: Command) => {
      const result = await withClient(cmd, (client) =>
        abortSession(client, key, { dropPending: !options.keepQueued }),
      );
      const dropped = result.dropped.length;
      if (!result.aborted && dropped === 0)
        return print(cmd, `Nothing to stop in ${key}: no turn is running.`);
      const parts: string[] = [];
      if (result.aborted) parts.push(`stopped ${result.turnIds.join(', ')}`);
      if (dropped > 0) parts.push(`dropped ${dropped} queued message${dropped === 1 ? '' : 's'}`);
      print(cmd, `${key}: ${parts.join('; ')}.`);
    });
}

/** One line on a reply whose send had an unknown outcome: what the person may have missed or got twice. */
export function describeUncertainSend(send: UncertainSendRecord): string {
  const where = `reply to ${send.channel} ${send.chat} (step ${send.step})`;
  const parts: string[] = [];
  const chunks = (list: number[]) => list.map((i) => `${i + 1}/${send.chunks}`).join(', ');
  if (send.uncertain.length > 0)
    parts.push(`chunk ${chunks(send.uncertain)} may not have arrived and was not sent again`);
  if (send.resent.length > 0) {
    parts.push(
      `chunk ${chunks(send.resent)} was sent again${send.policy === 'notice' ? ' with a notice' : ''} and may have arrived twice`,
    );
  }
  return `uncertain send (onUncertain: ${send.policy}): ${where}: ${parts.join('; ')}`;
}

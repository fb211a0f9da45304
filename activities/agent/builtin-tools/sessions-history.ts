/**
 * The agent's `sessions_history` tool: the recent transcript of a conversation (by default the
 * one this turn belongs to), as lines the model can read, with the summary of older turns.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failures } from '../../../engine/failures.js';
import type { AgentToolDefinition, ToolCallContext } from '../tools.js';

export interface SessionTranscript {
  transcript: Array<{ role: string; text: string; at: number }>;
  summary?: string;
}

export interface SessionsHistoryToolOptions {
  /** The session's transcript and summary (wired to the session workflow's `session.history` query). */
  history: (sessionKey: string) => Promise<SessionTranscript>;
  /** The session a turn belongs to, from its run key (`<channel>:<chat id>:<message id>`); undefined if none. */
  currentSession: (runKey: string, ctx: ToolCallContext) => string | undefined | Promise<string | undefined>;
  /** Default 20. */
  defaultLimit?: number;
}

const MAX_LIMIT = 200;
/** One long message should not crowd out the rest. */
const MAX_ENTRY_CHARS = 2_000;

export function createSessionsHistoryTool(options: SessionsHistoryToolOptions): AgentToolDefinition {
  const defaultLimit = options.defaultLimit ?? 20;
  return {
    name: 'sessions_history',
    description:
      'Read the recent messages of a conversation (by default the current one), oldest first, with the ' +
      'summary of older turns. Use it to look up what was said earlier.',
    parameters: {
      type: 'object',
      additionalProperties: false,
      properties: {
        sessionKey: {
          type: 'string',
          description: 'The session to read, e.g. agent:main:telegram:direct:123. Default: the current one.',
        },
        limit: {
          type: 'integer',
          minimum: 1,
          maximum: MAX_LIMIT,
          description: `How many of the most recent messages (default ${defaultLimit}).`,
        },
      },
    },
    timeoutMs: 15_000,
    async execute(args, ctx) {
      const sessionKey =
        typeof args.sessionKey === 'string' && args.sessionKey.trim()
          ? args.sessionKey.trim()
          : await options.currentSession(ctx.runKey, ctx);
      if (!sessionKey) {
        throw ApplicationFailure.nonRetryable(
          'sessions_history: this turn belongs to no session; pass sessionKey',
          Failures.NoSession,
        );
      }
      const limit = Math.max(
        1,
        Math.min(MAX_LIMIT, typeof args.limit === 'number' ? args.limit : defaultLimit),
      );
      let session: SessionTranscript;
      try {
        session = await options.history(sessionKey);
      } catch (error) {
        if ((error as Error)?.name === 'SessionNotFoundError') {
          throw ApplicationFailure.nonRetryable((error as Error).message, Failures.SessionNotFound);
        }
        throw error;
      }
      return formatHistory(sessionKey, session, limit);
    },
  };
}

export function formatHistory(sessionKey: string, session: SessionTranscript, limit: number): string {
  const entries = session.transcript.slice(-limit);
  const total = session.transcript.length;
  const lines = [
    `Session ${sessionKey}: ${entries.length === total ? `all ${total}` : `the last ${entries.length} of ${total}`} messages, oldest first.`,
  ];
  if (session.summary?.trim()) lines.push(`Summary of earlier conversation: ${session.summary.trim()}`);
  for (const entry of entries) {
    const text =
      entry.text.length > MAX_ENTRY_CHARS ? `${entry.text.slice(0, MAX_ENTRY_CHARS)}… [cut]` : entry.text;
    lines.push(
      `[${new Date(entry.at).toISOString().slice(0, 16).replace('T', ' ')}Z] ${entry.role}: ${text}`,
    );
  }
  return lines.join('\n');
}

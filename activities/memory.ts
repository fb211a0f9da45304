/**
 * The memory steps: `memory.recall` (search the agent's notes, small snippets into history) and
 * `memory.remember` (append to the daily note or MEMORY.md, exactly once across retries: the
 * activity's workflow id + activity id is the write's idempotency key, recorded in the note with
 * the entry). Plain functions of their input and the injected MemoryService, so they run as
 * normal or local activities alike. Memory errors become the failures of engine/failures.ts.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Failures } from '../engine/failures.js';
import { MemoryError } from '../memory/errors.js';
import type { MemoryService } from '../memory/service.js';
import type { AppendTarget } from '../memory/workspace-files.js';

export interface MemoryRecallArgs {
  query: string;
  limit?: number;
  /** Whose notes; default `main`. */
  agent?: string;
  min_score?: number;
}

export interface MemoryRememberArgs {
  text: string;
  /** `daily` (default): today's memory/YYYY-MM-DD.md; `long-term`: MEMORY.md. */
  target?: AppendTarget;
  agent?: string;
}

export interface RecallHit {
  text: string;
  /** `<path>#L<start>-L<end>` (OpenClaw's citation form). */
  source: string;
  score: number;
  path: string;
  startLine: number;
  endLine: number;
}

/** A hit's text in history is at most this long: snippets, never whole notes. */
export const RECALL_SNIPPET_CHARS = 500;
const MAX_RECALL = 20;

export interface MemoryActivityDeps {
  /** Absent or disabled: recall finds nothing, remember refuses. */
  memory?: MemoryService;
  now?: () => Date;
}

/** A memory error as the Temporal failure a pipeline can match (retryable ones are retried). */
export function memoryFailure(error: unknown): unknown {
  if (!(error instanceof MemoryError)) return error;
  switch (error.kind) {
    case 'store-unavailable':
      return ApplicationFailure.retryable(error.message, Failures.MemoryStoreUnavailable);
    case 'embedding-unavailable':
      return ApplicationFailure.retryable(error.message, Failures.EmbeddingUnavailable);
    case 'path-refused':
      return ApplicationFailure.nonRetryable(error.message, Failures.MemoryPathRefused);
    default:
      return ApplicationFailure.nonRetryable(error.message, Failures.MemoryConfigError);
  }
}

export function snippet(text: string, max = RECALL_SNIPPET_CHARS): string {
  const flat = text.trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function createMemoryActivities(deps: MemoryActivityDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    async memoryRecall(args: MemoryRecallArgs) {
      const memory = deps.memory;
      if (!memory?.enabled) return { hits: [] as RecallHit[], disabled: true };
      const limit = Math.max(1, Math.min(MAX_RECALL, Math.floor(args.limit ?? 5)));
      try {
        const result = await memory.agent(args.agent ?? 'main').search(args.query ?? '', {
          maxResults: limit,
          ...(args.min_score !== undefined ? { minScore: args.min_score } : {}),
        });
        const hits = result.hits.map(
          (h): RecallHit => ({
            text: snippet(h.text),
            source: `${h.path}#L${h.startLine}-L${h.endLine}`,
            score: Math.round(h.score * 1000) / 1000,
            path: h.path,
            startLine: h.startLine,
            endLine: h.endLine,
          }),
        );
        return { hits, ...(result.stale ? { stale: true } : {}) };
      } catch (error) {
        throw memoryFailure(error);
      }
    },

    async memoryRemember(args: MemoryRememberArgs) {
      const memory = deps.memory;
      if (!memory?.enabled) {
        throw ApplicationFailure.nonRetryable(
          'memory is disabled on this worker (memory.enabled: false): nothing was written',
          Failures.MemoryConfigError,
        );
      }
      if (!args.text?.trim()) {
        throw ApplicationFailure.nonRetryable(
          'memory.remember: text is empty; nothing to write',
          Failures.EmptyMemory,
        );
      }
      const info = Context.current().info;
      try {
        return await memory.agent(args.agent ?? 'main').append({
          target: args.target ?? 'daily',
          text: args.text,
          key: `${info.workflowExecution?.workflowId ?? 'standalone'}/${info.activityId}`,
          at: now(),
        });
      } catch (error) {
        throw memoryFailure(error);
      }
    },
  };
}

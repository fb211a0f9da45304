/**
 * The agent's `memory_append` tool: writes what should be remembered to today's daily note
 * (memory/YYYY-MM-DD.md) or to MEMORY.md (long-term: preferences, people, decisions), then
 * indexes it. Runs as the tool-call activity, exactly once across retries: the call's
 * idempotency key is recorded in the note with the entry, and a retry that finds it writes nothing.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failures } from '../../../engine/failures.js';
import { memoryFailure } from '../../memory.js';
import type { AgentToolDefinition } from '../tools.js';
import type { MemoryToolOptions } from './memory-search.js';

export function createMemoryAppendTool(
  options: MemoryToolOptions & { now?: () => Date },
): AgentToolDefinition {
  const now = options.now ?? (() => new Date());
  return {
    name: 'memory_append',
    description:
      'Remember something for later conversations: appends it to memory. target "long-term" (MEMORY.md) for ' +
      'durable facts, preferences, people and decisions; "daily" (default, memory/YYYY-MM-DD.md) for running ' +
      'notes and context. Write a self-contained sentence ("Ada\'s daughter is called Ana."). When someone says ' +
      '"remember this", write it.',
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['text'],
      properties: {
        text: { type: 'string', minLength: 1, maxLength: 4000 },
        target: { type: 'string', enum: ['daily', 'long-term'] },
      },
    },
    timeoutMs: 60_000,
    async execute(args, ctx) {
      const text = String(args.text ?? '').trim();
      if (!text) {
        throw ApplicationFailure.nonRetryable(
          'memory_append: text is empty; nothing to remember',
          Failures.EmptyMemory,
        );
      }
      const agent = options.agentOf?.(ctx) ?? 'main';
      try {
        const result = await options.memory.agent(agent).append({
          target: args.target === 'long-term' ? 'long-term' : 'daily',
          text,
          key: ctx.idempotencyKey,
          at: now(),
        });
        return {
          content: [{ type: 'text', text: `Saved to ${result.path}.` }],
          details: result,
        };
      } catch (error) {
        throw memoryFailure(error);
      }
    },
  };
}

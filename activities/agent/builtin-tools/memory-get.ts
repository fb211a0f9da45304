/**
 * The agent's `memory_get` tool, with OpenClaw's name and shape: a memory file (MEMORY.md or
 * memory/*.md, as memory_search returns them) and optionally `from` (1-based line) and `lines`;
 * returns that text. Anything outside the memory files is refused.
 */
import { memoryFailure } from '../../memory.js';
import type { AgentToolDefinition } from '../tools.js';
import type { MemoryToolOptions } from './memory-search.js';

export function createMemoryGetTool(options: MemoryToolOptions): AgentToolDefinition {
  return {
    name: 'memory_get',
    description:
      'Safe snippet read from MEMORY.md or memory/*.md with optional from/lines; use after memory_search to pull ' +
      'only the needed lines and keep context small.',
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        path: { type: 'string', minLength: 1 },
        from: { type: 'number', minimum: 1 },
        lines: { type: 'number', minimum: 1 },
      },
    },
    timeoutMs: 15_000,
    async execute(args, ctx) {
      const agent = options.agentOf?.(ctx) ?? 'main';
      try {
        const read = await options.memory
          .agent(agent)
          .read(
            String(args.path),
            typeof args.from === 'number' ? args.from : undefined,
            typeof args.lines === 'number' ? args.lines : undefined,
          );
        return { content: [{ type: 'text', text: JSON.stringify(read, null, 2) }], details: read };
      } catch (error) {
        throw memoryFailure(error);
      }
    },
  };
}

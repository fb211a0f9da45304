/**
 * The agent's `memory_search` tool, with OpenClaw's name and shape: a query (and optionally
 * maxResults, minScore) in; ranked snippets out, each with its path, line range and score, so
 * the model can read more with `memory_get`.
 */

import type { MemoryService } from '../../../memory/service.js';
import { memoryFailure, snippet } from '../../memory.js';
import type { AgentToolDefinition, ToolCallContext } from '../tools.js';

export interface MemoryToolOptions {
  memory: MemoryService;
  /** Whose notes a call reads or writes (from the turn it belongs to); default `main`. */
  agentOf?: (ctx: ToolCallContext) => string | undefined;
}

/** OpenClaw's snippet length. */
const SNIPPET_CHARS = 700;

export function createMemorySearchTool(options: MemoryToolOptions): AgentToolDefinition {
  return {
    name: 'memory_search',
    description:
      'Mandatory recall step: search MEMORY.md + memory/*.md (semantic and keyword) before answering questions ' +
      'about prior work, decisions, dates, people, preferences, or todos; returns top snippets with path + lines.',
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['query'],
      properties: {
        query: { type: 'string', minLength: 1 },
        maxResults: { type: 'number', minimum: 1, maximum: 50 },
        minScore: { type: 'number', minimum: 0, maximum: 1 },
      },
    },
    timeoutMs: 60_000,
    async execute(args, ctx) {
      const agent = options.agentOf?.(ctx) ?? 'main';
      try {
        const { hits, stale } = await options.memory.agent(agent).search(String(args.query), {
          ...(typeof args.maxResults === 'number' ? { maxResults: args.maxResults } : {}),
          ...(typeof args.minScore === 'number' ? { minScore: args.minScore } : {}),
        });
        const results = hits.map((h) => ({
          path: h.path,
          startLine: h.startLine,
          endLine: h.endLine,
          score: Math.round(h.score * 1000) / 1000,
          snippet: snippet(h.text, SNIPPET_CHARS),
          source: 'memory',
          citation: `${h.path}#L${h.startLine}-L${h.endLine}`,
        }));
        const provider = options.memory.describe();
        return {
          content: [
            {
              type: 'text',
              text: JSON.stringify(
                { results, model: provider.embedder, ...(stale ? { stale: true } : {}) },
                null,
                2,
              ),
            },
          ],
          details: { results },
        };
      } catch (error) {
        throw memoryFailure(error);
      }
    },
  };
}

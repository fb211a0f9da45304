/**
 * The agent's activities: prepare a turn (workspace files, models, tools), call a model,
 * call a tool. `createAgentActivities(deps)` receives everything from outside, so tests
 * hand in local fake providers at the wire and real files.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failures } from '../../engine/failures.js';
import type {
  AgentDelta,
  ModelCallInput,
  PreparedTurn,
  PrepareTurnInput,
  ToolCallInput,
} from '../../workflows/agent/agent-api.js';
import { AgentConfigError, type AgentModelsConfig } from './config.js';
import { configFailure } from './errors.js';
import type { LocalModels } from './local-model.js';
import { callModel, type DeltaSink } from './model-call.js';
import { modelInfo, resolveModel } from './models.js';
import { type AgentSkillsDeps, READ_TOOL, skillsForTurns } from './skills.js';
import { type AgentToolDefinition, callTool, checkToolApproval, toolSpec } from './tools.js';
import { buildSystemPrompt } from './workspace.js';

export type * from '../../workflows/agent/agent-api.js';
export type { AgentModelsConfig } from './config.js';
export { AgentConfigError, loadAgentModelsConfig, parseModelRef } from './config.js';
export { LocalModelError, type LocalModelSpec, LocalModels } from './local-model.js';
export type { DeltaSink } from './model-call.js';
export type { AgentSkillsDeps } from './skills.js';
export type { AgentToolDefinition, ToolCallContext } from './tools.js';

export interface AgentActivityDeps {
  /** Providers and agents (see loadAgentModelsConfig); a function so each call sees the current config. */
  config: AgentModelsConfig | (() => AgentModelsConfig);
  /** Where API keys named by `apiKey: { env }` are read. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Receives live token deltas; connect it to the gateway. Never blocks, never in history. */
  onDelta?: DeltaSink;
  tools?: AgentToolDefinition[];
  /**
   * The agent's skills (SKILL.md folders): listed in the system prompt, read with the `read`
   * tool, which is added to the tools. Absent: no skills.
   */
  skills?: AgentSkillsDeps;
  /** Reads blob-store images a model call refers to (the worker's media store). */
  readBlob?: (sha256: string) => Promise<Buffer>;
  /** The model that describes images for this agent when its own cannot see (agents[].media.vision, media.vision). */
  imageDescriber?: (agent: string) => string | undefined;
  /**
   * Runs the GGUF models of llama-cpp providers in this process (one per worker, closed at its
   * shutdown). Absent: a llama-cpp model fails with ModelConfigError.
   */
  local?: LocalModels;
}

const DEFAULT_RESERVE = 16_384;

export function createAgentActivities(deps: AgentActivityDeps) {
  const config = typeof deps.config === 'function' ? deps.config : () => deps.config as AgentModelsConfig;
  const env = deps.env ?? process.env;
  const tools = new Map((deps.tools ?? []).map((t) => [t.name, t]));
  const skills = deps.skills
    ? skillsForTurns(deps.skills, () => config().agents.map((a) => a.workspace))
    : undefined;
  if (skills && !tools.has(READ_TOOL)) tools.set(READ_TOOL, skills.readTool());

  return {
    /** Reads the agent's workspace files and resolves its models (no keys) and tools. */
    async agentPrepareTurn(input: PrepareTurnInput): Promise<PreparedTurn> {
      const current = config();
      const agent = current.agents.find((a) => a.id.toLowerCase() === input.agent.toLowerCase());
      if (!agent) {
        throw ApplicationFailure.nonRetryable(
          `no agent '${input.agent}' in the config (agents: ${current.agents.map((a) => a.id).join(', ') || 'none'})`,
          Failures.UnknownAgent,
        );
      }
      const settings = agent.model;
      const primary = input.model ?? settings?.primary;
      if (!primary) {
        throw ApplicationFailure.nonRetryable(
          `agent '${agent.id}' has no model: set agents[].model (e.g. model: anthropic/claude-sonnet-4-5)`,
          Failures.ModelConfigError,
        );
      }
      let models: PreparedTurn['models'];
      try {
        const refs = [primary, ...(settings?.fallbacks ?? []).filter((r) => r !== primary)];
        models = refs.map((ref) => modelInfo(ref, resolveModel(ref, current)));
      } catch (err) {
        if (err instanceof AgentConfigError) throw configFailure(err);
        throw err;
      }
      const unknown = (input.tools ?? []).filter((name) => !tools.has(name));
      if (unknown.length > 0) {
        throw ApplicationFailure.nonRetryable(`unknown tools: ${unknown.join(', ')}`, Failures.UnknownTool);
      }
      const off = (input.tools ?? []).flatMap((name) => {
        const why = tools.get(name)!.unavailable?.();
        return why ? [`${name} (${why})`] : [];
      });
      if (off.length > 0) {
        throw ApplicationFailure.nonRetryable(`tools that are off: ${off.join('; ')}`, Failures.UnknownTool);
      }
      let selected = input.tools
        ? input.tools.map((name) => tools.get(name)!)
        : [...tools.values()].filter((t) => !t.unavailable?.());
      const window = Math.min(...models.map((m) => m.contextWindow));
      const prompt = await buildSystemPrompt(agent.workspace);
      const offered = skills
        ? await skills.forTurn(
            agent.workspace,
            selected.map((t) => t.name),
          )
        : undefined;
      // `read` only opens skills: without one to read, a turn that did not ask for it goes without.
      if (skills && !input.tools && offered?.names.length === 0) {
        selected = selected.filter((t) => t.name !== READ_TOOL);
      }
      const vision = deps.imageDescriber?.(agent.id);
      return {
        agent: agent.id,
        systemPrompt: offered?.section ? `${prompt.systemPrompt}\n\n${offered.section}` : prompt.systemPrompt,
        contextFiles: prompt.contextFiles,
        ...(offered && offered.names.length > 0 ? { skills: offered.names } : {}),
        models,
        thinking: settings?.thinking ?? 'off',
        ...(settings?.maxTokens !== undefined ? { maxTokens: settings.maxTokens } : {}),
        ...(settings?.temperature !== undefined ? { temperature: settings.temperature } : {}),
        contextReserve: settings?.contextReserve ?? Math.min(DEFAULT_RESERVE, Math.floor(window / 4)),
        tools: selected.map(toolSpec),
        ...(vision ? { vision } : {}),
      };
    },

    /** One model call (streams deltas to onDelta, heartbeats, classifies failures). */
    agentModelCall(input: ModelCallInput) {
      return callModel(input, {
        config,
        env,
        ...(deps.onDelta ? { onDelta: deps.onDelta } : {}),
        ...(deps.readBlob ? { readBlob: deps.readBlob } : {}),
        ...(deps.local ? { local: deps.local } : {}),
      });
    },

    /** Whether one call of a `per-call` tool (exec) runs by itself, waits for the owner, or is refused. */
    agentToolApproval(input: ToolCallInput) {
      return checkToolApproval(input, tools);
    },

    /** One tool call; its start and end are pushed to onDelta (clients show "using <tool>…"). */
    async agentToolCall(input: ToolCallInput) {
      const tell = (delta: Extract<AgentDelta, { type: 'tool' }>) => {
        try {
          void Promise.resolve(deps.onDelta?.(input.runKey, delta)).catch(() => {});
        } catch {
          // Live events are best-effort: never a reason for a tool call to fail.
        }
      };
      const event = { type: 'tool' as const, name: input.tool, toolCallId: input.toolCallId };
      tell({ ...event, phase: 'start' });
      try {
        const result = await callTool(input, tools);
        tell({ ...event, phase: 'end' });
        return result;
      } catch (error) {
        tell({ ...event, phase: 'end', isError: true });
        throw error;
      }
    },
  };
}

export type AgentActivities = ReturnType<typeof createAgentActivities>;

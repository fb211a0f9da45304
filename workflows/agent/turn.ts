/**
 * One agent turn, inside the workflow: pi-agent-core's `runAgentLoop` (not `agentLoop`, whose
 * detached promise leaves a cancelled workflow stuck) with every model call and every tool
 * call as its own activity. Deterministic: the workspace files, models and tools come from
 * the `agentPrepareTurn` activity; the transcript and summary come in as input.
 */
import { Failures } from '../../engine/failures.js';
import './structured-clone.js';
import { type AgentMessage, runAgentLoop } from '@mariozechner/pi-agent-core';
import type { Api, AssistantMessage, Message, Model, UserMessage } from '@mariozechner/pi-ai';
import { ApplicationFailure, upsertMemo, workflowInfo } from '@temporalio/workflow';
import { type ModelCallPolicy, prepareActivity } from './activity-options.js';
import type { ModelInfo, ThinkingLevel } from './agent-api.js';
import type { ApprovalNoticeTarget } from './approval-notice.js';
import { assistantText, compactIfNeeded, contextBudget, fitWithinBudget, textTokens } from './compaction.js';
import { callModels, durableStreamFn, type ModelChain } from './models.js';
import { type PipelineToolSet, pipelineAgentTools } from './pipeline-tools.js';
import {
  checkToolOverrides,
  durableTool,
  type ToolCounter,
  type ToolOverride,
  type ToolRun,
} from './tools.js';

/** An attachment as the model reads it (media steps describe or transcribe it earlier). */
export interface AttachmentNote {
  kind?: string;
  name?: string;
  mimeType?: string;
  /** Description, transcript or extracted text. */
  text?: string;
}

/** The `with:` of an `agent.turn` step. */
export interface AgentTurnArgs {
  /** Agent id; default `main`. */
  agent?: string;
  /** The inbound message text. */
  prompt: string;
  attachments?: AttachmentNote[];
  /** Earlier turns (pi-ai messages), as kept by the session workflow. */
  transcript?: Message[];
  summary?: string;
  /** Alternative spelling from the pipeline: `context: { transcript, summary }`. */
  context?: { transcript?: Message[]; summary?: string } | null;
  /** Overrides the agent's primary model for this turn. */
  model?: string;
  thinking?: ThinkingLevel;
  /** Only these tools (by name). */
  tools?: string[];
}

/** Settings from the caller (the pipeline step), not from the model's input. */
export interface AgentTurnContext {
  /** Key for live deltas; default: this workflow's id. */
  runKey?: string;
  modelCall?: ModelCallPolicy;
  /** Per tool name: overrides of the tool's timeout and retry policy. */
  tools?: Record<string, ToolOverride>;
  /** Other pipelines offered as tools (`pipeline_tools:` of the step), besides the registered ones. */
  pipelineTools?: PipelineToolSet;
  /** The chat this turn answers: told once when a tool call waits for approval. Absent: nobody is. */
  notify?: ApprovalNoticeTarget;
}

export interface TurnUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  totalTokens: number;
  /** US dollars, from the models' prices in the config / pi-ai's catalogue. */
  cost: number;
  modelCalls: number;
  toolCalls: number;
}

export interface AgentTurnResult {
  /** The final answer's text. */
  text: string;
  /** Messages this turn added: the user message, assistant messages and tool results. */
  messages: Message[];
  /** What the session should keep: the (possibly compacted) transcript plus this turn. */
  transcript: Message[];
  /** The conversation summary, new when `compacted`. */
  summary?: string;
  compacted: boolean;
  /** The model that gave the final answer. */
  model: string;
  stopReason: AssistantMessage['stopReason'];
  usage: TurnUsage;
}

export async function runAgentTurn(
  args: AgentTurnArgs,
  ctx: AgentTurnContext = {},
): Promise<AgentTurnResult> {
  const runKey = ctx.runKey ?? workflowInfo().workflowId;
  const prepared = await prepareActivity()({
    agent: args.agent ?? 'main',
    ...(args.model ? { model: args.model } : {}),
    ...(args.tools ? { tools: args.tools } : {}),
  });
  // Before any model call: tool_options naming a tool the turn does not offer, or a pipeline
  // tool named like a registered tool, fail the turn here.
  checkToolOverrides(ctx.tools, prepared.tools);
  const counter: ToolCounter = { toolCalls: 0 };
  const toolRun: ToolRun = { runKey, counter, ...(ctx.notify ? { notify: ctx.notify } : {}) };
  const tools = [
    ...prepared.tools.map((spec) => durableTool(spec, ctx.tools?.[spec.name], toolRun)),
    ...(ctx.pipelineTools ? pipelineAgentTools(ctx.pipelineTools, prepared.tools, toolRun) : []),
  ];
  const usage: TurnUsage = emptyUsage();
  let lastModel = prepared.models[0]!.ref;
  const chain: ModelChain = {
    agent: prepared.agent,
    models: prepared.models,
    options: {
      thinking: args.thinking ?? prepared.thinking,
      ...(prepared.maxTokens !== undefined ? { maxTokens: prepared.maxTokens } : {}),
      ...(prepared.temperature !== undefined ? { temperature: prepared.temperature } : {}),
    },
    runKey,
    policy: ctx.modelCall ?? {},
    onAnswer(message, model) {
      addUsage(usage, message);
      lastModel = model;
    },
  };

  const prompt: UserMessage = { role: 'user', content: userText(args), timestamp: Date.now() };
  const window = Math.min(...prepared.models.map((m) => m.contextWindow));
  const budget = contextBudget(window, prepared.contextReserve);
  const compaction = await compactIfNeeded(
    {
      systemPrompt: prepared.systemPrompt,
      transcript: args.transcript ?? args.context?.transcript ?? [],
      ...summaryOf(args),
    },
    [prompt],
    budget,
    (request, maxTokens) => callModels(chain, request, 'compaction', { thinking: 'off', maxTokens }),
  );

  const systemPrompt = compaction.summary
    ? `${prepared.systemPrompt}\n\n## Conversation so far (summary)\n\n${compaction.summary}`
    : prepared.systemPrompt;
  // What every model call of this turn is sent besides its messages: the prompt and tool schemas.
  const fixedTokens =
    textTokens(systemPrompt) +
    textTokens(JSON.stringify(tools.map((t) => ({ n: t.name, d: t.description, p: t.parameters }))));
  const added = (await runAgentLoop(
    [prompt],
    { systemPrompt, messages: compaction.transcript, tools },
    {
      model: loopModel(prepared.models[0]!),
      convertToLlm: llmMessages,
      // Tool results that outgrow the window mid-turn are shortened for the next model call.
      transformContext: async (messages) => fitWithinBudget(messages, fixedTokens, budget),
      toolExecution: 'parallel',
    },
    async () => {},
    undefined,
    durableStreamFn(chain),
  )) as Message[];

  const final = [...added].reverse().find((m): m is AssistantMessage => m.role === 'assistant');
  if (!final || final.stopReason === 'error' || final.stopReason === 'aborted') {
    throw ApplicationFailure.nonRetryable(
      `Agent '${prepared.agent}' ended without an answer: ${final?.errorMessage ?? final?.stopReason ?? 'no reply'}`,
      Failures.AgentTurnFailed,
    );
  }
  usage.toolCalls = counter.toolCalls;
  recordUsage(usage);
  return {
    text: assistantText(final),
    messages: added,
    transcript: [...compaction.transcript, ...added],
    ...(compaction.summary ? { summary: compaction.summary } : {}),
    compacted: compaction.compacted,
    model: lastModel,
    stopReason: final.stopReason,
    usage,
  };
}

function summaryOf(args: AgentTurnArgs): { summary?: string } {
  const summary = args.summary ?? args.context?.summary;
  return summary ? { summary } : {};
}

function userText(args: AgentTurnArgs): string {
  const notes = (args.attachments ?? []).map((a) => {
    const what = [a.kind ?? 'file', a.name, a.mimeType ? `(${a.mimeType})` : undefined]
      .filter(Boolean)
      .join(' ');
    return `[Attachment: ${what}${a.text ? `: ${a.text}` : ''}]`;
  });
  return [args.prompt, ...notes].filter(Boolean).join('\n');
}

function llmMessages(messages: AgentMessage[]): Message[] {
  return messages.filter(
    (m): m is Message => m.role === 'user' || m.role === 'assistant' || m.role === 'toolResult',
  );
}

/** The loop wants a pi-ai Model; only its identity matters here (the activity resolves the real one). */
function loopModel(info: ModelInfo): Model<Api> {
  return {
    id: info.id,
    name: info.id,
    api: info.api,
    provider: info.provider,
    baseUrl: '',
    reasoning: info.reasoning,
    input: ['text'],
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow: info.contextWindow,
    maxTokens: info.maxTokens,
  };
}

function emptyUsage(): TurnUsage {
  return {
    input: 0,
    output: 0,
    cacheRead: 0,
    cacheWrite: 0,
    totalTokens: 0,
    cost: 0,
    modelCalls: 0,
    toolCalls: 0,
  };
}

function addUsage(usage: TurnUsage, message: AssistantMessage): void {
  const u = message.usage;
  usage.input += u.input;
  usage.output += u.output;
  usage.cacheRead += u.cacheRead;
  usage.cacheWrite += u.cacheWrite;
  usage.totalTokens += u.totalTokens;
  usage.cost += u.cost.total;
  usage.modelCalls++;
}

/** Cumulative over the agent turns of this workflow, so `sessions show` can read one memo. */
function recordUsage(usage: TurnUsage): void {
  const previous = workflowInfo().memo?.agentUsage as Partial<TurnUsage> | undefined;
  const total = { ...usage };
  if (previous) {
    for (const key of Object.keys(total) as Array<keyof TurnUsage>) total[key] += previous[key] ?? 0;
  }
  upsertMemo({ agentUsage: total });
}

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
import { ApplicationFailure, log, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { OutgoingFile } from '../../activities/channel-send.js';
import { describeActivity } from '../media/media-activities.js';
import { type ImageRef, imageSize } from '../media/media-api.js';
import { failureText, type ModelCallPolicy, prepareActivity } from './activity-options.js';
import { blobImageData, type ModelInfo, type PreparedTurn, type ThinkingLevel } from './agent-api.js';
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
  /** Model-ready images (media.enrich's `images`): shown to a model that can see, else described or noted. */
  images?: ImageRef[];
  /** Stored files the agent may send back with a `MEDIA: sha256:<hex>` line (the message's attachments, the images). */
  files?: OutgoingFile[];
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
  /** Names the turn in tool idempotency keys and approval ids; default: this workflow's id. */
  key?: string;
  /** The conversation's session key, for tools that read it (sessions_history). */
  session?: string;
  /** Takes the turn's usage; absent: it is added to this workflow's `agentUsage` memo. */
  onUsage?: (usage: TurnUsage) => void;
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
  /** Files the answer carries (its `MEDIA:` lines, taken out of `text`); empty when none. */
  media: OutgoingFile[];
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
  const toolRun: ToolRun = {
    runKey,
    key: ctx.key ?? workflowInfo().workflowId,
    ...(ctx.session ? { session: ctx.session } : {}),
    counter,
    ...(ctx.notify ? { notify: ctx.notify } : {}),
  };
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

  const prompt = await promptMessage(args, prepared);
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
  if (ctx.onUsage) ctx.onUsage(usage);
  else recordUsage(usage);
  const answer = filesIn(assistantText(final), args, added);
  return {
    text: answer.text,
    media: answer.media,
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

/**
 * The user's message: its text, then its images — as images for a model that can see (the
 * model-call activity puts the bytes in), else as descriptions by the agent's vision model, else
 * as an honest note of what the agent is not shown — and, when there are files, how to send one back.
 */
async function promptMessage(args: AgentTurnArgs, prepared: PreparedTurn): Promise<UserMessage> {
  const images = args.images ?? [];
  const sees = prepared.models[0]!.input?.includes('image') === true;
  const parts = [userText(args)];
  if (images.length > 0 && !sees) parts.push(...(await imageNotes(images, prepared.vision)));
  const files = sendableFiles(args);
  if (files.length > 0) {
    parts.push(
      `[Files you can send back: put a line "MEDIA: sha256:<id>" in your answer]\n${files
        .map((f) => `- sha256:${f.sha256} ${f.name ?? f.kind} (${f.mime})`)
        .join('\n')}`,
    );
  }
  const text = parts.filter(Boolean).join('\n\n');
  if (images.length === 0 || !sees) return { role: 'user', content: text, timestamp: Date.now() };
  return {
    role: 'user',
    content: [
      { type: 'text', text },
      ...images.map((image) => ({
        type: 'image' as const,
        data: blobImageData(image.sha256),
        mimeType: image.mime,
      })),
    ],
    timestamp: Date.now(),
  };
}

async function imageNotes(images: ImageRef[], vision: string | undefined): Promise<string[]> {
  return Promise.all(
    images.map(async (image) => {
      const what = `image${image.name ? ` ${image.name}` : ''}: ${imageSize(image)}`;
      if (!vision) return `[${what}, not described: no vision model]`;
      try {
        const described = await describeActivity(`describe ${image.name ?? 'image'}`)({
          image,
          model: vision,
        });
        return `[${what}, described by ${described.model}] ${described.text}`;
      } catch (error) {
        return `[${what}, not described: ${failureText(error)}]`;
      }
    }),
  );
}

/**
 * The files the agent may name: the message's stored attachments (a photo as it was sent, not
 * its model-ready copy) and images made from something else (a video's stills), once each.
 */
function sendableFiles(args: AgentTurnArgs): OutgoingFile[] {
  const files = new Map<string, OutgoingFile>();
  for (const f of args.files ?? []) if (!files.has(f.sha256)) files.set(f.sha256, f);
  for (const i of args.images ?? []) {
    const fromPhoto = i.source !== undefined && files.get(i.source)?.kind === 'image';
    if (!fromPhoto && !files.has(i.sha256)) {
      files.set(i.sha256, {
        sha256: i.sha256,
        mime: i.mime,
        kind: 'image',
        ...(i.name ? { name: i.name } : {}),
      });
    }
  }
  return [...files.values()];
}

const MEDIA_LINE = /^[ \t]*MEDIA:[ \t]*(?:sha256:)?([0-9a-f]{64})[ \t]*$/gim;

/**
 * `MEDIA: sha256:<hex>` lines of the answer, for files of this turn (the message's, and those its
 * tool calls stored: `details.files` of a tool result), taken out of its text.
 */
function filesIn(
  text: string,
  args: AgentTurnArgs,
  added: readonly Message[],
): { text: string; media: OutgoingFile[] } {
  const known = new Map([...sendableFiles(args), ...toolFiles(added)].map((f) => [f.sha256, f]));
  const media: OutgoingFile[] = [];
  const rest = text.replace(MEDIA_LINE, (_line, sha: string) => {
    const file = known.get(sha.toLowerCase());
    if (file && !media.includes(file)) media.push(file);
    else if (!file) log.warn('agent named a file it was not given; not sent', { sha256: sha });
    return '';
  });
  return { text: media.length > 0 || rest !== text ? rest.replace(/\n{3,}/g, '\n\n').trim() : text, media };
}

/** Files this turn's tool calls stored (a browser screenshot): `{ files: OutgoingFile[] }` in a result's details. */
function toolFiles(added: readonly Message[]): OutgoingFile[] {
  const files: OutgoingFile[] = [];
  for (const m of added) {
    if (m.role !== 'toolResult' || m.isError) continue;
    const listed = (m.details as { files?: unknown } | null | undefined)?.files;
    if (!Array.isArray(listed)) continue;
    for (const f of listed as Array<Partial<OutgoingFile> | null>) {
      if (
        typeof f?.sha256 === 'string' &&
        /^[0-9a-f]{64}$/.test(f.sha256) &&
        typeof f.mime === 'string' &&
        f.kind
      ) {
        files.push({ sha256: f.sha256, mime: f.mime, kind: f.kind, ...(f.name ? { name: f.name } : {}) });
      }
    }
  }
  return files;
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
    input: info.input ?? ['text'],
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow: info.contextWindow,
    maxTokens: info.maxTokens,
  };
}

/** A turn's usage before its first model call (also an inline turn's start, in the session). */
export function emptyUsage(): TurnUsage {
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

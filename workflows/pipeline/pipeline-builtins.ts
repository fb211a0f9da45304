/**
 * The two step types that are more than an activity call: `agent.turn` runs the agent loop
 * inside this workflow (each model and tool call its own activity, each pipeline tool call a
 * child workflow; a call waiting for approval is announced in the chat the message came from),
 * and `reply.send` hands the text to the connector's own task queue (workflows/channel/channel-api.ts)
 * with an idempotency key, so a retry never posts twice.
 */
import { patched, proxyActivities, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type {
  ChannelSendActivities,
  OutgoingFile,
  SendToChannelResult,
} from '../../activities/channel-send.js';
import type { InboundMessage } from '../../channels/envelope.js';
import { deltaRunKey } from '../../channels/run-key.js';
import { Failures } from '../../engine/failures.js';
import type { ToolOptionsIR, UsesStep } from '../../engine/ir.js';
import { noUsage } from '../agent/agent-api.js';
import { approvalNoticeTarget } from '../agent/approval-notice.js';
import {
  type AgentTurnArgs,
  type AgentTurnContext,
  type AgentTurnResult,
  type PipelineToolSet,
  runAgentTurn,
  type TurnUsage,
} from '../agent/index.js';
import { channelTaskQueue, SEND_HEARTBEAT_TIMEOUT_MS } from '../channel/channel-api.js';
import type { ImageRef } from '../media/media-api.js';
import { UNCERTAIN_SENDS_MEMO, type UncertainSendRecord } from './pipeline-api.js';
import { stepFailure } from './pipeline-errors.js';
import { temporalRetry } from './pipeline-retry.js';
import type { Scope } from './pipeline-scope.js';

interface TranscriptLine {
  role: 'user' | 'assistant';
  text: string;
  at?: number;
}

export async function runAgentStep(
  step: UsesStep,
  args: Record<string, unknown>,
  scope: Scope,
): Promise<AgentTurnResult> {
  const message = scope.run.input.message as InboundMessage | undefined;
  const extra = contextLines(args.context);
  const turn: AgentTurnArgs = {
    ...(typeof args.agent === 'string' ? { agent: args.agent } : {}),
    prompt: [String(args.prompt ?? ''), ...extra].join('\n\n'),
    ...(Array.isArray(args.attachments) ? { attachments: args.attachments } : {}),
    ...(Array.isArray(args.images) && args.images.length > 0 ? { images: args.images as ImageRef[] } : {}),
    ...(storedFiles(message).length > 0 ? { files: storedFiles(message) } : {}),
    transcript: toAgentMessages(args.transcript),
    ...(typeof args.summary === 'string' && args.summary ? { summary: args.summary } : {}),
    ...(typeof args.model === 'string' ? { model: args.model } : {}),
    ...(typeof args.thinking === 'string' ? { thinking: args.thinking as AgentTurnArgs['thinking'] } : {}),
    ...(Array.isArray(args.tools) ? { tools: args.tools as string[] } : {}),
  };
  const { run } = scope;
  // Live deltas are keyed by the message being answered: `<channel>:<chat>:<message id>`.
  const runKey = message
    ? deltaRunKey(message.channel, message.chat.id, message.messageId)
    : `${run.key}:${step.id}`;
  const notify = approvalNoticeTarget(message);
  const usage = run.usage;
  return runAgentTurn(turn, {
    runKey,
    key: run.key,
    ...(run.input.session ? { session: run.input.session } : {}),
    ...(usage ? { onUsage: (u: TurnUsage) => addUsage(usage, u) } : {}),
    ...(notify ? { notify } : {}),
    ...(step.pipelineTools?.length ? { pipelineTools: pipelineToolSet(step, scope) } : {}),
    ...(step.toolOptions ? { tools: toolOverrides(step.toolOptions) } : {}),
  });
}

/** `tool_options:` of the step, in the agent loop's terms; what it does not set stays the tool's own. */
function toolOverrides(options: Record<string, ToolOptionsIR>): NonNullable<AgentTurnContext['tools']> {
  const out: NonNullable<AgentTurnContext['tools']> = {};
  for (const [name, o] of Object.entries(options)) {
    const r = o.retry;
    out[name] = {
      ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}),
      ...(r
        ? {
            retry: {
              ...(r.maximumAttempts !== undefined ? { maximumAttempts: r.maximumAttempts } : {}),
              ...(r.initialInterval !== undefined ? { initialIntervalMs: r.initialInterval } : {}),
              ...(r.backoffCoefficient !== undefined ? { backoffCoefficient: r.backoffCoefficient } : {}),
              ...(r.maximumInterval !== undefined ? { maximumIntervalMs: r.maximumInterval } : {}),
            },
          }
        : {}),
      ...(o.approval ? { approval: o.approval } : {}),
      ...(o.approvalTimeout !== undefined ? { approvalTimeoutMs: o.approvalTimeout } : {}),
    };
  }
  return out;
}

/** The step's pipeline tools with the IR they run, the message and env their children get. */
function pipelineToolSet(step: UsesStep, scope: Scope): PipelineToolSet {
  const { run } = scope;
  const tools = step.pipelineTools ?? [];
  // Unique child ids when the step runs more than once (inside foreach), as `call:` does.
  const n = (run.childRuns.get(`tools:${step.id}`) ?? 0) + 1;
  run.childRuns.set(`tools:${step.id}`, n);
  const pipelines: PipelineToolSet['pipelines'] = {};
  for (const tool of tools) {
    const ir = run.ir.calls[tool.pipeline];
    if (ir) pipelines[tool.pipeline] = ir;
  }
  return {
    tools,
    pipelines,
    ...(run.input.message !== undefined ? { message: run.input.message } : {}),
    ...(run.input.env ? { env: run.input.env } : {}),
    // From the first run id, not the workflow id, like `call:` (replayers may use another id).
    idBase: `${workflowInfo().firstExecutionRunId}-${step.id}${n > 1 ? `-${n}` : ''}`,
  };
}

export async function runReplySend(
  step: UsesStep,
  args: Record<string, unknown>,
  scope: Scope,
): Promise<SendToChannelResult & { channel: string; chat: string }> {
  const message = scope.run.input.message as InboundMessage | undefined;
  const channel = str(args.channel) ?? message?.channel;
  const chat = str(args.chat) ?? message?.chat.id;
  if (!channel || !chat) {
    throw stepFailure(
      Failures.InvalidReplyTarget,
      'reply.send needs `channel` and `chat` (or a message to answer, whose chat is the default)',
      step.id,
    );
  }
  const text = String(args.text ?? '');
  const media = outgoingFiles(args.media);
  if (!text.trim() && media.length === 0)
    return { channel, chat, messageIds: [], chunks: 0, skipped: 0, uncertain: [] };
  const sameChat = !!message && message.channel === channel && message.chat.id === chat;
  const { answers } = scope.run;
  if (sameChat && answers && str(args.thread) === undefined && media.length === 0) {
    // The caller takes the answer (the session's `session.turn` update): nothing to post. A reply
    // with files still goes through the channel, which knows how to deliver them.
    answers.push({ text, ...(args.kind === 'error' ? { kind: 'error' as const } : {}) });
    return { channel, chat, messageIds: [], chunks: 0, skipped: 0, uncertain: [] };
  }
  const replyTo = str(args.reply_to) ?? (sameChat ? message.messageId : undefined);
  const thread = str(args.thread) ?? (sameChat ? message.chat.threadId : undefined);
  // The same step can send more than once (inside foreach): each send gets its own key.
  const n = (scope.run.childRuns.get(`reply:${step.id}`) ?? 0) + 1;
  scope.run.childRuns.set(`reply:${step.id}`, n);
  const { sendToChannel } = proxyActivities<ChannelSendActivities>({
    taskQueue: channelTaskQueue(workflowInfo().taskQueue, channel),
    startToCloseTimeout: step.timeout ?? 60_000,
    heartbeatTimeout: SEND_HEARTBEAT_TIMEOUT_MS,
    retry: temporalRetry(step.retry),
    summary: `reply to ${channel} ${chat}`,
  });
  const result = await sendToChannel({
    channel,
    accountId: str(args.account) ?? (message?.channel === channel ? message.accountId : 'default'),
    chatId: chat,
    text,
    ...(replyTo ? { replyToMessageId: replyTo } : {}),
    ...(thread ? { threadId: thread } : {}),
    idempotencyKey: `${scope.run.key}:${step.id}${n > 1 ? `:${n}` : ''}`,
    ...(args.kind === 'error' ? { kind: 'error' as const } : {}),
    ...(media.length > 0 ? { media } : {}),
  });
  const resent = result.resent ?? [];
  // A send whose outcome was unknown is recorded on the turn (memo `uncertainSends`: the Temporal
  // UI, `switchyard sessions show`). Patched: histories recorded before replay without the memo.
  // A turn inside its session keeps them on its turn record instead (no command, no patch).
  const uncertainSends = scope.run.uncertainSends;
  if (result.uncertain.length > 0 || resent.length > 0) {
    const record: UncertainSendRecord = {
      step: step.id,
      channel,
      chat,
      chunks: result.chunks,
      uncertain: result.uncertain,
      resent,
      policy: result.onUncertain ?? 'skip',
    };
    if (uncertainSends) uncertainSends.push(record);
    else if (patched('uncertain-send-memo')) {
      const earlier = workflowInfo().memo?.[UNCERTAIN_SENDS_MEMO];
      upsertMemo({ [UNCERTAIN_SENDS_MEMO]: [...(Array.isArray(earlier) ? earlier : []), record] });
    }
  }
  return { ...result, channel, chat };
}

/** The message's attachments that are in the blob store, as files a reply may carry. */
function storedFiles(message: InboundMessage | undefined): OutgoingFile[] {
  return (message?.attachments ?? [])
    .filter((a) => a.sha256 && !a.error)
    .map((a) => ({ sha256: a.sha256!, mime: a.mime, kind: a.kind, ...(a.name ? { name: a.name } : {}) }));
}

/** `media:` of reply.send: files by address (`{sha256, mime, kind?, name?}`, as agent.turn's `media` gives them). */
function outgoingFiles(value: unknown): OutgoingFile[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v) => {
    const f = (v ?? {}) as Partial<OutgoingFile>;
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256) || typeof f.mime !== 'string')
      return [];
    return [
      {
        sha256: f.sha256,
        mime: f.mime,
        kind: f.kind ?? (f.mime.startsWith('image/') ? 'image' : 'file'),
        ...(typeof f.name === 'string' ? { name: f.name } : {}),
      },
    ];
  });
}

function addUsage(total: TurnUsage, usage: TurnUsage): void {
  for (const key of Object.keys(total) as Array<keyof TurnUsage>) total[key] += usage[key];
}

/** The session keeps `{role, text}` lines; the agent wants pi-ai messages. */
function toAgentMessages(value: unknown): AgentTurnArgs['transcript'] {
  if (!Array.isArray(value)) return [];
  return (value as TranscriptLine[])
    .filter(
      (line) => line && (line.role === 'user' || line.role === 'assistant') && typeof line.text === 'string',
    )
    .map((line) =>
      line.role === 'user'
        ? { role: 'user' as const, content: line.text, timestamp: line.at ?? 0 }
        : {
            role: 'assistant' as const,
            content: [{ type: 'text' as const, text: line.text }],
            api: 'openai-completions' as const,
            provider: 'transcript',
            model: 'transcript',
            usage: noUsage(),
            stopReason: 'stop' as const,
            timestamp: line.at ?? 0,
          },
    );
}

/** What the pipeline gathered for the turn (media descriptions, memories), as prompt text. */
function contextLines(context: unknown): string[] {
  if (!context || typeof context !== 'object') return [];
  const { media, memories } = context as { media?: unknown; memories?: unknown };
  const lines: string[] = [];
  if (typeof media === 'string' && media.trim()) lines.push(`[Attachments]\n${media.trim()}`);
  if (Array.isArray(memories) && memories.length > 0) {
    lines.push(`[Things you remember]\n${memories.map((m) => `- ${String(m)}`).join('\n')}`);
  }
  return lines;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Keeping a conversation inside the model's window: when system prompt + summary + transcript +
 * the new message would exceed (window − reserve), the older turns are folded into the summary
 * by one model call and only the recent turns are kept. Pure and deterministic (the model call
 * is passed in), so it runs in the workflow and in plain unit tests alike.
 */
import type { AssistantMessage, Message, ToolResultMessage } from '@mariozechner/pi-ai';
import type { ModelContext } from './agent-api.js';

/** Characters per token: a deliberately cautious estimate that needs no tokenizer. */
const CHARS_PER_TOKEN = 4;
const IMAGE_TOKENS = 1200;
/** Share of the budget the kept recent turns may use, leaving room for the turn that follows. */
const KEEP_SHARE = 0.4;
/** Largest summary, as a share of the budget. */
const SUMMARY_SHARE = 0.15;

export function textTokens(text: string | undefined): number {
  return text ? Math.ceil(text.length / CHARS_PER_TOKEN) : 0;
}

export function messageTokens(message: Message): number {
  if (message.role === 'user' && typeof message.content === 'string') return textTokens(message.content) + 4;
  let tokens = 4;
  for (const block of message.content as unknown as Array<Record<string, unknown>>) {
    if (block.type === 'text') tokens += textTokens(block.text as string);
    else if (block.type === 'thinking') tokens += textTokens(block.thinking as string);
    else if (block.type === 'toolCall')
      tokens += textTokens(`${block.name}${JSON.stringify(block.arguments)}`);
    else if (block.type === 'image') tokens += IMAGE_TOKENS;
  }
  return tokens;
}

export interface ConversationState {
  systemPrompt: string;
  summary?: string;
  transcript: Message[];
}

/** Estimated tokens of everything sent to the model for `incoming` on top of `state`. */
export function contextTokens(state: ConversationState, incoming: Message[] = []): number {
  let total = textTokens(state.systemPrompt) + textTokens(state.summary);
  for (const m of state.transcript) total += messageTokens(m);
  for (const m of incoming) total += messageTokens(m);
  return total;
}

/** The token budget: the model's window minus the reserve for the answer and tool results. */
export function contextBudget(contextWindow: number, reserve: number): number {
  return Math.max(1024, contextWindow - reserve);
}

export interface CompactionPlan {
  /** Folded into the summary. */
  older: Message[];
  /** Kept verbatim; starts at a user message so tool calls stay next to their results. */
  kept: Message[];
}

/** Undefined when the context fits, or when nothing older than the current turn could be folded. */
export function planCompaction(
  state: ConversationState,
  incoming: Message[],
  budget: number,
): CompactionPlan | undefined {
  if (contextTokens(state, incoming) <= budget) return undefined;
  const fixed = textTokens(state.systemPrompt) + incoming.reduce((n, m) => n + messageTokens(m), 0);
  const keepBudget = Math.max(0, Math.floor(budget * KEEP_SHARE) - fixed);
  const { transcript } = state;
  let cut = transcript.length;
  let used = 0;
  while (cut > 0) {
    const next = used + messageTokens(transcript[cut - 1]!);
    if (next > keepBudget) break;
    used = next;
    cut--;
  }
  // Only cut where a turn starts (a user message), never between a tool call and its result.
  while (cut < transcript.length && transcript[cut]!.role !== 'user') cut++;
  if (cut === 0) return undefined;
  return { older: transcript.slice(0, cut), kept: transcript.slice(cut) };
}

export function summaryMaxTokens(budget: number): number {
  return Math.max(256, Math.min(4096, Math.floor(budget * SUMMARY_SHARE)));
}

const SUMMARY_SYSTEM_PROMPT =
  'You maintain the running summary of a conversation between a user and their assistant. ' +
  'Merge the previous summary with the new part of the conversation into one updated summary: ' +
  'keep facts, decisions, open tasks, preferences and names; drop small talk. ' +
  'Answer with the summary only, as short plain text.';

/** The model request that folds `older` into `previousSummary`. */
export function summaryRequest(
  previousSummary: string | undefined,
  older: Message[],
  budget: number,
): ModelContext {
  // The conversation sent for summarising must itself fit: keep its most recent part.
  const room = Math.max(1000, (budget - summaryMaxTokens(budget) - 512) * CHARS_PER_TOKEN);
  let conversation = older.map(renderMessage).join('\n\n');
  if (conversation.length > room) conversation = `[… earlier part omitted]\n${conversation.slice(-room)}`;
  const text =
    `Previous summary:\n${previousSummary?.trim() || '(none yet)'}\n\n` +
    `New part of the conversation:\n${conversation}\n\nWrite the updated summary.`;
  return { systemPrompt: SUMMARY_SYSTEM_PROMPT, messages: [{ role: 'user', content: text, timestamp: 0 }] };
}

function renderMessage(message: Message): string {
  if (message.role === 'user') {
    const text =
      typeof message.content === 'string'
        ? message.content
        : message.content.map((b) => (b.type === 'text' ? b.text : '[image]')).join('\n');
    return `User: ${text}`;
  }
  if (message.role === 'assistant') {
    const parts = message.content.map((b) =>
      b.type === 'text'
        ? b.text
        : b.type === 'toolCall'
          ? `[called ${b.name} ${JSON.stringify(b.arguments)}]`
          : '',
    );
    return `Assistant: ${parts.filter(Boolean).join('\n')}`;
  }
  const result = message.content.map((b) => (b.type === 'text' ? b.text : '[image]')).join('\n');
  return `Tool ${message.toolName}${message.isError ? ' (error)' : ''}: ${result.length > 2000 ? `${result.slice(0, 2000)}…` : result}`;
}

export function assistantText(message: AssistantMessage): string {
  return message.content
    .filter((b): b is { type: 'text'; text: string } => b.type === 'text')
    .map((b) => b.text)
    .join('');
}

export type Summarise = (request: ModelContext, maxTokens: number) => Promise<AssistantMessage>;

export interface CompactionResult {
  summary?: string;
  transcript: Message[];
  compacted: boolean;
  /** The summarising call's answer (for usage), when one was made. */
  call?: AssistantMessage;
}

/** Folds older turns into the summary when the context would not fit the budget. */
export async function compactIfNeeded(
  state: ConversationState,
  incoming: Message[],
  budget: number,
  summarise: Summarise,
): Promise<CompactionResult> {
  const plan = planCompaction(state, incoming, budget);
  const unchanged = {
    transcript: state.transcript,
    compacted: false,
    ...(state.summary ? { summary: state.summary } : {}),
  };
  if (!plan) return unchanged;
  const maxTokens = summaryMaxTokens(budget);
  const call = await summarise(summaryRequest(state.summary, plan.older, budget), maxTokens);
  let summary = assistantText(call).trim();
  if (!summary) return unchanged;
  const maxChars = maxTokens * CHARS_PER_TOKEN;
  if (summary.length > maxChars) summary = `${summary.slice(0, maxChars - 1)}…`;
  return { summary, transcript: plan.kept, compacted: true, call };
}

/** Characters of a tool result kept when even the newest results must be cut to fit. */
const MIN_RESULT_CHARS = 400;

/**
 * Keeping ONE turn inside the window while it runs: tool results (a fetched page, a long file)
 * can outgrow the budget between model calls, after the turn's start-of-turn compaction.
 * Before each model call the loop hands its messages here (pi-agent-core's `transformContext`):
 * if they fit, they go out unchanged; if not, the results of older tool calls are replaced by a
 * one-line note (oldest first; the model already read them and answered), then — only if that is
 * not enough — the newest results are cut down to what fits. Pure and deterministic; it changes
 * only what this model call is sent, never the turn's own record of the results.
 */
export function fitWithinBudget<M extends { role: string }>(
  messages: M[],
  fixedTokens: number,
  budget: number,
): M[] {
  const tokens = (m: M) => messageTokens(m as unknown as Message);
  let total = fixedTokens + messages.reduce((n, m) => n + tokens(m), 0);
  if (total <= budget) return messages;
  const out = [...messages];
  const results = out.flatMap((m, i) => (m.role === 'toolResult' ? [i] : []));
  if (results.length === 0) return messages;
  // The newest batch: results after the last assistant message (what the model has not seen yet).
  const lastAssistant = out.findLastIndex((m) => m.role === 'assistant');
  const older = results.filter((i) => i < lastAssistant);
  const newest = results.filter((i) => i > lastAssistant);
  for (const i of older) {
    const note = omitted(out[i] as unknown as ToolResultMessage) as unknown as M;
    total += tokens(note) - tokens(out[i]!);
    out[i] = note;
    if (total <= budget) return out;
  }
  // Still too big: share what is left of the budget among the newest results.
  const over = total - budget;
  const newestTokens = newest.reduce((n, i) => n + tokens(out[i]!), 0);
  const keepChars = Math.max(MIN_RESULT_CHARS, (newestTokens - over) * CHARS_PER_TOKEN);
  const perResult = Math.max(MIN_RESULT_CHARS, Math.floor(keepChars / Math.max(1, newest.length)));
  for (const i of newest)
    out[i] = truncated(out[i] as unknown as ToolResultMessage, perResult) as unknown as M;
  return out;
}

function resultText(message: ToolResultMessage): string {
  return message.content.map((b) => (b.type === 'text' ? b.text : '[image]')).join('\n');
}

function omitted(message: ToolResultMessage): ToolResultMessage {
  const size = resultText(message).length;
  const text = `[The result of ${message.toolName} (${size} characters) was read earlier in this turn and is left out here to stay within the model's context window.]`;
  return { ...message, content: [{ type: 'text', text }] };
}

function truncated(message: ToolResultMessage, maxChars: number): ToolResultMessage {
  const text = resultText(message);
  if (text.length <= maxChars) return message;
  // The note counts against the room too, so the cut result is at most `maxChars` long.
  const keep = Math.max(0, maxChars - 100);
  const note = `\n[… cut: ${text.length - keep} more characters left out to fit the model's context window]`;
  return { ...message, content: [{ type: 'text', text: text.slice(0, keep) + note }] };
}

/**
 * The contract between the agent loop (workflows/agent) and its activities. Plain JSON only:
 * everything here crosses Temporal history, so no API key, function or class ever appears.
 */
import type { AssistantMessage, ImageContent, Message, TextContent, Usage } from '@mariozechner/pi-ai';

export type ThinkingLevel = 'off' | 'minimal' | 'low' | 'medium' | 'high';

/** A model as the workflow sees it: enough to budget the context, never how to reach it. */
export interface ModelInfo {
  /** `<provider>/<model id>` as written in the config. */
  ref: string;
  provider: string;
  id: string;
  api: string;
  contextWindow: number;
  maxTokens: number;
  reasoning: boolean;
  /** What the model takes: `image` when it can see. Absent in turns recorded before images. */
  input?: Array<'text' | 'image'>;
}

/** Temporal retry policy in plain numbers (milliseconds). */
export interface RetrySpec {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

/** A tool as the model and the workflow see it; its code stays in the worker. */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
  timeoutMs: number;
  retry: RetrySpec;
  /**
   * `required`: each call waits for the owner's approval (workflows/agent/approval.ts) before it
   * runs. `per-call`: the tool decides for each call (`agentToolApproval`): run, ask, or refuse.
   */
  approval?: 'required' | 'per-call';
  /** The call's activity heartbeats: a worker that dies is noticed after this long, not at the timeout. */
  heartbeatTimeoutMs?: number;
  /** How long to wait for that answer (default 10 minutes); no answer counts as a denial. */
  approvalTimeoutMs?: number;
}

export interface PrepareTurnInput {
  agent: string;
  /** Overrides the agent's primary model for this turn (fallbacks still apply). */
  model?: string;
  /** Only these tools (by name); default: every registered tool. */
  tools?: string[];
}

export interface PreparedTurn {
  agent: string;
  /** Assembled from the agent's workspace files. */
  systemPrompt: string;
  /** Which workspace files went into the prompt (for humans reading history). */
  contextFiles: string[];
  /** The skills the prompt lists (for humans reading history). */
  skills?: string[];
  /** Primary first, then the fallbacks, in order. */
  models: ModelInfo[];
  thinking: ThinkingLevel;
  maxTokens?: number;
  temperature?: number;
  /** Tokens kept free in the window (see compaction). */
  contextReserve: number;
  tools: ToolSpec[];
  /** Model that describes images when the agent's models cannot see them (agents[].media.vision, media.vision). */
  vision?: string;
}

/** What the model sees: pi-ai's Context with tools reduced to their schema. */
export interface ModelContext {
  systemPrompt?: string;
  messages: Message[];
  tools?: Array<{ name: string; description: string; parameters: Record<string, unknown> }>;
}

export interface ModelCallInput {
  /** Model reference; the activity resolves it (and its API key) from config at call time. */
  model: string;
  context: ModelContext;
  options: { thinking?: ThinkingLevel; maxTokens?: number; temperature?: number };
  /** Where live deltas go (the gateway maps it to a chat); usually the message workflow id. */
  runKey: string;
  purpose: 'turn' | 'compaction';
}

export type ModelCallResult = AssistantMessage;

export interface ToolCallInput {
  tool: string;
  toolCallId: string;
  args: Record<string, unknown>;
  runKey: string;
  /** The owner approved this call (set for `per-call` tools, which check it again before running). */
  approved?: boolean;
  /**
   * Stable across retries of this call, unique to it: `<turn>/tool-<n>/<tool call id>`. Absent in
   * calls scheduled before it existed (the activity then uses workflow id + activity id).
   */
  idempotencyKey?: string;
  /** The session key of the conversation the turn belongs to, if any. */
  session?: string;
}

/** A `per-call` tool's answer for one call, before it runs. */
export type ToolApprovalCheck =
  | { approval: 'none' | 'required'; why: string }
  /** Never runs: the model reads this. */
  | { refused: string };

export interface ToolCallResult {
  content: Array<TextContent | ImageContent>;
  /**
   * For people and the workflow, not the model. `{ files: OutgoingFile[] }` (see `toolFiles`):
   * files the tool stored (a browser screenshot) that the answer may send with a `MEDIA:` line.
   */
  details?: unknown;
}

/** A token delta pushed out of band, never through history. */
export type AgentDelta =
  /** A model call (attempt) starts: clients drop any partial text of a failed earlier attempt. */
  | { type: 'start'; model: string; attempt: number; purpose: 'turn' | 'compaction' }
  | { type: 'text' | 'thinking'; delta: string }
  | { type: 'end'; stopReason: string }
  /** A tool call starts or ends (pushed by the tool-call activity). */
  | { type: 'tool'; phase: 'start' | 'end'; name: string; toolCallId: string; isError?: boolean };

/** The usage of a message no model produced (a failed call, a line of the session's transcript). */
export function noUsage(): Usage {
  return {
    input: 0,
    output: 0,
    cacheRead: 0,
    cacheWrite: 0,
    totalTokens: 0,
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
  };
}

/**
 * An image in a model context is its address in the blob store, never its bytes: the `data` of
 * pi-ai's ImageContent holds `blob:sha256:<hex>`, and the model-call activity reads the file and
 * puts the bytes in only for the request it sends.
 */
export const BLOB_IMAGE_PREFIX = 'blob:sha256:';

export function blobImageData(sha256: string): string {
  return `${BLOB_IMAGE_PREFIX}${sha256}`;
}

/** The sha256 an ImageContent's `data` refers to, if it is a blob reference. */
export function blobImageSha256(data: string): string | undefined {
  return data.startsWith(BLOB_IMAGE_PREFIX) ? data.slice(BLOB_IMAGE_PREFIX.length) : undefined;
}

// What the protocol layer asks of the rest of Switchyard. Everything that needs sessions, agents
// or runs (session workflows, message workflows, Temporal Schedules, approvals) lives behind this
// interface; the gateway builds one object and hands it to the plugin. Optional members that are
// absent make their methods answer UNAVAILABLE instead of silence.
import type {
  AgentEvent,
  AgentsListParams,
  ChannelsStatusParams,
  ChatAbortParams,
  ChatEvent,
  ChatHistoryParams,
  ConfigGetParams,
  CronAddParams,
  CronListParams,
  CronRemoveParams,
  CronRunParams,
  CronRunsParams,
  CronStatusParams,
  CronUpdateParams,
  ExecApprovalGetParams,
  ExecApprovalResolveParams,
  ModelsListParams,
  SessionsCompactParams,
  SessionsListParams,
  SessionsPatchParams,
  SessionsPreviewParams,
  SessionsResetParams,
  Snapshot,
  validateAgentParams,
  validateChatSendParams,
  validateSessionsDeleteParams,
} from '@openclaw/gateway-protocol';

/** The type a compiled validator guards, e.g. `Guarded<typeof validateChatSendParams>`. */
export type Guarded<V> = V extends (value: unknown, ...rest: never[]) => value is infer T ? T : never;

export type ChatSendParams = Guarded<typeof validateChatSendParams>;
export type AgentParams = Guarded<typeof validateAgentParams>;
export type SessionsDeleteParams = Guarded<typeof validateSessionsDeleteParams>;

export type JsonObject = { [key: string]: unknown };

/** The `health` object of the hello-ok snapshot and of the `health` method and event. */
export type GatewayHealth = NonNullable<Snapshot['health']>;

export type GatewayRole = 'operator' | 'node';

/** Who sent a request: fixed at `connect`. */
export interface ClientIdentity {
  connId: string;
  clientId: string;
  clientMode: string;
  clientVersion: string;
  platform: string;
  role: GatewayRole;
  scopes: readonly string[];
  deviceId?: string;
  remoteAddress: string;
}

/** Sends run events to the connection that asked; a no-op once it has closed. */
export interface RunEventSink {
  chat(payload: ChatEvent): void;
  agent(payload: AgentEvent): void;
}

export interface RequestContext {
  client: ClientIdentity;
  events: RunEventSink;
  /** Aborted when the requesting connection closes (runs may continue; streaming may stop). */
  signal: AbortSignal;
}

export interface ChatSendResult {
  runId: string;
  status: 'started' | 'in_flight';
}

export interface ChatAbortResult {
  ok: true;
  aborted: boolean;
  runIds: string[];
}

export interface ChatHistoryResult {
  sessionKey: string;
  sessionId?: string;
  messages: unknown[];
  hasMore?: boolean;
  [key: string]: unknown;
}

/** First `res` of the two-phase `agent` method. */
export interface AgentAccepted {
  runId: string;
  status: 'accepted';
  acceptedAt: number;
  sessionKey?: string;
  agentId?: string;
}

/** Second `res` of the `agent` method, sent when the run ends. */
export interface AgentFinal {
  runId: string;
  status: 'ok' | 'error' | 'aborted';
  summary: string;
  result?: { payloads: { text?: string; mediaUrl?: string | null }[]; meta: JsonObject };
  error?: string;
}

export interface AgentRun {
  accepted: AgentAccepted;
  final: Promise<AgentFinal>;
}

type Call<P, R> = (params: P, ctx: RequestContext) => Promise<R>;

export interface GatewayServices {
  /** `health` method, hello-ok snapshot and `health` events. Must satisfy the snapshot schema. */
  health(): GatewayHealth | Promise<GatewayHealth>;
  /** `status` method: a free-form summary (OpenClaw's shape: runtimeVersion, sessions, tasks, …). */
  status(): JsonObject | Promise<JsonObject>;
  /** `channels.status`: every chat account's live state, in OpenClaw's ChannelsStatusResult shape. */
  channelsStatus?: Call<ChannelsStatusParams, JsonObject>;

  /** Starts a turn; the answer streams as `chat` (and `agent`) events through `ctx.events`. */
  chatSend?: Call<ChatSendParams, ChatSendResult>;
  chatHistory?: Call<ChatHistoryParams, ChatHistoryResult>;
  /** Cancels the running turn(s) of a session (or one run). */
  chatAbort?: Call<ChatAbortParams, ChatAbortResult>;
  /** Two-phase run: `accepted` is answered at once, `final` when the run ends. */
  agentRun?: Call<AgentParams, AgentRun>;

  sessionsList?: Call<SessionsListParams, JsonObject>;
  sessionsPreview?: Call<SessionsPreviewParams, JsonObject>;
  sessionsPatch?: Call<SessionsPatchParams, JsonObject>;
  sessionsReset?: Call<SessionsResetParams, JsonObject>;
  sessionsCompact?: Call<SessionsCompactParams, JsonObject>;
  sessionsDelete?: Call<SessionsDeleteParams, JsonObject>;
  agentsList?: Call<AgentsListParams, JsonObject>;
  modelsList?: Call<ModelsListParams, JsonObject>;
  configGet?: Call<ConfigGetParams, JsonObject>;

  cronList?: Call<CronListParams, JsonObject>;
  cronStatus?: Call<CronStatusParams, JsonObject>;
  cronAdd?: Call<CronAddParams, JsonObject>;
  cronUpdate?: Call<CronUpdateParams, JsonObject>;
  cronRemove?: Call<CronRemoveParams, JsonObject>;
  cronRun?: Call<CronRunParams, JsonObject>;
  cronRuns?: Call<CronRunsParams, JsonObject>;

  execApprovalGet?: Call<ExecApprovalGetParams, JsonObject>;
  execApprovalResolve?: Call<ExecApprovalResolveParams, JsonObject>;
}

/** Throw from a service to answer a specific protocol error instead of UNAVAILABLE. */
export class GatewayMethodError extends Error {
  constructor(
    readonly code: 'INVALID_REQUEST' | 'NOT_PAIRED' | 'FORBIDDEN' | 'UNAVAILABLE' | 'APPROVAL_NOT_FOUND',
    message: string,
    readonly details?: JsonObject,
    readonly retryable?: boolean,
  ) {
    super(message);
    this.name = 'GatewayMethodError';
  }
}

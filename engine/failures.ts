/**
 * Every failure name Switchyard throws, in one place: what a pipeline author matches in
 * `catch: errors:` and `retry.non_retryable`, and what the Temporal UI shows as a failure's type.
 * Sandbox-safe (imports nothing), so workflows, activities and the gateway all spell a name
 * from here. The names are a public contract: recorded histories and users' pipelines match
 * them, so a name never changes; a new failure gets a new entry here, a line in
 * docs/pipelines.md (Failures; test/engine/failures.test.ts checks it) and, if Temporal retries
 * it, a place in RETRYABLE_FAILURES.
 */
export const Failures = {
  // --- the pipeline interpreter (workflows/pipeline/) ---
  /** A step, a `wait_for` or an activity did not finish within its `timeout`. */
  Timeout: 'Timeout',
  /** A `${{ }}` expression failed at run time (a missing field, a wrong type, division by zero). */
  ExpressionError: 'ExpressionError',
  /** The owner denied a step that has `approval: required`, or did not answer in time. */
  StepNotApproved: 'StepNotApproved',
  /** The run's `inputs` do not match the pipeline's `inputs:` declaration. */
  InvalidInputs: 'InvalidInputs',
  /** `foreach: items:` evaluated to something that is not a list. */
  InvalidItems: 'InvalidItems',
  /** `wait: { for: }` evaluated to something that is not a duration. */
  InvalidDuration: 'InvalidDuration',
  /** `wait: { until: }` evaluated to something that is not a timestamp. */
  InvalidTimestamp: 'InvalidTimestamp',
  /** `reply.send` has no `channel`/`chat` and no message to answer. */
  InvalidReplyTarget: 'InvalidReplyTarget',
  /** The IR cannot run (steps that can never start, a missing `call:` target): recompile it. */
  InvalidPipeline: 'InvalidPipeline',
  /** A `uses:` step type this worker does not know (an older worker than the pipeline). */
  UnknownStepType: 'UnknownStepType',
  /** The IR was compiled for another IR version than this worker runs. */
  UnsupportedIR: 'UnsupportedIR',

  // --- the agent turn (activities/agent/, workflows/agent/) ---
  /** `agent:` names no agent of the config. */
  UnknownAgent: 'UnknownAgent',
  /** `tools:` or `tool_options:` names a tool this worker does not register. */
  UnknownTool: 'UnknownTool',
  /** A `pipeline_tools:` entry has the name of a registered tool. */
  PipelineToolConflict: 'PipelineToolConflict',
  /** The agent loop ended without an answer (the model stopped with an error). */
  AgentTurnFailed: 'AgentTurnFailed',
  /** Every model of the agent (the primary and each fallback) failed for good; the message names each error. */
  AgentModelsFailed: 'AgentModelsFailed',
  /** A model call that may succeed if tried again: 429, 408, 409, 5xx, a timeout, a dropped connection, a stall. */
  ModelCallRetryable: 'ModelCallRetryable',
  /** The provider refused the key (401, 403). */
  ModelAuthError: 'ModelAuthError',
  /** The provider rejected the request (any other 4xx). */
  ModelRequestInvalid: 'ModelRequestInvalid',
  /** The conversation does not fit the model's context window. */
  ModelContextOverflow: 'ModelContextOverflow',
  /** No model configured for the agent, a missing key, or an unknown provider. */
  ModelConfigError: 'ModelConfigError',
  /** A llama-cpp provider's model file is missing, unreadable, not GGUF, or cut short (the message names the file and the fix). */
  LocalModelUnavailable: 'LocalModelUnavailable',

  // --- tools ---
  /** `web_fetch` refused the URL (private address, bad scheme, invalid URL) or the page can never be read. */
  WebFetchRefused: 'WebFetchRefused',
  /** `web_fetch` timed out, lost the connection or met a temporary DNS failure. */
  WebFetchFailed: 'WebFetchFailed',
  /** The `message` tool was given empty text and no files. */
  EmptyMessage: 'EmptyMessage',
  /** The `message` tool's target matches several of the owner's chats. */
  MessageTargetAmbiguous: 'MessageTargetAmbiguous',
  /** The `message` tool's target is not one of the chats the owner allowed. */
  MessageTargetRefused: 'MessageTargetRefused',
  /** The `message` tool named a file that is not in the media store (or files where it takes none). */
  MessageFileRefused: 'MessageFileRefused',
  /** `sessions_history` was called outside a session without a `sessionKey`. */
  NoSession: 'NoSession',
  /** `sessions_history` names a session that does not exist. */
  SessionNotFound: 'SessionNotFound',
  /** `read` was asked for a file outside the skill folders, a missing file, or one that is not text. */
  ReadRefused: 'ReadRefused',
  /** The `browser` tool refused a URL (a private address not allowed, not http(s)) or an action the page cannot take (an unknown ref). */
  BrowserRefused: 'BrowserRefused',
  /** A page did not load or an element did not respond within the browser's timeout, or the page went away. */
  BrowserFailed: 'BrowserFailed',
  /** Chromium is not installed or could not start. */
  BrowserUnavailable: 'BrowserUnavailable',
  /** `exec` refused the command: outside the allowlist with `ask: off`, or not a command at all. */
  ExecRefused: 'ExecRefused',
  /** The sandbox cannot run here (bubblewrap missing, user namespaces off) or failed to start the command. */
  ExecUnavailable: 'ExecUnavailable',
  /** The command ran longer than its time limit and was killed. */
  ExecTimedOut: 'ExecTimedOut',
  /** The command printed more than `tools.exec.maxOutputKB` and was stopped. */
  ExecOutputLimit: 'ExecOutputLimit',
  /** A retried call whose command had already started on a worker that stopped: it is not run again, and its result is unknown. */
  ExecOutcomeUnknown: 'ExecOutcomeUnknown',

  // --- memory (memory/, activities/memory.ts, the memory_* tools) ---
  /** The memory store (Qdrant) cannot be reached or answered with a server error; the message says what to fix. */
  MemoryStoreUnavailable: 'MemoryStoreUnavailable',
  /** The embedding provider cannot be reached, is rate-limiting or answered with a server error. */
  EmbeddingUnavailable: 'EmbeddingUnavailable',
  /** Memory cannot work as configured: the local model is not installed, a key is refused, a setting is wrong. */
  MemoryConfigError: 'MemoryConfigError',
  /** `memory_get` or `memory_append` named a path that is not a memory file of the workspace, or one that cannot be read. */
  MemoryPathRefused: 'MemoryPathRefused',
  /** `memory_append` or `memory.remember` was given empty text. */
  EmptyMemory: 'EmptyMemory',

  // --- sending replies (activities/channel-send.ts) ---
  /** No connector of this gateway serves the reply's channel and account. */
  ChannelNotServed: 'ChannelNotServed',
  /** The reply's text is empty. */
  EmptyReply: 'EmptyReply',
  /** The platform was asked but its answer was lost; retried, but that chunk is never sent twice. */
  SendUncertain: 'SendUncertain',
  /** The platform refused the message for good (chat not found, bot blocked, message too long). */
  SendRefused: 'SendRefused',
  /** The platform could not take the message now (rate limit, outage); retried after its delay. */
  SendFailed: 'SendFailed',

  // --- media (activities/media/, workflows/media/) ---
  /** The attachment's file is not in the blob store: never stored (too large, not downloadable) or removed by media.retention. */
  MediaNotFound: 'MediaNotFound',
  /** The file cannot be read as what it is: a corrupt image, sound ffmpeg cannot decode, a password-protected or damaged PDF. */
  MediaUnreadable: 'MediaUnreadable',
  /** This machine lacks what the conversion needs: ffmpeg, the local speech engine, a working provider or vision model. */
  MediaToolMissing: 'MediaToolMissing',
  /** A passing failure: the speech engine restarting, a transcription provider busy or down. */
  MediaUnavailable: 'MediaUnavailable',

  // --- scheduled tasks (activities/schedule.ts, workflows/schedule/) ---
  /** A scheduled task names a pipeline that is not loaded (or does not compile). */
  PipelineNotFound: 'PipelineNotFound',
  /** A task's webhook answered 4xx (except 408 and 429). */
  WebhookRejected: 'WebhookRejected',
  /** A task's webhook answered 408, 429 or 5xx. */
  WebhookUnavailable: 'WebhookUnavailable',
  /** A session task ran on a worker that cannot hand messages to sessions. */
  SessionsUnavailable: 'SessionsUnavailable',
  /** A scheduled task's run failed (the owner was told in chat); what the schedule's workflow ends with. */
  ScheduledTaskFailed: 'ScheduledTaskFailed',

  // --- approvals answered by a client (the CLI, an app), not seen by pipelines ---
  /** An approval answer that is not `{id, decision, reason?}` with decision `approve` or `deny`. */
  InvalidApprovalInput: 'InvalidApprovalInput',
  /** The approval was already approved, denied or timed out. */
  ApprovalAlreadyResolved: 'ApprovalAlreadyResolved',
  /** No pending approval has that id in the workflow. */
  UnknownApproval: 'UnknownApproval',
} as const;

export type FailureName = (typeof Failures)[keyof typeof Failures];

/** The failures Temporal retries (by the activity's retry policy) before a pipeline sees them. */
export const RETRYABLE_FAILURES: readonly FailureName[] = [
  Failures.ModelCallRetryable,
  Failures.WebFetchFailed,
  Failures.MemoryStoreUnavailable,
  Failures.EmbeddingUnavailable,
  Failures.SendUncertain,
  Failures.SendFailed,
  Failures.WebhookUnavailable,
  Failures.MediaUnavailable,
];

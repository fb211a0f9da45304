/**
 * The agent's built-in tools (issue 5): `web_fetch`, `message`, `sessions_history`, `cron`,
 * and memory's `memory_search`, `memory_get`, `memory_append` (issue 14). Each is an
 * AgentToolDefinition factory receiving what it needs from outside; the worker registers them.
 */
export { AddressRefused, type LookupAll, nonPublicKind, type ResolvedAddress } from './address-policy.js';
export { createCronTool, createReminder, type ReminderOrigin, type ReminderRequest } from './cron.js';
export { htmlToText } from './html-text.js';
export { createMemoryAppendTool } from './memory-append.js';
export { createMemoryGetTool } from './memory-get.js';
export { createMemorySearchTool, type MemoryToolOptions } from './memory-search.js';
export {
  createMessageTool,
  type MessageSendInput,
  type MessageTarget,
  type MessageToolOptions,
} from './message.js';
export type { FetchLike } from './pinned-fetch.js';
export {
  createSessionsHistoryTool,
  type SessionsHistoryToolOptions,
  type SessionTranscript,
} from './sessions-history.js';
export { createWebFetchTool, type WebFetchOptions, type WebFetchResult, webFetch } from './web-fetch.js';

/**
 * Where a connector's send activity runs: a task queue per channel, named after the worker
 * task queue the conversation runs on (`<taskQueue>.channel.<id>`, e.g. `switchyard.channel.telegram`).
 * Two installations (or two test runs) sharing a Temporal namespace therefore never serve each
 * other's replies. Public contract: imported by workflows and by the gateway alike.
 */
export function channelTaskQueue(workerTaskQueue: string, channel: string): string {
  return `${workerTaskQueue}.channel.${channel}`;
}

/** Scheduled tasks' runs (workflows/schedule/schedule.ts): answers go to the task's destination, if any. */
export const CRON_CHANNEL = 'cron';
/** OpenClaw's webhooks (/hooks/agent, /hooks/wake): the answer is fetched by run id. */
export const HOOK_CHANNEL = 'hook';
/** The OpenAI-compatible API: the answer is the HTTP response. */
export const OPENAI_CHANNEL = 'openai';

/**
 * Channels whose "chat" is a program waiting for the one answer, not a person reading: their
 * senders take whatever is sent as the answer, so nothing else (an approval notice) goes there.
 */
export const ANSWER_ONLY_CHANNELS: readonly string[] = [CRON_CHANNEL, HOOK_CHANNEL, OPENAI_CHANNEL];

/**
 * Where a connector's send activity runs: a task queue per channel, named after the worker
 * task queue the conversation runs on (`<taskQueue>.channel.<id>`, e.g. `switchyard.channel.telegram`).
 * Two installations (or two test runs) sharing a Temporal namespace therefore never serve each
 * other's replies. Public contract: imported by workflows and by the gateway alike.
 */
export function channelTaskQueue(workerTaskQueue: string, channel: string): string {
  return `${workerTaskQueue}.channel.${channel}`;
}

/**
 * Heartbeat timeout of the send activity (ms). The gateway heartbeats every 2 s while a send is in
 * hand (activities/channel-send.ts), so a gateway that died holding one — or whose poll the server
 * had just matched when it died — is given up on after this long and the send retried by the
 * restarted gateway; its outbox keeps the retry from posting twice. 30 s made every gateway kill
 * stall each reply it held for half a minute (chaos runs: 26 heartbeat timeouts, 1,360 s of 200
 * messages' waiting).
 */
export const SEND_HEARTBEAT_TIMEOUT_MS = 10_000;

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

/**
 * Where a connector's send activity runs: a task queue per channel, named after the worker
 * task queue the conversation runs on (`<taskQueue>.channel.<id>`, e.g. `switchyard.channel.telegram`).
 * Two installations (or two test runs) sharing a Temporal namespace therefore never serve each
 * other's replies. Public contract: imported by workflows and by the gateway alike.
 */
export function channelTaskQueue(workerTaskQueue: string, channel: string): string {
  return `${workerTaskQueue}.channel.${channel}`;
}

// The key under which the live output of an answer travels (worker → gateway relay → the
// connector showing it): the inbound message it answers, `<channel>:<chat id>:<message id>`.
// Pure, with no imports: the workflows (agent.turn), the worker, the gateway and the
// connectors all build or read it here.

/** Identifies one answer in flight: the inbound message it answers, `${channel}:${chatId}:${messageId}`. */
export function deltaRunKey(channel: string, chatId: string, messageId: string): string {
  return `${channel}:${chatId}:${messageId}`;
}

/** The inverse of deltaRunKey (chat ids may contain `:`; channel ids and message ids do not). */
export function parseDeltaRunKey(runKey: string): { channel: string; chatId: string; messageId: string } {
  const first = runKey.indexOf(':');
  const last = runKey.lastIndexOf(':');
  return {
    channel: runKey.slice(0, first),
    chatId: runKey.slice(first + 1, last),
    messageId: runKey.slice(last + 1),
  };
}

// Posting to Slack (chat.postMessage), saying — when it fails — whether Slack certainly did not
// post it, and finding a post again by the key it carries. Slack has no idempotent post: a retry
// of a post whose answer was lost would post twice. So every chunk carries its outbox key as
// message metadata, and a chunk of unknown outcome is looked up in the conversation (history, or
// the thread's replies) before anyone decides: found means sent; not found stays uncertain.
import { webApi } from '@slack/bolt';
import type { ChannelSendOptions, SendRecovery, UnknownOutcome } from '../../activities/channel-send.js';

/** Slack takes 40,000 characters but shows long messages poorly; OpenClaw chunks at 4,000 too. */
export const SLACK_TEXT_LIMIT = 4000;

/** `event_type` of the metadata every reply carries; `event_payload.key` is the chunk's outbox key. */
export const REPLY_METADATA_TYPE = 'switchyard_reply';

/** How far back a look-up reads: the newest messages of a conversation, or of a thread. */
const LOOKUP_PAGE = 200;
const HISTORY_PAGES = 2;
const REPLY_PAGES = 5;

export type SlackSend = (
  chatId: string,
  text: string,
  opts?: ChannelSendOptions,
) => Promise<{ messageId: string }>;

/**
 * A failed post. `notSent` is true only when Slack provably did not post it (it answered with an
 * error, or no connection was made); `permanent` means retrying is pointless. Read structurally by
 * activities/channel-send.ts.
 */
export class SlackSendError extends Error {
  override readonly name = 'SlackSendError';
  constructor(
    message: string,
    readonly notSent: boolean,
    readonly permanent: boolean,
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function createSlackSend(client: webApi.WebClient): SlackSend {
  return async (chatId, text, opts = {}) => {
    try {
      const posted = await client.chat.postMessage({
        channel: chatId,
        text,
        ...(opts.threadId ? { thread_ts: opts.threadId } : {}),
        ...(opts.idempotencyKey
          ? { metadata: { event_type: REPLY_METADATA_TYPE, event_payload: { key: opts.idempotencyKey } } }
          : {}),
      });
      if (!posted.ts) throw new Error('chat.postMessage answered ok without a ts');
      return { messageId: posted.ts };
    } catch (error) {
      throw classifySlackError(error, chatId);
    }
  };
}

/** Finds a post by the outbox key in its metadata; `unknown` when it is not among the newest messages. */
export function createSlackRecover(
  client: webApi.WebClient,
): (chunk: UnknownOutcome) => Promise<SendRecovery> {
  return async ({ chatId, key, opts }) => {
    const threadTs = opts.threadId;
    let cursor: string | undefined;
    const pages = threadTs ? REPLY_PAGES : HISTORY_PAGES;
    for (let page = 0; page < pages; page++) {
      const args = {
        channel: chatId,
        limit: LOOKUP_PAGE,
        include_all_metadata: true,
        ...(cursor ? { cursor } : {}),
      };
      const answer = (
        threadTs
          ? await client.apiCall('conversations.replies', { ...args, ts: threadTs })
          : await client.conversations.history(args)
      ) as {
        messages?: Array<{ ts?: string; metadata?: { event_type?: string; event_payload?: unknown } }>;
      } & {
        response_metadata?: { next_cursor?: string };
      };
      const found = answer.messages?.find(
        (m) =>
          m.metadata?.event_type === REPLY_METADATA_TYPE &&
          (m.metadata.event_payload as { key?: unknown } | undefined)?.key === key,
      );
      if (found?.ts) return { kind: 'sent', messageId: found.ts };
      cursor = answer.response_metadata?.next_cursor || undefined;
      if (!cursor) {
        return {
          kind: 'unknown',
          reason: `no message in ${threadTs ? `thread ${threadTs} of ` : ''}${chatId} carries this chunk's key`,
        };
      }
    }
    return { kind: 'unknown', reason: `not among the newest ${pages * LOOKUP_PAGE} messages of ${chatId}` };
  };
}

/** Platform errors after which Slack may still have done the work ("fatal_error: …some aspect may have succeeded"). */
const MAYBE_DONE = new Set(['fatal_error', 'internal_error', 'request_timeout', 'service_unavailable']);
/** Errors before the request reached Slack: nothing can have been posted. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export function classifySlackError(error: unknown, chatId: string): SlackSendError {
  const coded = error as {
    code?: unknown;
    data?: { error?: string };
    retryAfter?: number;
    statusCode?: number;
  };
  const where = `chat.postMessage to ${chatId}`;
  if (coded?.code === webApi.ErrorCode.PlatformError) {
    const reason = coded.data?.error ?? 'unknown_error';
    const maybe = MAYBE_DONE.has(reason);
    return new SlackSendError(
      `Slack refused ${where}: ${reason}${reason === 'invalid_auth' || reason === 'not_authed' ? ' (check channels.slack.botToken)' : ''}${reason === 'not_in_channel' ? ' (invite the app to the channel)' : ''}`,
      !maybe,
      !maybe && reason !== 'ratelimited',
      undefined,
      { cause: error },
    );
  }
  if (coded?.code === webApi.ErrorCode.RateLimitedError) {
    return new SlackSendError(`${where} was rate limited`, true, false, (coded.retryAfter ?? 1) * 1000, {
      cause: error,
    });
  }
  if (coded?.code === webApi.ErrorCode.HTTPError) {
    // A 5xx may come from a proxy in front of Slack, or after the post was stored: unknown.
    return new SlackSendError(
      `${where} failed with HTTP ${coded.statusCode}; Slack may or may not have posted it`,
      false,
      false,
      undefined,
      { cause: error },
    );
  }
  if (coded?.code === webApi.ErrorCode.RequestError) {
    const code = networkCode((error as { original?: unknown }).original);
    const notSent = code !== undefined && NOT_CONNECTED.has(code);
    return new SlackSendError(
      `${where} failed on the network (${code ?? 'no answer'}); ${notSent ? 'nothing was sent' : 'Slack may or may not have posted it'}`,
      notSent,
      false,
      undefined,
      { cause: error },
    );
  }
  return new SlackSendError(`${where} failed: ${String(error)}`, false, false, undefined, { cause: error });
}

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  return undefined;
}

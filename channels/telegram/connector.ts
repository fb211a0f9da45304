// The Telegram connector: the only code that knows grammY. It receives updates (long polling or a
// webhook), normalises them to InboundMessage, applies the access policy at the door, and hands
// accepted messages to the gateway. It also sends text, for the channel-send activity.
import { randomUUID } from 'node:crypto';
import type { RouteOptions } from 'fastify';
import { Bot, GrammyError } from 'grammy';
import type { Update } from 'grammy/types';
import {
  type AccessStore,
  type ContextOnlyReason,
  decideAccess,
  pairingPrompt,
  type ResolvedChannelPolicy,
} from '../access.js';
import type { AttachmentStore } from '../attachments.js';
import { type InboundMessage, validateInboundMessage } from '../envelope.js';
import type { ConnectorLog } from '../log.js';
import type { ChannelPolicy } from '../routing.js';
import { formatIssues } from '../schema-validation.js';
import type { ConnectorHealth } from '../status.js';
import { createTelegramFiles } from './files.js';
import { normalizeUpdate, TELEGRAM_CHANNEL, type TelegramBotIdentity } from './normalize.js';
import { ALLOWED_UPDATES, type Polling, startPolling } from './polling.js';
import {
  createTelegramSend,
  createTelegramSendFile,
  TELEGRAM_TEXT_LIMIT,
  type TelegramSend,
  TelegramSendError,
  type TelegramSendFile,
} from './send.js';
import {
  createWebhookHandler,
  TELEGRAM_WEBHOOK_PATH,
  WEBHOOK_SECRET_PATTERN,
  type WebhookHandler,
  webhookRoute,
} from './webhook.js';

export type TelegramMode = 'polling' | 'webhook';

export interface TelegramConnectorOptions {
  botToken: string;
  /** Bot API server; https://api.telegram.org unless set (a local Bot API server, or a test double). */
  apiRoot?: string;
  mode: TelegramMode;
  /** Required in webhook mode: Telegram echoes it in X-Telegram-Bot-Api-Secret-Token. */
  webhookSecret?: string;
  /** Public https URL of the webhook route; when set, start() registers it with setWebhook. */
  webhookUrl?: string;
  accountId?: string;
  /** Approved senders and pairing codes (gateway/store/pairing.ts's PairingStore). */
  access: AccessStore;
  policy: ChannelPolicy | ResolvedChannelPolicy | undefined;
  /** An accepted message: start (or signal) its turn. Throwing keeps the update for re-delivery. */
  onInbound(msg: InboundMessage): Promise<void>;
  /** A group message kept as context, not answered. Dropped (logged at debug) when absent. */
  onContext?(msg: InboundMessage, reason: ContextOnlyReason): Promise<void>;
  log: ConnectorLog;
  polling?: { timeoutSeconds?: number; minBackoffMs?: number; maxBackoffMs?: number };
  /** Where the connector reports its state (gateway/channels builds one per account). */
  health?: ConnectorHealth;
  /**
   * Where the attachments of accepted messages are downloaded to (the gateway's blob store).
   * Absent: attachments stay Telegram references (`telegram:file/<id>`) and nothing is downloaded.
   */
  attachments?: AttachmentStore;
  /** The webhook route; default /channels/telegram/webhook (other accounts: /channels/telegram/<id>/webhook). */
  webhookPath?: string;
  /** Webhook mode: how often Telegram is asked whether it can deliver (getWebhookInfo). Default 30 s. */
  webhookCheckMs?: number;
}

export interface TelegramConnector {
  readonly channel: typeof TELEGRAM_CHANNEL;
  readonly accountId: string;
  /** Longest text one sendMessage carries; the channel-send activity chunks to it. */
  readonly textLimit: number;
  /**
   * Learns who the bot is (getMe), then polls, or registers the webhook when webhookUrl is set.
   * Never throws for the platform's sake: a refused token is reported as auth-failed (and start
   * resolves), an unreachable API as reconnecting while it retries in the background.
   */
  start(): Promise<void>;
  /** Stops polling after the update in hand; a webhook stays registered so Telegram keeps queueing. */
  stop(): Promise<void>;
  /** Posts one message (≤ textLimit); failures are TelegramSendError saying whether it was surely not sent. */
  sender: TelegramSend;
  /** Posts a stored file (photo or document); only with `attachments` (the blob store). */
  sendFile?: TelegramSendFile;
  /** Shows "typing…" in a chat for about 5 s (sendChatAction). */
  typing(chatId: string, threadId?: string): Promise<void>;
  /** For fastify: 401 on a wrong secret, 500 when the hand-off failed (Telegram retries). */
  webhookHandler: WebhookHandler;
  /** The same handler as a ready route (POST /channels/telegram/webhook) for `app.route()`. */
  webhookRoute: RouteOptions;
  /** The bot's id and username once started. */
  identity(): TelegramBotIdentity | undefined;
}

export function createTelegramConnector(options: TelegramConnectorOptions): TelegramConnector {
  const { mode, access, policy, onInbound, onContext, log } = options;
  const accountId = options.accountId ?? 'default';
  const health = options.health;
  const webhookPath = options.webhookPath ?? telegramWebhookPath(accountId);
  const secret = options.webhookSecret;
  if (mode === 'webhook' && (secret === undefined || !WEBHOOK_SECRET_PATTERN.test(secret))) {
    throw new Error(
      'channels.telegram.webhookSecret is required in webhook mode: 1-256 characters of A-Z, a-z, 0-9, _ and - ' +
        '(Telegram sends it back with every update, so nobody else can post updates to the gateway).',
    );
  }
  const bot = new Bot(options.botToken, options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {});
  const send = createTelegramSend(bot.api);
  const files = options.attachments
    ? createTelegramFiles({
        api: bot.api,
        botToken: options.botToken,
        ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}),
        store: options.attachments,
      })
    : undefined;
  let identity: TelegramBotIdentity | undefined;
  let polling: Polling | undefined;
  let starting: Promise<void> | undefined;
  let webhookTimer: NodeJS.Timeout | undefined;
  let lastDeliveryAt = 0;
  let stopped = false;
  let settleFirst: () => void = () => {};
  const firstAttempt = new Promise<void>((resolve) => {
    settleFirst = resolve;
  });
  let wake: () => void = () => {};
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function handleUpdate(update: Update): Promise<void> {
    if (!identity) throw new Error('telegram connector: an update arrived before start() finished');
    let normalized: ReturnType<typeof normalizeUpdate>;
    try {
      normalized = normalizeUpdate(update, identity, accountId);
    } catch (error) {
      // An update of a shape Telegram never sends (found by test/fuzz/doors.test.ts): retrying
      // cannot help, and answering the webhook with 500 would make Telegram hold every later update.
      log.error({ err: error, updateId: update.update_id }, 'telegram: update cannot be read; dropped');
      return;
    }
    if (normalized.kind === 'skip') {
      log.debug({ updateId: update.update_id, reason: normalized.reason }, 'telegram: update ignored');
      return;
    }
    const checked = validateInboundMessage(normalized.message);
    if (!checked.ok) {
      // A bug in normalisation, not in the message: retrying cannot help, blocking the chat would.
      log.error(
        { updateId: update.update_id, issues: formatIssues(checked.errors) },
        'telegram: update does not make a valid InboundMessage; dropped',
      );
      return;
    }
    const msg = checked.value;
    health?.inbound();
    if (mode === 'webhook') {
      lastDeliveryAt = Date.now();
      health?.connected();
    }
    const decision = decideAccess(policy, msg, access);
    const where = { updateId: update.update_id, chatId: msg.chat.id, senderId: msg.sender.id };
    switch (decision.kind) {
      case 'accept': {
        // Only now, and only for messages that will be answered: a stranger's file is never fetched.
        const stored = files && msg.attachments.length > 0 ? await files.store(msg.attachments) : undefined;
        for (const ref of stored ?? []) {
          if (ref.error)
            log.warn({ ...where, file: ref.id, reason: ref.error }, 'telegram: attachment not kept');
        }
        await onInbound(stored ? { ...msg, attachments: stored } : msg);
        return;
      }
      case 'context-only':
        if (onContext) await onContext(msg, decision.reason);
        else log.debug({ ...where, reason: decision.reason }, 'telegram: kept as context only');
        return;
      case 'pairing-challenge':
        try {
          await send(msg.chat.id, pairingText(decision.code, decision.expiresAt));
        } catch (error) {
          // Blocked by the stranger, chat gone: retrying would stall every later update. The code
          // stays pending, and their next message sends it again.
          if (!(error instanceof TelegramSendError && error.permanent)) throw error;
          log.warn({ ...where, err: error }, 'telegram: could not send the pairing code; not retrying');
          return;
        }
        log.info({ ...where, isNew: decision.isNew }, 'telegram: sent a stranger their pairing code');
        return;
      case 'reject':
        log.info({ ...where, reason: decision.reason }, 'telegram: message rejected by access policy');
        return;
    }
  }

  // In polling mode nothing may post updates: guard the route with a secret nobody was given.
  const routeSecret = secret ?? randomUUID();
  const webhookHandler = createWebhookHandler({
    secret: routeSecret,
    handle: handleUpdate,
    isReady: () => mode === 'webhook' && identity !== undefined,
    log,
  });

  return {
    channel: TELEGRAM_CHANNEL,
    accountId,
    textLimit: TELEGRAM_TEXT_LIMIT,
    sender: send,
    ...(options.attachments ? { sendFile: createTelegramSendFile(bot.api, options.attachments) } : {}),
    async typing(chatId, threadId) {
      await bot.api.sendChatAction(chatId, 'typing', threadId ? { message_thread_id: Number(threadId) } : {});
    },
    webhookHandler,
    webhookRoute: webhookRoute(webhookHandler, routeSecret, webhookPath),
    identity: () => identity,

    async start() {
      if (identity || starting) return starting;
      stopped = false;
      health?.connecting();
      starting = startWithRetry();
      // The first attempt decides what start() reports; later ones run in the background.
      await Promise.race([starting, firstAttempt]);
    },

    async stop() {
      stopped = true;
      clearInterval(webhookTimer);
      wake();
      await starting?.catch(() => undefined);
      const running = polling;
      polling = undefined;
      await running?.stop();
      health?.stopped();
    },
  };

  async function startWithRetry(): Promise<void> {
    const minBackoff = options.polling?.minBackoffMs ?? 250;
    const maxBackoff = options.polling?.maxBackoffMs ?? 30_000;
    for (let failures = 0; !stopped; failures++) {
      try {
        await startOnce();
        settleFirst();
        return;
      } catch (error) {
        // Telegram answers 401 for a wrong token and 404 for one that names no bot.
        const refused =
          error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404);
        const explained = startError(error);
        if (refused) {
          health?.authFailed(explained, TOKEN_ACTION);
          log.error({ err: explained }, 'telegram: the bot token was refused; not retrying');
          settleFirst();
          return;
        }
        health?.reconnecting(explained);
        const delay = Math.min(maxBackoff, minBackoff * 2 ** failures);
        log.warn({ err: explained, retryInMs: delay }, 'telegram: could not start; retrying');
        settleFirst();
        await pause(delay);
      }
    }
  }

  async function startOnce(): Promise<void> {
    // grammY retries some failures by itself for a long time (a non-JSON answer, say); bound each
    // attempt so a hanging API shows as reconnecting instead of blocking the gateway's start.
    const signal = AbortSignal.timeout(START_TIMEOUT_MS) as Parameters<typeof bot.init>[0];
    try {
      await bot.init(signal);
    } catch (error) {
      if ((signal as AbortSignal).aborted) {
        throw new Error(`no answer from the Telegram Bot API (getMe) within ${START_TIMEOUT_MS / 1000} s`);
      }
      throw error;
    }
    const me = bot.botInfo;
    if (mode === 'polling') {
      // getUpdates is refused while a webhook is registered; switching modes must just work.
      await bot.api.deleteWebhook({ drop_pending_updates: false }, signal);
      identity = { id: me.id, username: me.username };
      if (stopped) return;
      health?.connected();
      polling = startPolling({ api: bot.api, handle: handleUpdate, log, health, ...options.polling });
      log.info({ bot: me.username, accountId }, 'telegram: long polling started');
      return;
    }
    if (options.webhookUrl) {
      await bot.api.setWebhook(
        options.webhookUrl,
        {
          secret_token: secret,
          allowed_updates: [...ALLOWED_UPDATES],
          drop_pending_updates: false,
        },
        signal,
      );
      log.info({ bot: me.username, url: options.webhookUrl, accountId }, 'telegram: webhook registered');
    } else {
      log.info(
        { bot: me.username, accountId },
        'telegram: webhook mode; expecting the webhook to be registered',
      );
    }
    identity = { id: me.id, username: me.username };
    health?.connected();
    watchWebhook();
  }

  // Telegram pushes webhook updates: a webhook it cannot reach looks like silence. Ask it, now and
  // then, whether deliveries fail, and say so instead of "connected".
  function watchWebhook(): void {
    if (!health) return;
    const check = async () => {
      try {
        const info = await bot.api.getWebhookInfo();
        const errorAt = (info.last_error_date ?? 0) * 1000;
        const expected = options.webhookUrl;
        if (expected && info.url !== expected) {
          health.reconnecting(
            new Error(
              `the webhook registered at Telegram is "${info.url}", not ${expected}; restart the gateway to register it again`,
            ),
          );
        } else if (
          info.pending_update_count > 0 &&
          errorAt > lastDeliveryAt &&
          Date.now() - errorAt < 5 * 60_000
        ) {
          health.reconnecting(
            new Error(
              `Telegram cannot deliver updates to the webhook (${info.pending_update_count} waiting): ${info.last_error_message ?? 'unknown error'}`,
            ),
          );
        } else {
          health.connected();
        }
      } catch (error) {
        health.reconnecting(startError(error));
      }
    };
    webhookTimer = setInterval(() => void check(), options.webhookCheckMs ?? 30_000);
    webhookTimer.unref();
  }
}

const START_TIMEOUT_MS = 20_000;

const TOKEN_ACTION =
  'Set channels.telegram.botToken (or TELEGRAM_BOT_TOKEN) to the token @BotFather gave you, then restart the gateway.';

/** The webhook route of an account: the default account keeps the short path. */
export function telegramWebhookPath(accountId: string): string {
  return accountId === 'default' ? TELEGRAM_WEBHOOK_PATH : `/channels/telegram/${accountId}/webhook`;
}

export function pairingText(code: string, expiresAt: number): string {
  return pairingPrompt(TELEGRAM_CHANNEL, code, expiresAt);
}

function startError(error: unknown): Error {
  if (error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404)) {
    return new Error(
      `Telegram rejected the bot token (${error.error_code} ${error.description}): set channels.telegram.botToken or ` +
        'TELEGRAM_BOT_TOKEN to the token @BotFather gave you.',
      { cause: error },
    );
  }
  return new Error(`could not reach the Telegram Bot API: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  });
}

// The WhatsApp connector: the only code that knows baileys (with connection.ts, send.ts and
// auth-state.ts beside it). New messages are normalised to InboundMessage, the access policy is
// applied at the door (pairing codes for strangers, allowlists, mention gating in groups), and
// accepted messages are journaled and handed to the gateway until it took them — WhatsApp does
// not deliver a message twice, so nothing may be dropped here. It sends text with message ids
// derived from the outbox key (exactly once), shows "typing…" and marks messages read.
import { downloadMediaMessage, type WAMessage } from 'baileys';
import {
  type AccessStore,
  type ContextOnlyReason,
  decideAccess,
  type ResolvedChannelPolicy,
} from '../access.js';
import { type AttachmentStore, AttachmentUnavailableError, saveAttachment } from '../attachments.js';
import { type InboundMessage, validateInboundMessage } from '../envelope.js';
import { createInboundQueue, type InboundJournal } from '../inbound-queue.js';
import type { ConnectorLog } from '../log.js';
import type { ChannelPolicy } from '../routing.js';
import { formatIssues } from '../schema-validation.js';
import type { ConnectorHealth } from '../status.js';
import { createWhatsAppConnection, type WhatsAppConnection } from './connection.js';
import { baileysLogger, routeLibsignalConsole } from './logging.js';
import { normalizeMessage, WHATSAPP_CHANNEL, type WhatsAppIdentity } from './normalize.js';
import { createWhatsAppSend, WHATSAPP_TEXT_LIMIT, type WhatsAppSend, whatsappMessageId } from './send.js';

export interface WhatsAppConnectorOptions {
  accountId?: string;
  /** The account's credentials folder. */
  authDir: string;
  /** Only for tests: WhatsApp Web's WebSocket URL. */
  wsUrl?: string;
  readReceipts?: boolean;
  access: AccessStore;
  policy: ChannelPolicy | ResolvedChannelPolicy | undefined;
  /** An accepted message: start (or signal) its turn. Throwing keeps it journaled and retried. */
  onInbound(msg: InboundMessage): Promise<void>;
  /** A group message kept as context, not answered. Dropped (logged at debug) when absent. */
  onContext?(msg: InboundMessage, reason: ContextOnlyReason): Promise<void>;
  /** Accepted messages wait here until handed on (the gateway's SQLite); in memory only when absent. */
  journal?: InboundJournal;
  /** Where the bytes of attachments go; without it attachments stay platform references. */
  attachments?: AttachmentStore;
  log: ConnectorLog;
  health?: ConnectorHealth;
  reconnect?: { minBackoffMs?: number; maxBackoffMs?: number; connectTimeoutMs?: number };
  handOff?: { minBackoffMs?: number; maxBackoffMs?: number };
}

export interface WhatsAppConnector {
  readonly channel: typeof WHATSAPP_CHANNEL;
  readonly accountId: string;
  readonly textLimit: number;
  /** Reads the credentials and connects (or reports "not linked" and waits). Never throws for the platform's sake. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sends one message (≤ textLimit) with the id derived from `idempotencyKey`. */
  sender: WhatsAppSend;
  /** "typing…" in a chat until paused() or a message is sent. */
  typing(chatJid: string): Promise<void>;
  paused(chatJid: string): Promise<void>;
  /** Handles one `messages.upsert` batch as if the socket had delivered it (recorded payloads in tests). */
  handleUpsert(messages: WAMessage[], type: string, identity: WhatsAppIdentity): Promise<void>;
  /** Everything received so far was handed on or decided (tests). */
  idle(): Promise<void>;
  connection: WhatsAppConnection;
}

const RECENT_LIMIT = 500;

export function createWhatsAppConnector(options: WhatsAppConnectorOptions): WhatsAppConnector {
  const { access, policy, log, health } = options;
  const accountId = options.accountId ?? 'default';
  const linkAction =
    `Link it: run \`switchyard channels login whatsapp${accountId === 'default' ? '' : ` --account ${accountId}`}\` ` +
    'and scan the QR code with WhatsApp on your phone (Settings → Linked devices), or open /channels/whatsapp/login on the gateway.';
  // The last messages received, to quote them in replies and to download their media.
  const recent = new Map<string, WAMessage>();
  let work: Promise<void> = Promise.resolve();
  let unrouteConsole: (() => void) | undefined;

  const queue = createInboundQueue({
    channel: WHATSAPP_CHANNEL,
    accountId,
    deliver: async (msg) => {
      await options.onInbound(msg);
      if (options.readReceipts !== false) {
        const raw = recent.get(`${msg.chat.id}/${msg.messageId}`);
        const sock = connection.socket();
        if (raw && sock)
          await sock
            .readMessages([raw.key])
            .catch((err) => log.debug({ err }, 'whatsapp: read receipt failed'));
      }
    },
    log,
    ...(options.journal ? { journal: options.journal } : {}),
    ...options.handOff,
  });

  const connection = createWhatsAppConnection({
    accountId,
    authDir: options.authDir,
    ...(options.wsUrl ? { wsUrl: options.wsUrl } : {}),
    log,
    ...(health ? { health } : {}),
    linkAction,
    ...options.reconnect,
    onMessages: ({ messages, type }, identity) => {
      // One batch at a time, in order; a failure is logged, never thrown into baileys.
      work = work
        .then(() => handleUpsert(messages, type, identity))
        .catch((err) => log.error({ err, accountId }, 'whatsapp: handling messages failed'));
    },
  });

  const send = createWhatsAppSend(
    () => connection.socket(),
    (chatJid, messageId) => recent.get(`${chatJid}/${messageId}`),
  );

  function remember(raw: WAMessage, chatJid: string): void {
    const id = `${chatJid}/${raw.key.id}`;
    recent.delete(id);
    recent.set(id, raw);
    if (recent.size > RECENT_LIMIT) recent.delete(recent.keys().next().value!);
  }

  async function handleUpsert(
    messages: WAMessage[],
    type: string,
    identity: WhatsAppIdentity,
  ): Promise<void> {
    // `append` is our own sends and history; only `notify` is something new from someone else.
    if (type !== 'notify') return;
    for (const raw of messages) await handleMessage(raw, identity);
  }

  async function handleMessage(raw: WAMessage, identity: WhatsAppIdentity): Promise<void> {
    const normalized = normalizeMessage(raw, identity, accountId);
    if (normalized.kind === 'skip') {
      log.debug({ id: raw.key.id, reason: normalized.reason }, 'whatsapp: message ignored');
      return;
    }
    const checked = validateInboundMessage(normalized.message);
    if (!checked.ok) {
      log.error(
        { id: raw.key.id, issues: formatIssues(checked.errors) },
        'whatsapp: message does not make a valid InboundMessage; dropped',
      );
      return;
    }
    let msg = checked.value;
    remember(raw, msg.chat.id);
    health?.inbound();
    const decision = decideAccess(policy, msg, access);
    const where = { accountId, chatId: msg.chat.id, senderId: msg.sender.id, id: msg.messageId };
    switch (decision.kind) {
      case 'accept':
        msg = await withStoredMedia(msg, raw);
        queue.push(msg);
        return;
      case 'context-only':
        if (options.onContext) await options.onContext(msg, decision.reason);
        else log.debug({ ...where, reason: decision.reason }, 'whatsapp: kept as context only');
        return;
      case 'pairing-challenge':
        try {
          // The id comes from the message, so a re-delivered message cannot send the code twice.
          await send(msg.chat.id, pairingText(decision.code, decision.expiresAt), {
            idempotencyKey: `pairing:${msg.platformId}`,
          });
          log.info({ ...where, isNew: decision.isNew }, 'whatsapp: sent a stranger their pairing code');
        } catch (err) {
          // The code stays pending; their next message sends it again.
          log.warn({ ...where, err }, 'whatsapp: could not send the pairing code');
        }
        return;
      case 'reject':
        log.info({ ...where, reason: decision.reason }, 'whatsapp: message rejected by access policy');
        return;
    }
  }

  /** Downloads accepted messages' media into the blob store; the envelope keeps only the reference. */
  async function withStoredMedia(msg: InboundMessage, raw: WAMessage): Promise<InboundMessage> {
    const store = options.attachments;
    if (!store || msg.attachments.length === 0) return msg;
    const attachments = [];
    for (const ref of msg.attachments) {
      try {
        attachments.push(
          await saveAttachment(store, ref, async () => {
            const sock = connection.socket();
            try {
              return await downloadMediaMessage(
                raw,
                'buffer',
                {},
                sock
                  ? { logger: baileysLogger(log, { accountId }), reuploadRequest: sock.updateMediaMessage }
                  : undefined,
              );
            } catch (error) {
              const status = (error as { output?: { statusCode?: number } })?.output?.statusCode;
              // 404/410: the file is gone from WhatsApp's servers and will not come back.
              if (status === 404 || status === 410) throw new AttachmentUnavailableError(String(error));
              throw error;
            }
          }),
        );
      } catch (err) {
        // WhatsApp will not deliver the message again: go on with the reason instead of the file.
        log.warn({ accountId, id: msg.messageId, err }, 'whatsapp: could not download an attachment');
        attachments.push({
          ...ref,
          error: `could not be downloaded: ${(err as Error)?.message ?? String(err)}`,
        });
      }
    }
    return { ...msg, attachments };
  }

  return {
    channel: WHATSAPP_CHANNEL,
    accountId,
    textLimit: WHATSAPP_TEXT_LIMIT,
    sender: send,
    connection,
    handleUpsert,
    async typing(chatJid) {
      // Never presenceSubscribe: it is not needed to show our own state.
      await connection.socket()?.sendPresenceUpdate('composing', chatJid);
    },
    async paused(chatJid) {
      await connection.socket()?.sendPresenceUpdate('paused', chatJid);
    },
    async idle() {
      await work;
      await queue.idle();
    },
    async start() {
      unrouteConsole ??= routeLibsignalConsole(log);
      const replayed = queue.replay();
      if (replayed > 0)
        log.info({ accountId, replayed }, 'whatsapp: handing on messages kept from the last run');
      await connection.start();
    },
    async stop() {
      await connection.stop();
      await work.catch(() => undefined);
      await queue.stop();
      unrouteConsole?.();
      unrouteConsole = undefined;
    },
  };
}

export function pairingText(code: string, expiresAt: number): string {
  const minutes = Math.max(1, Math.round((expiresAt - Date.now()) / 60_000));
  return (
    `I don't know you yet, so I can't answer. Your pairing code is ${code} (valid for ${minutes} min).\n` +
    `To be let in, ask the owner to run: switchyard pairing approve whatsapp ${code}`
  );
}

export { whatsappMessageId };

// Sending text to a WhatsApp chat with a message id WE choose. WhatsApp keys a message by (chat,
// sender, id) and drops a second message with a known id, so deriving the id from the outbox
// key makes a retried send — even after the gateway died mid-call — land once: exactly once.
// A send counts as done only when WhatsApp's server acknowledged the id (its `ack` stanza):
// baileys resolves as soon as the bytes are written, which a dying socket can still lose.
import { createHash, randomBytes } from 'node:crypto';
import type { WAMessage, WASocket } from 'baileys';

/** WhatsApp's limit is about 65,000 characters; long answers read better in pieces anyway. */
export const WHATSAPP_TEXT_LIMIT = 4000;

export interface WhatsAppSendOptions {
  replyToMessageId?: string;
  /** The outbox key of this chunk: the message id is derived from it. */
  idempotencyKey?: string;
}

export type WhatsAppSend = (
  chatJid: string,
  text: string,
  opts?: WhatsAppSendOptions,
) => Promise<{ messageId: string }>;

/**
 * A failed send, read structurally by activities/channel-send.ts: `notSent` when nothing can have
 * left (not connected), `permanent` when retrying is pointless (not a WhatsApp chat id).
 */
export class WhatsAppSendError extends Error {
  override readonly name = 'WhatsAppSendError';
  constructor(
    message: string,
    readonly notSent: boolean,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The id of a message, from the key it is sent under: the same key, the same id (WhatsApp's 3EB0… form). */
export function whatsappMessageId(idempotencyKey: string): string {
  const hash = createHash('sha256').update(`switchyard:${idempotencyKey}`).digest('hex').toUpperCase();
  return `3EB0${hash.slice(0, 18)}`;
}

const CHAT_JID = /^[^@\s]+@(s\.whatsapp\.net|g\.us|lid)$/;

/**
 * Sends through the socket the connection holds right now (undefined while it reconnects).
 * `quoted` looks up the message being answered, so the reply shows it (when it is known).
 */
export function createWhatsAppSend(
  socket: () => WASocket | undefined,
  quoted: (chatJid: string, messageId: string) => WAMessage | undefined,
  ackTimeoutMs = 20_000,
): WhatsAppSend {
  return async (chatJid, text, opts = {}) => {
    if (!CHAT_JID.test(chatJid)) {
      throw new WhatsAppSendError(
        `"${chatJid}" is not a WhatsApp chat id (…@s.whatsapp.net or …@g.us)`,
        true,
        true,
      );
    }
    const sock = socket();
    if (!sock) {
      throw new WhatsAppSendError(
        'WhatsApp is not connected right now (reconnecting); nothing was sent',
        true,
        false,
      );
    }
    const messageId = opts.idempotencyKey
      ? whatsappMessageId(opts.idempotencyKey)
      : `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;
    const quote = opts.replyToMessageId ? quoted(chatJid, opts.replyToMessageId) : undefined;
    const ack = serverAck(sock, messageId, ackTimeoutMs);
    try {
      await sock.sendMessage(chatJid, { text }, { messageId, ...(quote ? { quoted: quote } : {}) });
      const refused = await ack.done;
      if (refused) {
        throw new WhatsAppSendError(
          `WhatsApp refused the message to ${chatJid} (error ${refused})`,
          true,
          true,
        );
      }
      return { messageId };
    } catch (error) {
      ack.cancel();
      if (error instanceof WhatsAppSendError) throw error;
      // The stanza may or may not have left before the socket failed; the id makes a resend safe.
      throw new WhatsAppSendError(
        `sending to ${chatJid} failed: ${(error as Error)?.message ?? String(error)}`,
        false,
        false,
        { cause: error },
      );
    }
  };
}

interface AckNode {
  attrs: { id?: string; error?: string };
}

/**
 * Waits for the server's `ack` of one message id; resolves with its error code when it refused
 * the message, undefined when it took it. Rejects when the socket closes or nothing comes in time.
 */
function serverAck(sock: WASocket, messageId: string, timeoutMs: number) {
  const ws = sock.ws as unknown as {
    on(event: string, listener: (node: AckNode) => void): void;
    off(event: string, listener: (node: AckNode) => void): void;
  };
  let cleanup = () => {};
  const done = new Promise<string | undefined>((resolve, reject) => {
    const onAck = (node: AckNode) => {
      if (node.attrs.id !== messageId) return;
      cleanup();
      resolve(node.attrs.error);
    };
    const onUpdate = (update: { connection?: string }) => {
      if (update.connection !== 'close') return;
      cleanup();
      reject(new Error('the connection closed before WhatsApp acknowledged the message'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`WhatsApp did not acknowledge the message within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    cleanup = () => {
      clearTimeout(timer);
      ws.off('CB:ack,class:message', onAck);
      sock.ev.off('connection.update', onUpdate);
    };
    ws.on('CB:ack,class:message', onAck);
    sock.ev.on('connection.update', onUpdate);
  });
  done.catch(() => undefined);
  return { done, cancel: () => cleanup() };
}

// The web chat connector: a page served by the gateway (`GET /chat`) and a WebSocket
// (`GET /chat/ws`) that takes messages in and streams answers out. Each browser is one direct
// chat (its id is made up by the page and kept in localStorage). A message becomes an
// InboundMessage and goes to `ingest`; live deltas come from the delta hub by run key; the final
// answer arrives through `sender.send`, called by the exactly-once channel-send activity.

import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type {} from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import {
  type AttachmentKind,
  type AttachmentStore,
  AttachmentTooLargeError,
  kindFromMime,
} from '../attachments.js';
import { directMessage } from '../direct-message.js';
import { type AttachmentRef, type InboundMessage, validateInboundMessage } from '../envelope.js';
import { deltaRunKey } from '../run-key.js';
import { formatIssues } from '../schema-validation.js';
import { type FinalFrame, RecentFinals } from './finals.js';
import { WEBCHAT_HTML, WEBCHAT_SCRIPT } from './page.js';
import {
  CLIENT_ID_PATTERN,
  type ClientAttachment,
  checkClientFrame,
  checkSetupFrame,
  type FinalAttachment,
  type ServerFrame,
  WEBCHAT_CHANNEL,
} from './protocol.js';
import { createSetupDesk, type WebchatSetup } from './setup.js';

export { WEBCHAT_CHANNEL } from './protocol.js';
export type { SetupSession, WebchatSetup } from './setup.js';

export const WEBCHAT_ACCOUNT = 'default';
/** One web chat message carries the whole answer; the channel-send activity chunks to this. */
export const WEBCHAT_TEXT_LIMIT = 100_000;
export const WEBCHAT_TOKEN_COOKIE = 'switchyard_webchat';

/** What the connector needs of the gateway's delta hub (gateway/stream/hub.ts). */
export interface DeltaSource {
  subscribe(
    runKey: string,
    listener: (
      frame:
        | { type: 'delta'; seq: number; text: string }
        | { type: 'end' }
        | { type: 'tool'; name: string; phase: 'start' | 'end' },
    ) => void,
  ): () => void;
}

/** The logging a connector needs; pino and fastify's `app.log` fit as they are. */
export interface WebchatLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WebchatConnectorOptions {
  /** Start (or signal) the turn of an accepted message; throwing tells the browser it failed. */
  ingest(msg: InboundMessage): Promise<void>;
  hub: DeltaSource;
  /** The gateway token. Without it only loopback browsers may use the chat. */
  token?: string;
  log: WebchatLog;
  /** Answers kept per chat for browsers that reconnect. Default 50. */
  finalsPerChat?: number;
  /** Chats whose answers are kept (least recently answered forgotten first). Default 1000. */
  maxChats?: number;
  /** Stop forwarding deltas of an answer after this long without its final. Default 10 min. */
  streamTimeoutMs?: number;
  /** Decides whether a request comes from this machine; default: loopback peer, no proxy headers. */
  isLocal?(req: IncomingMessage): boolean;
  /** The blob store for uploads (`POST /chat/upload`) and files in answers. Absent: no files. */
  attachments?: AttachmentStore;
  /** Onboarding while the agent has no working model (channels/webchat/setup.ts). Absent: none. */
  setup?: WebchatSetup;
}

export interface WebchatSender {
  channel: typeof WEBCHAT_CHANNEL;
  accountId: string;
  textLimit: number;
  /** Delivers a final answer to the chat's open tabs and keeps it for the ones that come back. */
  send(chatId: string, text: string, opts?: { replyToMessageId?: string }): Promise<{ messageId: string }>;
  /** Delivers a stored file as an answer (shown from /chat/media); only with `attachments`. */
  sendFile?(
    chatId: string,
    file: FinalAttachment,
    opts?: { replyToMessageId?: string },
  ): Promise<{ messageId: string }>;
}

export interface WebchatConnector {
  readonly channel: typeof WEBCHAT_CHANNEL;
  readonly accountId: string;
  readonly textLimit: number;
  /** `app.register(connector.plugin)`, after @fastify/websocket. */
  plugin(app: FastifyInstance): Promise<void>;
  sender: WebchatSender;
}

interface LiveAnswer {
  chatId: string;
  replyTo: string;
  unsubscribe(): void;
  timer: NodeJS.Timeout;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Loopback peer and no proxy headers: a reverse proxy on the same host is not "local". */
export function isLoopback(req: IncomingMessage): boolean {
  const proxied = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
  return LOOPBACK.test(req.socket.remoteAddress ?? '') && !proxied;
}

export function createWebchatConnector(options: WebchatConnectorOptions): WebchatConnector {
  const { ingest, hub, token, log, attachments } = options;
  const isLocal = options.isLocal ?? isLoopback;
  const streamTimeoutMs = options.streamTimeoutMs ?? 10 * 60_000;
  const finals = new RecentFinals(options.finalsPerChat ?? 50, options.maxChats ?? 1000);
  const sockets = new Map<string, Set<WebSocket>>();
  const live = new Map<string, LiveAnswer>();
  const desk =
    options.setup &&
    createSetupDesk({
      setup: options.setup,
      show: (chatId, view) => broadcast(chatId, { type: 'setup', view }),
      deliver: (chatId, message) => handOver(chatId, message),
      log,
    });

  function broadcast(chatId: string, frame: ServerFrame): void {
    const data = JSON.stringify(frame);
    for (const socket of sockets.get(chatId) ?? []) {
      if (socket.readyState === socket.OPEN) socket.send(data);
    }
  }

  function stopStreaming(runKey: string): void {
    const answer = live.get(runKey);
    if (!answer) return;
    live.delete(runKey);
    clearTimeout(answer.timer);
    answer.unsubscribe();
  }

  function startStreaming(chatId: string, replyTo: string): string {
    const runKey = deltaRunKey(WEBCHAT_CHANNEL, chatId, replyTo);
    if (live.has(runKey)) return runKey;
    const unsubscribe = hub.subscribe(runKey, (frame) => {
      // Holes are tolerated here: the final answer replaces whatever was streamed.
      if (frame.type === 'delta') broadcast(chatId, { type: 'delta', replyTo, text: frame.text });
      else if (frame.type === 'tool') {
        broadcast(chatId, { type: 'activity', replyTo, tool: frame.name, phase: frame.phase });
      }
    });
    const timer = setTimeout(() => stopStreaming(runKey), streamTimeoutMs);
    timer.unref();
    live.set(runKey, { chatId, replyTo, unsubscribe, timer });
    return runKey;
  }

  /** Loopback, or the token as `?token=` or the cookie set by a page load with it. */
  function allowed(req: FastifyRequest): boolean {
    if (isLocal(req.raw)) return true;
    if (!token) return false;
    const query = req.query as { token?: unknown };
    const given = typeof query.token === 'string' ? query.token : readCookie(req, WEBCHAT_TOKEN_COOKIE);
    return given !== undefined && secretsMatch(given, token);
  }

  async function guard(req: FastifyRequest, reply: FastifyReply) {
    if (!allowed(req)) {
      return reply
        .code(401)
        .type('text/plain; charset=utf-8')
        .send(
          token
            ? 'The web chat needs the gateway token from this address: open /chat?token=<token> once ' +
                '(the token is in <data dir>/gateway.token or SWITCHYARD_GATEWAY_TOKEN).'
            : 'The web chat answers only on this machine (loopback) until a gateway token is configured.',
        );
    }
  }

  async function receive(socket: WebSocket, chatId: string, raw: string): Promise<void> {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      socket.send(JSON.stringify({ type: 'error', message: 'frames are JSON text' } satisfies ServerFrame));
      return;
    }
    if ((value as { type?: unknown } | null)?.type === 'setup') {
      const frame = checkSetupFrame(value);
      if (!frame.ok) {
        const message = `invalid setup frame: ${formatIssues(frame.errors).replaceAll('\n', '; ')}`;
        socket.send(JSON.stringify({ type: 'error', message } satisfies ServerFrame));
        return;
      }
      await desk?.answer(chatId, frame.value);
      return;
    }
    const checked = checkClientFrame(value);
    if (!checked.ok) {
      const message = `invalid message frame: ${formatIssues(checked.errors).replaceAll('\n', '; ')}`;
      socket.send(JSON.stringify({ type: 'error', message } satisfies ServerFrame));
      return;
    }
    const { text, clientMessageId } = checked.value;
    const files = await uploadedFiles(checked.value.attachments ?? []);
    if (!files.ok) {
      socket.send(
        JSON.stringify({ type: 'error', message: files.error, clientMessageId } satisfies ServerFrame),
      );
      return;
    }
    const envelope = validateInboundMessage(
      directMessage({
        channel: WEBCHAT_CHANNEL,
        accountId: WEBCHAT_ACCOUNT,
        chatId,
        sender: { id: chatId },
        messageId: clientMessageId,
        platformId: `${WEBCHAT_CHANNEL}:${chatId}:${clientMessageId}`,
        text,
        attachments: files.refs,
      }),
    );
    if (!envelope.ok) {
      log.error(
        { chatId, issues: formatIssues(envelope.errors) },
        'webchat: message is not a valid envelope',
      );
      socket.send(
        JSON.stringify({ type: 'error', message: 'internal error', clientMessageId } satisfies ServerFrame),
      );
      return;
    }
    // No working model yet: the message waits (unacknowledged) while the owner sets one up.
    if (desk?.hold(chatId, envelope.value)) return;
    await handOver(chatId, envelope.value).catch(() => undefined);
  }

  /** Starts the message's turn and acknowledges it to the chat's tabs; tells them when that failed. */
  async function handOver(chatId: string, message: InboundMessage): Promise<void> {
    const clientMessageId = message.messageId;
    // Listen before the turn starts, so the first delta cannot slip past.
    const runKey = startStreaming(chatId, clientMessageId);
    try {
      await ingest(message);
    } catch (error) {
      stopStreaming(runKey);
      log.warn({ chatId, clientMessageId, err: error }, 'webchat: could not start the turn');
      broadcast(chatId, {
        type: 'error',
        message: `Could not hand the message over (${String((error as Error)?.message ?? error)}); it will be resent when you reconnect.`,
        clientMessageId,
      });
      throw error;
    }
    broadcast(chatId, { type: 'ack', clientMessageId });
  }

  /** The uploads a message names, as references; each must be in the store. */
  async function uploadedFiles(
    given: readonly ClientAttachment[],
  ): Promise<{ ok: true; refs: AttachmentRef[] } | { ok: false; error: string }> {
    if (given.length === 0) return { ok: true, refs: [] };
    if (!attachments) return { ok: false, error: 'this web chat takes no files (no media store)' };
    const refs: AttachmentRef[] = [];
    for (const file of given) {
      const stored = await attachments.stat(file.sha256);
      if (!stored) {
        return {
          ok: false,
          error: `the file ${file.name ?? file.sha256.slice(0, 12)} is not uploaded (or was removed): attach it again`,
        };
      }
      refs.push({
        id: `upload-${file.sha256.slice(0, 16)}`,
        kind: file.kind ?? kindFromMime(file.mime),
        mime: file.mime,
        size: stored.size,
        sha256: file.sha256,
        ...(file.name ? { name: file.name } : {}),
      });
    }
    return { ok: true, refs };
  }

  /** `POST /chat/upload?name=…`: the body is the file; answers its address, or 413 past the limit. */
  async function upload(req: FastifyRequest, reply: FastifyReply) {
    if (!attachments) return reply.code(503).send({ error: 'this web chat takes no files (no media store)' });
    const query = req.query as { name?: string; kind?: string };
    const mime = normaliseMime(req.headers['content-type']);
    const kind: AttachmentKind = query.kind === 'voice' ? 'voice' : kindFromMime(mime);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > attachments.maxBytes(kind)) {
      req.raw.resume();
      return reply
        .code(413)
        .send({ error: new AttachmentTooLargeError(kind, attachments.maxBytes(kind), declared).message });
    }
    try {
      const stored = await attachments.put(req.raw, kind);
      if (stored.size === 0) return reply.code(400).send({ error: 'the file is empty' });
      return reply.send({
        sha256: stored.sha256,
        size: stored.size,
        mime,
        kind,
        ...(query.name ? { name: query.name } : {}),
      });
    } catch (error) {
      if (error instanceof AttachmentTooLargeError) {
        req.raw.resume();
        return reply.code(413).send({ error: error.message });
      }
      throw error;
    }
  }

  /** `GET /chat/media/<sha256>?type=…`: a stored file, shown inline only when it is safe to. */
  async function media(req: FastifyRequest, reply: FastifyReply) {
    const { sha256 } = req.params as { sha256: string };
    const type = String((req.query as { type?: unknown }).type ?? '');
    const stored = attachments ? await attachments.stat(sha256) : undefined;
    if (!attachments || !stored)
      return reply.code(404).type('text/plain; charset=utf-8').send('no such file');
    const inline = INLINE_TYPES.has(type);
    return reply
      .headers({
        'content-type': inline ? type : 'application/octet-stream',
        'content-length': String(stored.size),
        'content-disposition': inline ? 'inline' : 'attachment',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; sandbox",
        'cache-control': 'private, max-age=31536000, immutable',
      })
      .send(attachments.stream(sha256));
  }

  function serve(socket: WebSocket, req: FastifyRequest): void {
    const chatId = (req.query as { chatId: string }).chatId;
    let set = sockets.get(chatId);
    if (!set) {
      set = new Set();
      sockets.set(chatId, set);
    }
    set.add(socket);
    // What this chat was answered lately; the page ignores the ones it already shows.
    for (const final of finals.of(chatId)) socket.send(JSON.stringify(final));
    const setupView = desk?.current(chatId);
    if (setupView) socket.send(JSON.stringify({ type: 'setup', view: setupView } satisfies ServerFrame));
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      receive(socket, chatId, data.toString()).catch((error) =>
        log.error({ chatId, err: error }, 'webchat: failed handling a frame'),
      );
    });
    socket.on('close', () => {
      set.delete(socket);
      if (set.size === 0 && sockets.get(chatId) === set) sockets.delete(chatId);
    });
    socket.on('error', (error) => log.debug({ chatId, err: error }, 'webchat: socket error'));
  }

  function deliver(
    chatId: string,
    text: string,
    replyTo?: string,
    files?: FinalAttachment[],
  ): { messageId: string } {
    const final: FinalFrame = {
      type: 'final',
      messageId: `out-${randomUUID()}`,
      text,
      timestamp: Date.now(),
      ...(replyTo ? { replyTo } : {}),
      ...(files ? { attachments: files } : {}),
    };
    finals.add(chatId, final);
    if (replyTo) stopStreaming(deltaRunKey(WEBCHAT_CHANNEL, chatId, replyTo));
    broadcast(chatId, final);
    return { messageId: final.messageId };
  }

  const sender: WebchatSender = {
    channel: WEBCHAT_CHANNEL,
    accountId: WEBCHAT_ACCOUNT,
    textLimit: WEBCHAT_TEXT_LIMIT,
    async send(chatId, text, opts) {
      return deliver(chatId, text, opts?.replyToMessageId);
    },
    ...(attachments
      ? {
          async sendFile(chatId: string, file: FinalAttachment, opts?: { replyToMessageId?: string }) {
            if (!(await attachments.stat(file.sha256))) {
              throw Object.assign(new Error(`${file.name ?? 'the file'} is no longer in the media store`), {
                notSent: true,
                permanent: true,
              });
            }
            const shown: FinalAttachment = {
              sha256: file.sha256,
              mime: file.mime,
              kind: file.kind,
              ...(file.name ? { name: file.name } : {}),
            };
            return deliver(chatId, '', opts?.replyToMessageId, [shown]);
          },
        }
      : {}),
  };

  return {
    channel: WEBCHAT_CHANNEL,
    accountId: WEBCHAT_ACCOUNT,
    textLimit: WEBCHAT_TEXT_LIMIT,
    sender,
    async plugin(app) {
      if (!app.websocketServer) {
        throw new Error('webchat: register @fastify/websocket before the web chat plugin');
      }
      const headers = {
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      };
      app.get('/chat', { preValidation: guard }, async (req, reply) => {
        const query = req.query as { token?: unknown };
        if (token && typeof query.token === 'string' && secretsMatch(query.token, token)) {
          // Remember the token for this browser so the socket (and reloads) need no query string.
          reply.header(
            'set-cookie',
            `${WEBCHAT_TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/chat; HttpOnly; SameSite=Strict; Max-Age=31536000`,
          );
          return reply.redirect('/chat', 303);
        }
        return reply
          .headers({
            ...headers,
            'content-security-policy':
              "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; " +
              "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
          })
          .type('text/html; charset=utf-8')
          .send(WEBCHAT_HTML);
      });
      app.get('/chat/app.js', async (_req, reply) =>
        reply.headers(headers).type('text/javascript; charset=utf-8').send(WEBCHAT_SCRIPT),
      );
      app.get(
        '/chat/ws',
        {
          websocket: true,
          schema: {
            querystring: {
              type: 'object',
              required: ['chatId'],
              properties: { chatId: { type: 'string', pattern: CLIENT_ID_PATTERN.source } },
            },
          },
          preValidation: async (req, reply) => {
            // A page on another site must not drive this chat through the user's browser.
            const origin = req.headers.origin;
            if (origin !== undefined && !sameOrigin(origin, req.headers.host)) {
              return reply.code(403).type('text/plain; charset=utf-8').send('cross-origin web chat refused');
            }
            return guard(req, reply);
          },
        },
        serve,
      );
      // Uploads and files: the body of an upload is the file itself, streamed into the store.
      await app.register(async (files) => {
        files.removeAllContentTypeParsers();
        files.addContentTypeParser('*', (_req, _payload, done) => done(null));
        const sameOriginOnly = async (req: FastifyRequest, reply: FastifyReply) => {
          const origin = req.headers.origin;
          if (origin !== undefined && !sameOrigin(origin, req.headers.host)) {
            return reply.code(403).type('text/plain; charset=utf-8').send('cross-origin upload refused');
          }
          return guard(req, reply);
        };
        files.post(
          '/chat/upload',
          {
            preValidation: sameOriginOnly,
            schema: {
              querystring: {
                type: 'object',
                properties: { name: { type: 'string', maxLength: 255 }, kind: { const: 'voice' } },
              },
            },
          },
          upload,
        );
        files.get(
          '/chat/media/:sha256',
          {
            preValidation: guard,
            schema: {
              params: {
                type: 'object',
                required: ['sha256'],
                properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
              },
            },
          },
          media,
        );
      });
      app.addHook('onClose', async () => {
        for (const runKey of [...live.keys()]) stopStreaming(runKey);
      });
    },
  };
}

/** Types a browser may show inline from /chat/media (never HTML or SVG, which could run script). */
const INLINE_TYPES = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'audio/ogg',
  'audio/mpeg',
  'audio/wav',
  'audio/webm',
  'video/mp4',
  'video/webm',
  'application/pdf',
]);

function normaliseMime(header: string | undefined): string {
  const type = (header ?? '').split(';')[0]!.trim().toLowerCase();
  return /^[a-z0-9.+-]+\/[a-z0-9.+_-]+$/.test(type) ? type : 'application/octet-stream';
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function secretsMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

// What crabline's Telegram server does not speak yet: messages with files and their download.
// A small HTTP front on loopback passes every Bot API call through to crabline unchanged (so its
// recorder sees them), answers getFile and serves /file/bot<token>/<path> itself, and dresses the
// messages the test registered with Telegram's media fields (photo, voice, audio, document,
// video) on their way out of getUpdates, and takes the bot's sendPhoto/sendDocument uploads
// (multipart, as grammy sends them), recording what arrived. The real grammy connector talks to
// it as to Telegram.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFile {
  bytes: Buffer;
  /** File name (documents, audio). */
  name?: string;
  mime?: string;
  width?: number;
  height?: number;
  duration?: number;
  /** The size Telegram declares in the update; default the real one. */
  declaredSize?: number;
  /** getFile refuses it, as Telegram does past 20 MB ("Bad Request: file is too big"). */
  refused?: string;
}

export type FakeMedia = Partial<Record<'photo' | 'voice' | 'audio' | 'document' | 'video', FakeFile>>;

/** A file the bot posted with sendPhoto or sendDocument, as it arrived. */
export interface SentFile {
  method: 'sendPhoto' | 'sendDocument';
  chatId: string;
  messageId: number;
  name: string;
  bytes: Buffer;
  replyTo?: number;
}

export interface FileFront {
  /** The apiRoot to give the connector. */
  apiRoot: string;
  /** Dress the message `<chatId>:<messageId>` with these files when getUpdates delivers it. */
  register(chatId: number, messageId: number, media: FakeMedia, caption?: string): void;
  /** file ids the bot asked getFile about, and paths it downloaded, in order. */
  fileCalls: string[];
  /** Files the bot posted, in order. */
  sentFiles: SentFile[];
  /** The next sendPhoto/sendDocument answers 429 (Telegram's flood control) instead. */
  refuseNextUpload(): void;
  close(): Promise<void>;
}

interface StoredFile extends FakeFile {
  id: string;
  uniqueId: string;
  path: string;
}

export async function startFileFront(upstream: string, botToken: string): Promise<FileFront> {
  const files = new Map<string, StoredFile>();
  const pending = new Map<string, { media: FakeMedia; caption?: string }>();
  const fileCalls: string[] = [];
  const sentFiles: SentFile[] = [];
  let refuseUpload = false;
  let nextSentId = 900_000;
  const upstreamRoot = upstream.replace(/\/+$/, '');

  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://front');
      const body = await readAll(req);
      const filePrefix = `/file/bot${botToken}/`;
      if (url.pathname.startsWith(filePrefix)) {
        const path = decodeURIComponent(url.pathname.slice(filePrefix.length));
        fileCalls.push(`download ${path}`);
        const file = [...files.values()].find((f) => f.path === path);
        if (!file) return void res.writeHead(404).end('Not Found');
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': file.bytes.length,
        });
        return void res.end(file.bytes);
      }
      const method = url.pathname.split('/').at(-1)?.toLowerCase();
      if (method === 'getfile') {
        const params = parseParams(req, body, url);
        const file = files.get(String(params.file_id));
        fileCalls.push(`getFile ${String(params.file_id)}`);
        const answer = !file
          ? { ok: false, error_code: 400, description: 'Bad Request: invalid file_id' }
          : file.refused
            ? { ok: false, error_code: 400, description: file.refused }
            : {
                ok: true,
                result: {
                  file_id: file.id,
                  file_unique_id: file.uniqueId,
                  file_size: file.bytes.length,
                  file_path: file.path,
                },
              };
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(answer));
      }
      if (method === 'sendphoto' || method === 'senddocument') {
        const form = multipart(String(req.headers['content-type'] ?? ''), body);
        const field = method === 'sendphoto' ? 'photo' : 'document';
        let upload = form.get(field);
        // grammy sends the file as a part named by a random id, and the field as attach://<id>.
        const ref = upload?.text;
        if (ref?.startsWith('attach://')) upload = form.get(ref.slice(9));
        if (refuseUpload) {
          refuseUpload = false;
          res.writeHead(429, { 'content-type': 'application/json' });
          return void res.end(
            JSON.stringify({
              ok: false,
              error_code: 429,
              description: 'Too Many Requests: retry after 1',
              parameters: { retry_after: 1 },
            }),
          );
        }
        if (!upload?.filename) {
          res.writeHead(400, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ ok: false, error_code: 400, description: `no ${field}` }));
        }
        const replyParameters = form.get('reply_parameters')?.text;
        const messageId = nextSentId++;
        const chatId = String(form.get('chat_id')?.text);
        sentFiles.push({
          method: method === 'sendphoto' ? 'sendPhoto' : 'sendDocument',
          chatId,
          messageId,
          name: upload.filename,
          bytes: upload.bytes,
          ...(typeof replyParameters === 'string'
            ? { replyTo: (JSON.parse(replyParameters) as { message_id: number }).message_id }
            : {}),
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify({
            ok: true,
            result: { message_id: messageId, date: 0, chat: { id: Number(chatId), type: 'private' } },
          }),
        );
      }
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(key)) {
          headers[key] = value;
        }
      }
      const answer = await fetch(`${upstreamRoot}${url.pathname}${url.search}`, {
        method: req.method ?? 'GET',
        headers,
        ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
      });
      let text = Buffer.from(await answer.arrayBuffer());
      if (method === 'getupdates' && answer.ok)
        text = Buffer.from(JSON.stringify(dress(JSON.parse(text.toString()))));
      res.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/json',
      });
      res.end(text);
    } catch (error) {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(String(error));
    }
  });

  function dress(answer: { ok: boolean; result?: Array<{ message?: Record<string, unknown> }> }) {
    for (const update of answer.result ?? []) {
      const message = update.message as
        | { chat?: { id: number }; message_id?: number; text?: string }
        | undefined;
      if (!message?.chat) continue;
      const entry = pending.get(`${message.chat.id}:${message.message_id}`);
      if (!entry) continue;
      delete message.text;
      const dressed = message as Record<string, unknown>;
      if (entry.caption) dressed.caption = entry.caption;
      for (const [kind, file] of Object.entries(entry.media) as Array<[keyof FakeMedia, FakeFile]>) {
        const stored = store(file);
        const common = {
          file_id: stored.id,
          file_unique_id: stored.uniqueId,
          file_size: file.declaredSize ?? file.bytes.length,
        };
        if (kind === 'photo') {
          dressed.photo = [
            { ...common, file_size: undefined, width: 90, height: 67 },
            { ...common, width: file.width ?? 1280, height: file.height ?? 960 },
          ];
        } else {
          dressed[kind] = {
            ...common,
            ...(file.name ? { file_name: file.name } : {}),
            ...(file.mime ? { mime_type: file.mime } : {}),
            ...(file.duration !== undefined ? { duration: file.duration } : {}),
            ...(file.width !== undefined ? { width: file.width, height: file.height } : {}),
          };
        }
      }
    }
    return answer;
  }

  function store(file: FakeFile): StoredFile {
    const existing = [...files.values()].find((f) => f.bytes === file.bytes);
    if (existing) return existing;
    const id = `fake-${randomUUID()}`;
    const stored: StoredFile = {
      ...file,
      id,
      uniqueId: `u-${id.slice(5, 17)}`,
      path: `documents/${id}${file.name ? `-${file.name}` : ''}`,
    };
    files.set(id, stored);
    return stored;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    fileCalls,
    sentFiles,
    refuseNextUpload() {
      refuseUpload = true;
    },
    register(chatId, messageId, media, caption) {
      pending.set(`${chatId}:${messageId}`, { media, ...(caption ? { caption } : {}) });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseParams(req: IncomingMessage, body: Buffer, url: URL): Record<string, unknown> {
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json') && body.length > 0) return JSON.parse(body.toString());
  if (type.includes('x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(body.toString()));
  return Object.fromEntries(url.searchParams);
}

/** The parts of a multipart/form-data body by name (a small reader: undici's refuses grammy's bodies). */
function multipart(
  contentType: string,
  body: Buffer,
): Map<string, { text: string; bytes: Buffer; filename?: string }> {
  const parts = new Map<string, { text: string; bytes: Buffer; filename?: string }>();
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) return parts;
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // after CRLF, before CRLF--boundary
    const split = part.indexOf('\r\n\r\n');
    if (split >= 0) {
      const headers = part.subarray(0, split).toString();
      const bytes = Buffer.from(part.subarray(split + 4));
      const name = /;\s*name="([^"]*)"/.exec(headers)?.[1];
      // grammy writes filename=<name> unquoted.
      const filename = /filename="?([^";\r\n]*)"?/.exec(headers)?.[1];
      if (name !== undefined) {
        parts.set(name, { text: bytes.toString(), bytes, ...(filename !== undefined ? { filename } : {}) });
      }
    }
    at = next;
  }
  return parts;
}

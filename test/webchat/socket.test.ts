// The web chat's door and its WebSocket protocol, spoken by a plain `ws` client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { InboundMessage } from '../../channels/envelope.js';
import { createWebchatConnector, type WebchatConnector } from '../../channels/webchat/connector.js';
import type { ServerFrame } from '../../channels/webchat/protocol.js';
import { createDeltaHub } from '../../gateway/stream/hub.js';
import { BlobStore } from '../../media/blob-store.js';
import { freePort } from '../helpers/ports.js';
import { recordingLog } from '../telegram/helpers.js';

const TOKEN = 'webchat-remote-token-0123456789';

interface Client {
  ws: WebSocket;
  frames: ServerFrame[];
  next(match: (f: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
}

/** Opens a socket, or resolves the HTTP status that refused it. */
function open(url: string, headers: Record<string, string> = {}): Promise<Client | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const frames: ServerFrame[] = [];
    ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', reject);
    ws.on('open', () =>
      resolve({
        ws,
        frames,
        async next(match, timeoutMs = 5000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const found = frames.find(match);
            if (found) return found;
            if (Date.now() > deadline) throw new Error(`no matching frame; got ${JSON.stringify(frames)}`);
            await new Promise((r) => setTimeout(r, 10));
          }
        },
      }),
    );
  });
}

describe('web chat socket, reached from another machine', () => {
  let app: FastifyInstance;
  let host: string;
  let connector: WebchatConnector;
  const ingested: InboundMessage[] = [];
  let failIngest = false;
  let blobs: BlobStore;
  let mediaDir: string;

  beforeAll(async () => {
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    mediaDir = mkdtempSync(join(tmpdir(), 'switchyard-test-webchat-sock-'));
    blobs = new BlobStore({ dir: mediaDir });
    connector = createWebchatConnector({
      ingest: async (msg) => {
        if (failIngest) throw new Error('Temporal unavailable (test)');
        ingested.push(msg);
      },
      hub: createDeltaHub(),
      token: TOKEN,
      log: recordingLog().log,
      isLocal: () => false, // as if the browser were on another machine
      attachments: blobs,
    });
    app = Fastify({ logger: false });
    await app.register(websocket);
    await app.register(connector.plugin);
    await app.listen({ host: '127.0.0.1', port });
  });

  afterAll(async () => {
    await app?.close();
    if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
  });

  it('takes uploads only with the token and from its own page, and files only once uploaded', async () => {
    const upload = (headers: Record<string, string>) =>
      fetch(`http://${host}/chat/upload?name=notes.txt`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', ...headers },
        body: 'shopping: milk',
      });
    expect((await upload({})).status).toBe(401);
    const cookie = `switchyard_webchat=${TOKEN}`;
    expect((await upload({ cookie, origin: 'https://evil.example' })).status).toBe(403);
    const ok = await upload({ cookie, origin: `http://${host}` });
    expect(ok.status).toBe(200);
    const file = (await ok.json()) as { sha256: string; mime: string; kind: string; size: number };
    expect(file).toMatchObject({ mime: 'text/plain', kind: 'document', size: 14, name: 'notes.txt' });
    expect((await fetch(`http://${host}/chat/media/${file.sha256}?type=text/html`)).status).toBe(401);
    const served = await fetch(`http://${host}/chat/media/${file.sha256}?type=text/html`, {
      headers: { cookie },
    });
    // Never served as a page: only images, audio, video and PDF are shown inline.
    expect(served.headers.get('content-type')).toBe('application/octet-stream');
    expect(served.headers.get('content-disposition')).toBe('attachment');
    expect(await served.text()).toBe('shopping: milk');

    const client = await open(`ws://${host}/chat/ws?chatId=chat-files01`, { cookie });
    if (typeof client === 'number') throw new Error(`refused: ${client}`);
    client.ws.send(
      JSON.stringify({
        type: 'message',
        text: '',
        clientMessageId: 'files-msg-1',
        attachments: [{ sha256: 'e'.repeat(64), mime: 'image/png', name: 'ghost.png' }],
      }),
    );
    const error = await client.next((f) => f.type === 'error');
    expect(error).toEqual({
      type: 'error',
      message: 'the file ghost.png is not uploaded (or was removed): attach it again',
      clientMessageId: 'files-msg-1',
    });
    client.ws.send(
      JSON.stringify({
        type: 'message',
        text: '',
        clientMessageId: 'files-msg-2',
        attachments: [{ sha256: file.sha256, mime: 'text/plain', name: 'notes.txt' }],
      }),
    );
    await client.next((f) => f.type === 'ack' && f.clientMessageId === 'files-msg-2');
    expect(ingested.find((m) => m.messageId === 'files-msg-2')?.attachments).toEqual([
      {
        id: `upload-${file.sha256.slice(0, 16)}`,
        kind: 'document',
        mime: 'text/plain',
        size: 14,
        name: 'notes.txt',
        sha256: file.sha256,
      },
    ]);
    client.ws.send(JSON.stringify({ type: 'message', text: '', clientMessageId: 'files-msg-3' }));
    const empty = await client.next((f) => f.type === 'error' && f.message.startsWith('invalid'));
    expect(empty).toMatchObject({
      message: 'invalid message frame: is not valid: a message needs text or at least one attachment',
    });
    client.ws.close();
  });

  it('needs the token: without it 401, with ?token= the page sets a cookie that opens the socket', async () => {
    expect((await fetch(`http://${host}/chat`)).status).toBe(401);
    expect(await open(`ws://${host}/chat/ws?chatId=chat-aaaaaaaa`)).toBe(401);
    expect(await open(`ws://${host}/chat/ws?chatId=chat-aaaaaaaa&token=wrong`)).toBe(401);

    const login = await fetch(`http://${host}/chat?token=${TOKEN}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/chat');
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie).toBe(`switchyard_webchat=${TOKEN}`);
    expect(login.headers.get('set-cookie')).toContain('HttpOnly');

    const page = await fetch(`http://${host}/chat`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/chat/app.js">');
    const client = await open(`ws://${host}/chat/ws?chatId=chat-aaaaaaaa`, { cookie });
    expect(typeof client).toBe('object');
    (client as Client).ws.close();
  });

  it('refuses a socket opened by a page of another origin, even with the token', async () => {
    const status = await open(`ws://${host}/chat/ws?chatId=chat-bbbbbbbb&token=${TOKEN}`, {
      origin: 'https://evil.example',
    });
    expect(status).toBe(403);
    const same = await open(`ws://${host}/chat/ws?chatId=chat-bbbbbbbb&token=${TOKEN}`, {
      origin: `http://${host}`,
    });
    (same as Client).ws.close();
  });

  it('refuses a malformed chat id', async () => {
    expect(await open(`ws://${host}/chat/ws?chatId=x&token=${TOKEN}`)).toBe(400);
  });

  it('acknowledges each message, hands a resend to ingest with the same ids, and reports bad frames', async () => {
    const client = (await open(`ws://${host}/chat/ws?chatId=chat-cccccccc&token=${TOKEN}`)) as Client;
    const frame = { type: 'message', text: 'hello', clientMessageId: 'msg-00000001' };
    client.ws.send(JSON.stringify(frame));
    await client.next((f) => f.type === 'ack');
    client.ws.send(JSON.stringify(frame)); // a resend after a lost ack
    await client.next((f) => f.type === 'ack' && client.frames.filter((g) => g.type === 'ack').length === 2);
    const mine = ingested.filter((m) => m.chat.id === 'chat-cccccccc');
    expect(mine).toHaveLength(2);
    // Same message id and platform id: the session drops the second as a re-delivery.
    expect(mine[1]!.platformId).toBe(mine[0]!.platformId);
    expect(mine[0]).toMatchObject({
      messageId: 'msg-00000001',
      platformId: 'webchat:chat-cccccccc:msg-00000001',
    });

    client.ws.send(JSON.stringify({ type: 'message', text: '', clientMessageId: 'msg-00000002' }));
    const error = await client.next((f) => f.type === 'error');
    expect(error).toMatchObject({ type: 'error', message: expect.stringContaining('text') });
    client.ws.close();
  });

  it('tells the browser when the message could not be handed over', async () => {
    const client = (await open(`ws://${host}/chat/ws?chatId=chat-dddddddd&token=${TOKEN}`)) as Client;
    failIngest = true;
    try {
      client.ws.send(JSON.stringify({ type: 'message', text: 'hi', clientMessageId: 'msg-00000003' }));
      const error = await client.next((f) => f.type === 'error');
      expect(error).toMatchObject({ clientMessageId: 'msg-00000003' });
      expect(client.frames.some((f) => f.type === 'ack')).toBe(false);
    } finally {
      failIngest = false;
      client.ws.close();
    }
  });

  it('delivers a final to every open tab of the chat and replays it to a tab that connects later', async () => {
    const a = (await open(`ws://${host}/chat/ws?chatId=chat-eeeeeeee&token=${TOKEN}`)) as Client;
    const b = (await open(`ws://${host}/chat/ws?chatId=chat-eeeeeeee&token=${TOKEN}`)) as Client;
    const { messageId } = await connector.sender.send('chat-eeeeeeee', 'reminder: water the plants');
    for (const tab of [a, b]) {
      expect(await tab.next((f) => f.type === 'final')).toMatchObject({
        messageId,
        text: 'reminder: water the plants',
      });
    }
    const later = (await open(`ws://${host}/chat/ws?chatId=chat-eeeeeeee&token=${TOKEN}`)) as Client;
    expect(await later.next((f) => f.type === 'final')).toMatchObject({ messageId });
    for (const tab of [a, b, later]) tab.ws.close();
  });

  it('delivers a file the agent sends as an answer the page can show, and refuses one no longer stored', async () => {
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
      'base64',
    );
    const { sha256 } = await blobs.put(png, 'image');
    const tab = (await open(`ws://${host}/chat/ws?chatId=chat-ffffffff&token=${TOKEN}`)) as Client;
    const file = { sha256, mime: 'image/png', kind: 'image' as const, name: 'dot.png' };
    const { messageId } = await connector.sender.sendFile!('chat-ffffffff', file, {
      replyToMessageId: 'm-1',
    });
    expect(await tab.next((f) => f.type === 'final')).toMatchObject({
      messageId,
      text: '',
      replyTo: 'm-1',
      attachments: [file],
    });
    // The page shows it from /chat/media/<sha256>?type=<mime>, as it shows uploads.
    const served = await fetch(`http://${host}/chat/media/${sha256}?type=image%2Fpng`, {
      headers: { cookie: `switchyard_webchat=${TOKEN}` },
    });
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);
    await expect(
      connector.sender.sendFile!('chat-ffffffff', { ...file, sha256: 'c'.repeat(64) }),
    ).rejects.toThrow(/dot\.png is no longer in the media store/);
    tab.ws.close();
  });
});

// Discord at its wire protocol, for the real discord.js: crabline (in-process) serves the REST API
// and the gateway; a loopback proxy in front of both lets a test do what Discord does on its own
// time — drop the gateway connection, or deliver a MESSAGE_CREATE dispatch a second time (as a
// resumed session replays events). Everything else passes through unchanged.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DiscordServerManifest, startDiscordServer } from '@openclaw/crabline';
import { WebSocket, WebSocketServer } from 'ws';
import { type ApiProxy, startApiProxy } from '../helpers/api-proxy.js';

export interface DiscordInbound {
  channelId: string;
  /** Omitted for a DM. */
  guildId?: string;
  senderId: string;
  senderName?: string;
  content: string;
  /** A thread: channelId is the thread, this its channel. */
  parentChannelId?: string;
  message_reference?: { message_id: string };
}

export interface RecordedCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

export interface FakeDiscord {
  manifest: DiscordServerManifest;
  /** REST root the connector is given (the proxy). */
  apiRoot: string;
  botToken: string;
  botUserId: string;
  guildId: string;
  /** The guild's text channel. */
  channelId: string;
  /** The DM channel between the bot and a user. */
  dmChannel(userId: string): string;
  /** A user's message, delivered to the bot over the gateway. Returns the created message. */
  send(message: DiscordInbound): Promise<{ id: string; channel_id: string }>;
  /**
   * A person's message with files. crabline takes files only from its driver bot, so the driver
   * posts them and the proxy delivers its dispatch as written by a person (`as`), not a bot.
   */
  sendFiles(
    message: { channelId: string; content: string; as: { id: string; username: string } },
    files: Array<{ name: string; mime: string; bytes: Buffer }>,
  ): Promise<{ id: string }>;
  /** Deliver the MESSAGE_CREATE dispatch of that message again, on the open connection. */
  redeliver(messageId: string): void;
  /** Close the bot's gateway connections from the server side. */
  drop(): void;
  /** While on, new gateway connections are refused (Discord unreachable). */
  refuseConnections(on: boolean): void;
  /** Gateway sessions the bot identified or resumed (op 2 and op 6 frames through the proxy). */
  sessions(): number;
  connections(): number;
  calls(method?: string, path?: RegExp): RecordedCall[];
  /** Bodies of messages the bot created in a channel. */
  posts(channelId?: string): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface FakeDiscordOptions {
  onEvent?: Parameters<typeof startDiscordServer>[0] extends infer P
    ? P extends { onEvent?: infer E }
      ? E
      : never
    : never;
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-discord-'));
  const server = await startDiscordServer({
    recorderPath: join(dir, 'recorder.jsonl'),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  const { manifest } = server;
  const upstream = new URL(manifest.baseUrl);
  const clients = new Set<WebSocket>();
  const dispatches = new Map<string, string>();
  let sessions = 0;
  let refusing = false;
  /** Who wrote the driver's posts, by their text. */
  const people = new Map<string, { id: string; username: string }>();
  let proxy: ApiProxy | undefined;
  proxy = await startApiProxy({
    target: upstream.origin,
    rewrite(request, json) {
      // The gateway URL the REST API hands out points at the proxy, so the proxy sees the socket.
      if (request.url.startsWith('/api/v10/gateway')) {
        return { ...(json as object), url: `ws://127.0.0.1:${proxy!.port}/gateway` };
      }
      return json;
    },
  });
  const wss = new WebSocketServer({ noServer: true });
  proxy.server.on('upgrade', (request, socket, head) => {
    if (refusing || !request.url?.startsWith('/gateway')) return socket.destroy();
    wss.handleUpgrade(request, socket, head, (client) => {
      const target = new WebSocket(`ws://${upstream.host}${request.url}`);
      const early: string[] = [];
      clients.add(client);
      client.on('message', (data) => {
        const text = String(data);
        const op = (JSON.parse(text) as { op?: number }).op;
        if (op === 2 || op === 6) sessions++;
        if (target.readyState === WebSocket.OPEN) target.send(text);
        else early.push(text);
      });
      target.on('open', () => {
        for (const text of early.splice(0)) target.send(text);
      });
      target.on('message', (data) => {
        let text = String(data);
        const frame = JSON.parse(text) as {
          op?: number;
          t?: string;
          d?: { id?: string; resume_gateway_url?: string };
        };
        const fromDriver =
          frame.op === 0 &&
          frame.t === 'MESSAGE_CREATE' &&
          (frame.d as { author?: { id?: string } } | undefined)?.author?.id === manifest.driverBotUserId;
        const person = fromDriver
          ? people.get(String((frame.d as { content?: unknown }).content))
          : undefined;
        if (person) {
          text = JSON.stringify({
            ...frame,
            d: {
              ...frame.d,
              author: { id: person.id, username: person.username, discriminator: '0', bot: false },
            },
          });
        }
        if (frame.op === 0 && frame.t === 'MESSAGE_CREATE' && frame.d?.id) dispatches.set(frame.d.id, text);
        if (frame.op === 0 && frame.t === 'READY' && frame.d?.resume_gateway_url) {
          // Resumes come back through the proxy too.
          text = JSON.stringify({
            ...frame,
            d: { ...frame.d, resume_gateway_url: `ws://127.0.0.1:${proxy!.port}/gateway` },
          });
        }
        if (client.readyState === WebSocket.OPEN) client.send(text);
      });
      const closeBoth = () => {
        clients.delete(client);
        client.terminate();
        target.terminate();
      };
      client.on('close', closeBoth);
      target.on('close', closeBoth);
      target.on('error', closeBoth);
      client.on('error', closeBoth);
    });
  });

  const readRecorder = (): RecordedCall[] => {
    let text = '';
    try {
      text = readFileSync(manifest.recorderPath, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .flatMap((line) => {
        const parsed = JSON.parse(line) as { events?: unknown[] };
        return (Array.isArray(parsed.events) ? parsed.events : [parsed]) as Array<{
          type: string;
          method: string;
          path: string;
          body?: Record<string, unknown>;
        }>;
      })
      .filter((event) => event.type === 'api')
      .map((event) => ({ method: event.method, path: event.path, body: event.body ?? {} }));
  };

  const fake: FakeDiscord = {
    manifest,
    apiRoot: `${proxy.origin}/api`,
    botToken: manifest.botToken,
    botUserId: manifest.botUserId,
    guildId: manifest.fixture.guildId,
    channelId: manifest.fixture.channelId,
    // Any unused snowflake makes a DM channel in crabline; one per user keeps them apart.
    dmChannel: (userId) => `1350000000000070${userId.slice(-3)}`,
    async send(message) {
      const res = await fetch(manifest.endpoints.adminInboundUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-crabline-admin-token': manifest.adminToken },
        body: JSON.stringify(message),
      });
      const answer = (await res.json()) as { message?: { id: string; channel_id: string } };
      if (!res.ok || !answer.message)
        throw new Error(`inject refused: ${res.status} ${JSON.stringify(answer)}`);
      return answer.message;
    },
    async sendFiles(message, files) {
      const form = new FormData();
      form.set(
        'payload_json',
        JSON.stringify({
          content: message.content,
          attachments: files.map((file, i) => ({ id: i, filename: file.name })),
        }),
      );
      files.forEach((file, i) => {
        form.set(`files[${i}]`, new Blob([new Uint8Array(file.bytes)], { type: file.mime }), file.name);
      });
      // crabline dispatches the message while it handles the post: say who wrote it first.
      people.set(message.content, { ...message.as });
      const res = await fetch(`${upstream.origin}/api/v10/channels/${message.channelId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bot ${manifest.driverBotToken}` },
        body: form,
      });
      const created = (await res.json()) as { id?: string };
      if (!res.ok || !created.id)
        throw new Error(`driver post refused: ${res.status} ${JSON.stringify(created)}`);
      return { id: created.id };
    },
    redeliver(messageId) {
      const frame = dispatches.get(messageId);
      if (!frame) throw new Error(`no MESSAGE_CREATE for ${messageId} went through the proxy`);
      for (const client of clients) client.send(frame);
    },
    drop() {
      for (const client of clients) client.terminate();
    },
    refuseConnections(on) {
      refusing = on;
    },
    sessions: () => sessions,
    connections: () => clients.size,
    calls(method, path) {
      return readRecorder().filter(
        (call) =>
          (method === undefined || call.method === method) && (path === undefined || path.test(call.path)),
      );
    },
    posts(channelId) {
      return fake
        .calls('POST', /^\/api\/v10\/channels\/\d+\/messages$/)
        .filter((call) => channelId === undefined || call.path === `/api/v10/channels/${channelId}/messages`)
        .map((call) => call.body);
    },
    async close() {
      for (const client of clients) client.terminate();
      wss.close();
      await proxy?.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fake;
}

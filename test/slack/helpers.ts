// Slack at its wire protocol, for the real bolt/web-api SDKs: crabline (in-process) serves the Web
// API and stores messages; in Socket Mode, which crabline does not serve, a small server here
// speaks Slack's socket protocol — apps.connections.open on the Web API root (forwarding every
// other method to crabline), then a WebSocket that says hello, pushes `events_api` envelopes and
// waits for their acknowledgement by envelope_id. In HTTP mode crabline signs and posts each
// event to the gateway itself (retrying on a non-2xx or a 3 s timeout, as Slack does).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SlackServerManifest, startSlackServer } from '@openclaw/crabline';
import { type WebSocket, WebSocketServer } from 'ws';
import type { SlackEventCallback } from '../../channels/slack/normalize.js';
import { type ApiProxy, startApiProxy } from '../helpers/api-proxy.js';
import { until } from '../helpers/until.js';

export const SLACK_APP_TOKEN = 'xapp-1-ATEST-0001-socketmodetoken';
export const SLACK_BOT_USER = 'UCRABBOT';

export interface RecordedApiCall {
  path: string;
  body: Record<string, unknown>;
}

export interface SlackMessageInput {
  channel: string;
  user: string;
  text: string;
  threadTs?: string;
  ts?: string;
}

export interface FakeSlack {
  manifest: SlackServerManifest;
  /** The Web API root the connector is given (the socket-mode server, which forwards to crabline). */
  apiUrl: string;
  botToken: string;
  signingSecret: string;
  appToken: string;
  /**
   * A user's message: crabline stores it and builds Slack's event; in Socket Mode it is pushed over
   * the open connection (and acknowledged), in HTTP mode crabline posts it to the gateway.
   */
  send(message: SlackMessageInput): Promise<SlackEventCallback>;
  /**
   * Socket Mode: a user's message with files, as Slack sends it (subtype file_share): crabline
   * stores the message (it keeps no files), the files are served here at url_private, for the bot token only.
   */
  sendFiles(
    message: SlackMessageInput,
    files: Array<{ name: string; mime: string; bytes: Buffer }>,
  ): Promise<void>;
  /** Downloads of served files, with whether the bot token came along. */
  downloads(): Array<{ path: string; authorized: boolean }>;
  /** Socket Mode: push an envelope (again, as Slack does when it retries); resolves when acknowledged. */
  push(event: SlackEventCallback, retry?: { attempt: number; reason: string }): Promise<void>;
  /** Socket Mode: a slash command typed by a user; resolves when acknowledged. */
  command(payload: { command: string; text: string; user_id: string; channel_id: string }): Promise<void>;
  /** Socket Mode: open connections, and how many were ever opened (apps.connections.open calls). */
  connections(): number;
  opened(): number;
  /** Socket Mode: close every connection from the server side, as Slack does when it recycles one. */
  drop(): void;
  /** Socket Mode: while on, apps.connections.open answers 503 (Slack unreachable for new sockets). */
  refuseConnections(on: boolean): void;
  /** Web API calls the app made, in order (crabline's recorder). */
  calls(path?: string): RecordedApiCall[];
  /** chat.postMessage bodies, in order. */
  posts(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface FakeSlackOptions {
  /** HTTP mode: where crabline posts events (the gateway's events route). */
  eventsRequestUrl?: string;
  onEvent?: Parameters<typeof startSlackServer>[0] extends infer P
    ? P extends { onEvent?: infer E }
      ? E
      : never
    : never;
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-slack-'));
  const server = await startSlackServer({
    recorderPath: join(dir, 'recorder.jsonl'),
    ...(options.eventsRequestUrl ? { eventsRequestUrl: options.eventsRequestUrl } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  const { manifest } = server;
  const socketMode = options.eventsRequestUrl === undefined;
  const sockets = new Set<WebSocket>();
  const acks = new Map<string, () => void>();
  let opened = 0;
  let refusing = false;
  const served = new Map<string, { bytes: Buffer; mime: string }>();
  const downloads: Array<{ path: string; authorized: boolean }> = [];
  let proxy: ApiProxy | undefined;
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { envelope_id?: string };
      if (frame.envelope_id) acks.get(frame.envelope_id)?.();
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.size,
        debug_info: { host: 'switchyard-test', approximate_connection_time: 18060 },
        connection_info: { app_id: 'ACRABLINE' },
      }),
    );
  });
  proxy = await startApiProxy({
    target: new URL(manifest.endpoints.apiRoot).origin,
    intercept(request) {
      if (request.url.startsWith('/files-pri/')) {
        const authorized = request.headers.authorization === `Bearer ${manifest.botToken}`;
        downloads.push({ path: request.url, authorized });
        const file = served.get(request.url);
        // Without the token Slack answers with its sign-in page, and status 200.
        if (!authorized)
          return { status: 200, body: Buffer.from('<html>sign in</html>'), contentType: 'text/html' };
        if (!file) return { status: 404, body: Buffer.from('gone'), contentType: 'text/plain' };
        return { status: 200, body: file.bytes, contentType: file.mime };
      }
      if (!request.url.startsWith('/api/apps.connections.open')) return undefined;
      if (refusing) return { status: 503, json: { ok: false, error: 'service_unavailable' } };
      if (request.headers.authorization !== `Bearer ${SLACK_APP_TOKEN}`) {
        return { status: 200, json: { ok: false, error: 'invalid_auth' } };
      }
      opened++;
      return {
        status: 200,
        json: { ok: true, url: `ws://127.0.0.1:${proxy!.port}/link/?ticket=${randomUUID()}` },
      };
    },
  });
  proxy.server.on('upgrade', (request, socket, head) => {
    if (!request.url?.startsWith('/link/')) return socket.destroy();
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  const readRecorder = (): RecordedApiCall[] => {
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
          path: string;
          body?: Record<string, unknown>;
        }>;
      })
      .filter((event) => event.type === 'api')
      .map((event) => ({ path: event.path, body: event.body ?? {} }));
  };

  /** Sends one Socket Mode envelope and waits for its acknowledgement. */
  async function envelope(frame: Record<string, unknown>): Promise<void> {
    await until(() => (sockets.size > 0 ? true : undefined), 20_000, 25);
    const envelopeId = randomUUID();
    const acked = new Promise<void>((resolve) => acks.set(envelopeId, resolve));
    const [socket] = sockets;
    socket!.send(JSON.stringify({ envelope_id: envelopeId, ...frame }));
    await acked;
    acks.delete(envelopeId);
  }

  const fake: FakeSlack = {
    manifest,
    apiUrl: `${proxy.origin}/api/`,
    botToken: manifest.botToken,
    signingSecret: manifest.signingSecret,
    appToken: SLACK_APP_TOKEN,
    async send(message) {
      const res = await fetch(manifest.endpoints.adminInboundUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-crabline-admin-token': manifest.adminToken },
        body: JSON.stringify(message),
      });
      const answer = (await res.json()) as { ok: boolean; event?: SlackEventCallback; error?: string };
      if (!answer.ok || !answer.event) throw new Error(`inject refused: ${JSON.stringify(answer)}`);
      if (socketMode) await fake.push(answer.event);
      return answer.event;
    },
    async sendFiles(message, files) {
      const res = await fetch(manifest.endpoints.adminInboundUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-crabline-admin-token': manifest.adminToken },
        body: JSON.stringify(message),
      });
      const answer = (await res.json()) as { ok: boolean; event?: SlackEventCallback };
      if (!answer.ok || !answer.event?.event) throw new Error(`inject refused: ${JSON.stringify(answer)}`);
      const described = files.map((file, i) => {
        const id = `F0TEST${String(served.size + i).padStart(4, '0')}`;
        const path = `/files-pri/TCRABLINE-${id}/${encodeURIComponent(file.name)}`;
        served.set(path, { bytes: file.bytes, mime: file.mime });
        return {
          id,
          name: file.name,
          mimetype: file.mime,
          size: file.bytes.length,
          url_private: `${proxy!.origin}${path}`,
          url_private_download: `${proxy!.origin}${path}`,
        };
      });
      await fake.push({
        ...answer.event,
        event: { ...answer.event.event, subtype: 'file_share', files: described },
      });
    },
    downloads: () => downloads,
    async push(event, retry) {
      await envelope({
        type: 'events_api',
        accepts_response_payload: false,
        retry_attempt: retry?.attempt ?? 0,
        retry_reason: retry?.reason ?? '',
        payload: event,
      });
    },
    async command(payload) {
      await envelope({
        type: 'slash_commands',
        accepts_response_payload: true,
        payload: { token: 'x', team_id: 'TCRABLINE', trigger_id: randomUUID(), ...payload },
      });
    },
    connections: () => sockets.size,
    opened: () => opened,
    refuseConnections(on) {
      refusing = on;
    },
    drop() {
      for (const socket of sockets) socket.terminate();
    },
    calls(path) {
      return readRecorder().filter((call) => path === undefined || call.path === path);
    },
    posts() {
      return fake.calls('/api/chat.postMessage').map((call) => call.body);
    },
    async close() {
      for (const socket of sockets) socket.terminate();
      wss.close();
      await proxy?.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fake;
}

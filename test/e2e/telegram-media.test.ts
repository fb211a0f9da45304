// Media end to end through Telegram: crabline (behind test/telegram/file-server.ts, which adds
// getFile and file downloads) drives the real grammy connector in the real gateway; each turn runs
// on a real `switchyard worker` process with real sharp, ffmpeg, pdf.js and the local speech engine
// (faster-whisper), on real Temporal; the model is a vision-capable model at the OpenAI wire. Then
// a worker is SIGKILLed while it transcribes a voice note.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sessionWorkflowId } from '../../channels/session-key.js';
import { sessionHistory } from '../../client/sessions.js';
import { loadConfig } from '../../config/load.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { turnWorkflowId } from '../../workflows/session/session-api.js';
import { startedAttempts } from '../agent/harness.js';
import { startWireServer, type WireRequest, type WireServer } from '../agent/wire-servers.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';
import { isAlive, type Spawned, spawnSwitchyard } from '../helpers/processes.js';
import { pdf, photo, voiceNote } from '../media/fixtures.js';
import { eventually, type FakeTelegram, startFakeTelegram } from '../telegram/helpers.js';

const TOKEN = 'tg-media-token-0123456789';
// One private chat per test (a Telegram private chat's id is its user's id).
const PHOTO = 3301;
const VOICE = 3302;
const DOC = 3303;
const CORRUPT = 3304;
const CRASH = 3305;
const FILE_ANSWER = 'Thanks, I have looked at it.';
const SENTINEL = 'and one more thing';
const SENTINEL_ANSWER = 'Noted, one more thing.';
const SEND_BACK = 'send it back';

type Part = { type?: string; text?: string; image_url?: { url: string } };

/** The last user message of a chat-completions request: its text and its image parts. */
function lastUser(request: WireRequest): { text: string; images: string[] } {
  const messages = request.body.messages as Array<{ role: string; content: unknown }>;
  const content = messages.filter((m) => m.role === 'user').at(-1)?.content;
  const parts: Part[] = typeof content === 'string' ? [{ type: 'text', text: content }] : (content as Part[]);
  return {
    text: parts.map((p) => p.text ?? '').join('\n'),
    images: parts.filter((p) => p.type === 'image_url').map((p) => p.image_url!.url),
  };
}

/** Pids of the local speech engine (media/stt/whisper_worker.py) started by process `parent`. */
function speechEngines(parent: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('whisper_worker.py'))
        found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('media through Telegram, the real gateway, a worker process and Temporal', () => {
  const address = inject('temporalAddress');
  const taskQueue = uniqueTaskQueue('tg-media');
  const workers: Spawned[] = [];
  let telegram: FakeTelegram;
  let wire: WireServer;
  let gateway: Gateway;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    telegram = await startFakeTelegram({ files: true });
    wire = await startWireServer('openai', (request) => {
      const { text } = lastUser(request);
      if (text.includes(SENTINEL)) return { text: SENTINEL_ANSWER };
      // Asked to, the model sends back the first file the turn offers it.
      const offered = /^- sha256:([0-9a-f]{64}) /m.exec(text)?.[1];
      if (text.includes(SEND_BACK) && offered) return { text: `${FILE_ANSWER}\nMEDIA: sha256:${offered}` };
      return { text: FILE_ANSWER };
    });
    const home = mkdtempSync(join(tmpdir(), 'switchyard-e2e-tg-media-'));
    writeFileSync(
      join(home, 'switchyard.yaml'),
      [
        'providers:',
        '  eye:',
        '    type: openai-compatible',
        `    baseUrl: "${wire.url}/v1"`,
        '    apiKey: none',
        '    models: [{ id: vision, contextWindow: 32000, input: [text, image] }]',
        'agents:',
        '  - id: main',
        '    model: eye/vision',
        'session:',
        '  dmScope: per-channel-peer',
        'channels:',
        '  telegram:',
        `    botToken: "${telegram.botToken}"`,
        `    apiRoot: "${telegram.apiRoot}"`,
        '    dmPolicy: allowlist',
        `    allowFrom: [${[PHOTO, VOICE, DOC, CORRUPT, CRASH].map((id) => `"${id}"`).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    env = {
      SWITCHYARD_HOME: home,
      TEMPORAL_ADDRESS: address,
      SWITCHYARD_TASK_QUEUE: taskQueue,
      SWITCHYARD_GATEWAY_TOKEN: TOKEN,
      SWITCHYARD_GATEWAY_PORT: String(port),
    };
    gateway = await buildGateway({
      config: loadConfig({ home, env }),
      token: TOKEN,
      logger: false,
      watchPipelines: false,
    });
    await gateway.app.listen({ host: '127.0.0.1', port });
  }, 60_000);
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await gateway?.close();
    await telegram?.close();
    await wire?.close();
  });

  const replies = (chat: number) =>
    telegram
      .calls('sendMessage')
      .filter((c) => String(c.body.chat_id) === String(chat))
      .map((c) => c.body);

  /**
   * Sends `files` from `chat`, then a text message; once the text's reply is here, every reply to
   * the files would be too (one session answers its messages in order). Returns the model request
   * that answered the files, and the replies in the chat.
   */
  async function exchange(
    chat: number,
    files: Parameters<FakeTelegram['injectMedia']>[1],
    caption?: string,
  ): Promise<{ request: WireRequest; chatReplies: Array<Record<string, unknown>> }> {
    const before = wire.requests.length;
    const sent = await telegram.injectMedia({ chatId: chat, fromId: chat, fromName: 'Ada' }, files, caption);
    await eventually(() => replies(chat)[0], 120_000);
    await telegram.inject({ chatId: chat, fromId: chat, fromName: 'Ada', text: SENTINEL });
    await eventually(() => replies(chat).find((r) => r.text === SENTINEL_ANSWER), 60_000);
    const chatReplies = replies(chat);
    expect(chatReplies.map((r) => r.text)).toEqual([FILE_ANSWER, SENTINEL_ANSWER]);
    expect(chatReplies[0]).toMatchObject({ reply_parameters: { message_id: sent.message.message_id } });
    const request = wire.requests.slice(before).find((r) => !lastUser(r).text.includes(SENTINEL));
    return { request: request!, chatReplies };
  }

  describe('what the agent gets from each kind of file', () => {
    beforeAll(async () => {
      const worker = spawnSwitchyard(['worker'], env);
      workers.push(worker);
      await worker.waitFor(/worker ready/);
      await gateway.channels.workersReady;
    }, 60_000);
    afterAll(async () => {
      // A graceful stop: the crash test below starts workers of its own.
      await workers[0]?.kill('SIGTERM');
    });

    it('shows a 4000×3000 photo to the vision model as a JPEG of at most 1200 px, answers once and sends it back once', async () => {
      const big = await photo(4000, 3000);
      const calls = telegram.fileCalls.length;
      const { request } = await exchange(
        PHOTO,
        { photo: { bytes: big, width: 4000, height: 3000 } },
        `what is this? ${SEND_BACK}`,
      );
      const { text, images } = lastUser(request);
      expect(text).toContain('what is this?');
      expect(text).toContain('4000×3000 JPEG');
      expect(text).not.toContain('not described');
      // On the wire: the model-ready image itself, scaled down, metadata stripped.
      expect(images).toHaveLength(1);
      expect(images[0]).toMatch(/^data:image\/jpeg;base64,/);
      const seen = await sharp(
        Buffer.from(images[0]!.slice(images[0]!.indexOf(',') + 1), 'base64'),
      ).metadata();
      expect(Math.max(seen.width!, seen.height!)).toBeLessThanOrEqual(1200);
      expect([seen.width, seen.height, seen.format]).toEqual([1200, 900, 'jpeg']);
      expect(seen.exif).toBeUndefined();
      // The connector fetched the largest size through getFile and downloaded it once.
      expect(telegram.fileCalls.slice(calls).map((c) => c.split(' ')[0])).toEqual(['getFile', 'download']);
      // The agent sent a file of the turn back: one photo in the chat (its answer's MEDIA line is
      // not in the text), sent by the photo's turn, so before the later message's answer.
      const offered = /^- sha256:([0-9a-f]{64}) /m.exec(text)![1]!;
      const back = telegram.sentFiles.filter((f) => f.chatId === String(PHOTO));
      expect(back.map((f) => f.method)).toEqual(['sendPhoto']);
      expect(createHash('sha256').update(back[0]!.bytes).digest('hex')).toBe(offered);
    }, 180_000);

    it('transcribes a spoken voice note with the local engine and gives the agent the words', async () => {
      const spoken = 'Please book the cabin near the lake for the first week of August.';
      const { request } = await exchange(VOICE, {
        voice: { bytes: voiceNote(spoken), mime: 'audio/ogg', duration: 4 },
      });
      const { text, images } = lastUser(request);
      expect(text).toMatch(/\[voice note, 0:0\d, transcribed\] .*cabin.*lake.*August/i);
      expect(images).toEqual([]);
      // The session keeps the words with the message, marked as a voice note.
      const history = await sessionHistory(gateway.client, `agent:main:telegram:direct:${VOICE}`);
      const user = history.transcript.filter((e) => e.role === 'user').map((e) => e.text);
      expect(user[0]).toMatch(/\[voice note\].*cabin/i);
    }, 180_000);

    it('reads the text of a PDF sent as a document', async () => {
      const { request } = await exchange(DOC, {
        document: { bytes: await pdf(2), name: 'invoice.pdf', mime: 'application/pdf' },
      });
      const { text } = lastUser(request);
      expect(text).toContain('[document invoice.pdf: PDF, 2 of 2 pages read]');
      expect(text).toContain('Page 1. The invoice total is 100 euros.');
      expect(text).toContain('Page 2. The invoice total is 200 euros.');
    }, 180_000);

    it('answers a corrupt photo with a note saying it could not be read', async () => {
      const broken = (await photo(800, 600)).subarray(0, 600);
      const { request } = await exchange(
        CORRUPT,
        { photo: { bytes: broken, width: 800, height: 600 } },
        'and this?',
      );
      const { text, images } = lastUser(request);
      expect(text).toContain('and this?');
      expect(text).toMatch(
        /\[could not read the attachment \(image[^)]*\): the image is damaged or not an image \(/,
      );
      expect(images).toEqual([]);
    }, 180_000);
  });

  describe('a worker SIGKILLed while it transcribes a voice note', () => {
    it('finishes the turn on a new worker and answers once, before the next message', async () => {
      const first = spawnSwitchyard(['worker'], env);
      workers.push(first);
      await first.waitFor(/worker ready/);
      const pid = first.child.pid!;
      // Its speech engine is started by the first transcription (after ffmpeg converted the note).
      expect(speechEngines(pid)).toEqual([]);
      const before = wire.requests.length;
      const spoken =
        'Remind me to water the tomatoes in the garden on Saturday morning before the market opens.';
      const note = await telegram.injectMedia(
        { chatId: CRASH, fromId: CRASH, fromName: 'Ada' },
        { voice: { bytes: voiceNote(spoken), mime: 'audio/ogg', duration: 6 } },
      );
      // SIGKILL lands once the worker's transcription activity has started its speech engine.
      let engine: number | undefined;
      await eventually(() => (engine = speechEngines(pid)[0]), 120_000);
      first.child.kill('SIGKILL');
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
      // The turn had not got past the media stage: no model call yet.
      expect(wire.requests.length).toBe(before);
      // The engine does not outlive its worker (its stdin closes with it).
      await expect.poll(() => isAlive(engine!), { timeout: 30_000 }).toBe(false);

      const second = spawnSwitchyard(['worker'], env);
      workers.push(second);
      await second.waitFor(/worker ready/);
      // A later message: the session answers it after the voice note's turn, so once its reply is
      // here, every reply to the voice note is too.
      await telegram.inject({ chatId: CRASH, fromId: CRASH, fromName: 'Ada', text: SENTINEL });
      // The transcription is tried again once the dead worker's heartbeat is missed (30 s).
      await eventually(() => replies(CRASH).find((r) => r.text === SENTINEL_ANSWER), 150_000);
      expect(replies(CRASH).map((r) => r.text)).toEqual([FILE_ANSWER, SENTINEL_ANSWER]);
      expect(replies(CRASH)[0]).toMatchObject({ reply_parameters: { message_id: note.message.message_id } });
      // The model got the words once, from the second worker's transcription.
      const heard = wire.requests.slice(before).filter((r) => !lastUser(r).text.includes(SENTINEL));
      expect(heard).toHaveLength(1);
      expect(lastUser(heard[0]!).text).toMatch(
        /\[voice note, 0:0\d, transcribed\] .*garden.*Saturday.*market/i,
      );
      // In the turn's history: the transcription's last started attempt is the second. The default
      // pipeline's turn runs inside the session workflow (docs/sessions.md), whose only voice note
      // this is.
      const sessionKey = `agent:main:telegram:direct:${CRASH}`;
      const voiceTurn = turnWorkflowId(sessionKey, String(note.message.message_id));
      expect((await sessionHistory(gateway.client, sessionKey)).turns[0]).toMatchObject({
        workflowId: voiceTurn,
        inline: true,
        status: 'completed',
      });
      const session = gateway.client.workflow.getHandle(sessionWorkflowId(sessionKey));
      const events = (await session.fetchHistory()).events ?? [];
      expect(startedAttempts(events, 'mediaTranscribe')).toEqual([2]);
    }, 240_000);
  });
});

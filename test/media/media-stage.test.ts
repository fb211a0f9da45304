// The media stage of the default pipeline, on a real worker and Temporal with real sharp, ffmpeg,
// pdf.js and the local speech engine: what the agent reads for each kind of attachment, and a
// note (never a failed turn) for each kind of bad input.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AgentModelsConfig, loadAgentModelsConfig } from '../../activities/agent/index.js';
import type { AttachmentRef, InboundMessage } from '../../channels/envelope.js';
import type { Config } from '../../config/config.js';
import { projectRoot } from '../../config/home.js';
import { builtInStepTypes } from '../../engine/index.js';
import type { BlobStore } from '../../media/blob-store.js';
import { productionMedia } from '../../worker/worker.js';
import { startWireServer, type WireServer } from '../agent/wire-servers.js';
import { testConfig } from '../helpers/config.js';
import { type FauxAgent, fauxAgent } from '../helpers/faux-agent.js';
import { startRecordingChannel } from '../helpers/recording-channel.js';
import { compile, type Harness, startHarness } from '../pipeline/harness.js';
import { pdf, photo, voiceNote } from './fixtures.js';

describe('the media stage of the default pipeline', () => {
  const address = inject('temporalAddress');
  const p = compile(readFileSync(join(projectRoot(), 'pipelines', 'default.yaml'), 'utf8'), builtInStepTypes);
  let agent: FauxAgent;
  let h: Harness;
  let chat: Awaited<ReturnType<typeof startRecordingChannel>>;
  let config: Config;
  let media: ReturnType<typeof productionMedia>;
  let store: BlobStore;
  let models: AgentModelsConfig;
  let eye: WireServer;
  let eyeAnswer = '';
  const prompts: string[] = [];

  beforeAll(async () => {
    agent = fauxAgent();
    models = agent.config;
    // A model that can see, behind a local server speaking OpenAI's chat completions.
    eye = await startWireServer('openai', () => ({ text: eyeAnswer }));
    config = testConfig(address, {}, 'media:\n  maxMB: { video: 1 }\n');
    media = productionMedia(
      () => config,
      () => agent.config,
    );
    store = media.store;
    h = await startHarness(address, 'media-stage', {
      media: media.activities,
      agent: { config: () => models, readBlob: media.readBlob, imageDescriber: () => undefined },
    });
    chat = await startRecordingChannel(address, h.taskQueue, undefined, h.dataConverter);
    agent.answerWith((prompt) => {
      prompts.push(prompt);
      return 'Got it.';
    });
  }, 60_000);
  afterAll(async () => {
    await chat?.close();
    await h?.close();
    await media?.close();
    await eye?.close();
    agent?.close();
  });

  const message = (text: string, attachments: AttachmentRef[]): InboundMessage => ({
    channel: chat.channel,
    accountId: 'default',
    chat: { id: 'chat-m', kind: 'direct' },
    sender: { id: 'u-1', name: 'Ada' },
    messageId: `m-${randomUUID().slice(0, 6)}`,
    platformId: `${chat.channel}:chat-m:${randomUUID().slice(0, 6)}`,
    text,
    attachments,
    mentions: [],
    wasMentioned: false,
    timestamp: Date.now(),
  });

  async function stored(
    bytes: Buffer,
    ref: Omit<AttachmentRef, 'id' | 'sha256' | 'size'>,
  ): Promise<AttachmentRef> {
    const { sha256, size } = await store.put(bytes, ref.kind);
    return { id: `f-${sha256.slice(0, 8)}`, sha256, size, ...ref };
  }

  it('gives the agent the words of a voice note, the text of a PDF and the facts of a photo', async () => {
    const voice = await stored(
      voiceNote('Please book the cabin near the lake for the first week of August.'),
      { kind: 'voice', mime: 'audio/ogg' },
    );
    const doc = await stored(await pdf(2), {
      kind: 'document',
      mime: 'application/pdf',
      name: 'invoice.pdf',
    });
    const image = await stored(await photo(4000, 3000), {
      kind: 'image',
      mime: 'image/jpeg',
      name: 'garden.jpg',
    });
    const out = await h.run(p, {}, message('see attached', [voice, doc, image]));
    expect(out.reply).toBe('Got it.');
    const prompt = prompts.at(-1)!;
    expect(prompt).toMatch(/\[voice note, 0:0\d, transcribed\] .*cabin.*lake.*August/i);
    expect(prompt).toContain('[document invoice.pdf: PDF, 2 of 2 pages read]');
    expect(prompt).toContain('Page 2. The invoice total is 200 euros.');
    expect(prompt).toContain('[image garden.jpg: 4000×3000 JPEG]');
    // The faux model cannot see: it is told so, honestly.
    expect(prompt).toContain('[image garden.jpg: 4000×3000 JPEG, not described: no vision model]');
    // What the session keeps beside the message: the voice note's words, the files' names.
    expect(out.media).toMatch(/^\[voice note\] .*cabin/im);
    expect(out.media).toContain('[document invoice.pdf]');
  });

  it('shows a 12 MP photo to a model that can see at 1200 px, and sends the photo back when the agent names it', async () => {
    const image = await stored(await photo(4000, 3000), {
      kind: 'image',
      mime: 'image/jpeg',
      name: 'garden.jpg',
    });
    const before = eye.requests.length;
    eyeAnswer = `A garden with a red corner. Here it is again:\nMEDIA: sha256:${image.sha256}`;
    models = loadAgentModelsConfig(
      {
        providers: {
          eye: {
            type: 'openai-compatible',
            baseUrl: `${eye.url}/v1`,
            apiKey: 'none',
            models: [{ id: 'vision', contextWindow: 32_000, input: ['text', 'image'] }],
          },
        },
        agents: [{ id: 'seer', model: 'eye/vision' }],
      },
      { home: projectRoot() },
    );
    try {
      chat.sent.length = 0;
      const msg = message('what is this?', [image]);
      const out = await h.run(p, { agent: 'seer' }, msg);
      // The request on the wire carries the model-ready image itself, not a note about it.
      const request = eye.requests.slice(before).at(-1)!;
      const parts = (request.body.messages as Array<{ role: string; content: unknown }>)
        .filter((m) => m.role === 'user')
        .flatMap((m) => (Array.isArray(m.content) ? m.content : []));
      const images = parts.filter((c: { type?: string }) => c.type === 'image_url') as Array<{
        image_url: { url: string };
      }>;
      expect(images).toHaveLength(1);
      const url = images[0]!.image_url.url;
      expect(url).toMatch(/^data:image\/jpeg;base64,/);
      const sent = await sharp(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')).metadata();
      expect([sent.width, sent.height, sent.format]).toEqual([1200, 900, 'jpeg']);
      expect(sent.exif).toBeUndefined();
      expect(JSON.stringify(request.body)).not.toContain('not described');
      // The MEDIA line is taken out of the text; the photo as sent goes back to the chat once.
      expect(out.reply).toBe('A garden with a red corner. Here it is again:');
      expect(chat.sent).toEqual([
        { chatId: 'chat-m', text: 'A garden with a red corner. Here it is again:', replyTo: msg.messageId },
        { chatId: 'chat-m', text: '', file: { sha256: image.sha256, name: 'garden.jpg' } },
      ]);
    } finally {
      models = agent.config;
    }
  });

  it('answers a message whose attachments are all bad, with a note for each', async () => {
    const good = await photo(800, 600);
    const corrupt = await stored(good.subarray(0, 600), {
      kind: 'image',
      mime: 'image/jpeg',
      name: 'broken.jpg',
    });
    const lying = await stored(await pdf(1), { kind: 'image', mime: 'image/jpeg', name: 'photo.jpg' });
    const noise = await stored(Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919) % 256)), {
      kind: 'voice',
      mime: 'audio/ogg',
    });
    const locked = await stored(await pdf(2, { password: 'secret' }), {
      kind: 'document',
      mime: 'application/pdf',
      name: 'locked.pdf',
    });
    const tooBig: AttachmentRef = {
      id: 'big',
      kind: 'video',
      mime: 'video/mp4',
      name: 'holiday.mp4',
      error: 'too large: 80 MB (the limit for video files is 50 MB; media.maxMB in switchyard.yaml)',
    };
    const gone: AttachmentRef = { id: 'gone', kind: 'image', mime: 'image/png', sha256: 'e'.repeat(64) };
    const out = await h.run(p, {}, message('', [corrupt, lying, noise, locked, tooBig, gone]));
    expect(out.reply).toBe('Got it.');
    const prompt = prompts.at(-1)!;
    expect(prompt).toMatch(
      /\[could not read the attachment \(image broken\.jpg\): the image is damaged or not an image \(/,
    );
    // The bytes win over the declared type: the "photo" is read as the PDF it is.
    expect(prompt).toContain(
      '[document photo.jpg: PDF, 1 of 1 page read (sent as image/jpeg, but the file is application/pdf)]',
    );
    expect(prompt).toMatch(/\[could not read the attachment \(voice note\): the file is not a voice note/);
    expect(prompt).toContain(
      '[could not read the attachment (document locked.pdf): the PDF is password-protected',
    );
    expect(prompt).toContain('[could not read the attachment (video holiday.mp4): too large: 80 MB');
    expect(prompt).toMatch(
      /\[could not read the attachment \(image\): blob eeeeeeeeeeee… is not in the media store/,
    );
  });

  it('lets a pipeline author catch a named failure of media.transcribe', async () => {
    const custom = compile(
      [
        'name: transcribe-only',
        'steps:',
        '  - id: heard',
        '    try:',
        '      - id: t',
        '        uses: media.transcribe',
        '        with: { attachment: "${{ message.attachments[0] }}" }',
        '      - return: { text: "${{ steps.t.output.text }}" }',
        '    catch:',
        '      errors: [MediaUnreadable]',
        '      steps:',
        '        - return: { text: "unreadable: ${{ error.message }}" }',
        'outputs:',
        '  text: { value: "" }',
      ].join('\n'),
      builtInStepTypes,
    );
    const png = await stored(await photo(64, 64), { kind: 'voice', mime: 'audio/ogg' });
    const out = await h.run(custom, {}, message('', [png]));
    expect(out.text).toMatch(
      /^unreadable: the file holds neither sound nor pictures|^unreadable: the file has no sound/,
    );
  });
});

// The web chat page in a real browser (Debian Chromium via playwright-core), against a real
// gateway-side stack on loopback: connector + delta relay + hub, a real worker delta sink, and the
// real channel-send activity delivering the final answer (see test/stream/stand-in-turns.ts).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeltaSink, type DeltaSink } from '../../activities/stream/sink.js';
import { createWebchatConnector } from '../../channels/webchat/connector.js';
import { findChromium, HOW_TO_GET_CHROMIUM } from '../../config/chromium.js';
import { createDeltaHub } from '../../gateway/stream/hub.js';
import { DELTA_RELAY_PATH, deltaRelayPlugin } from '../../gateway/stream/relay.js';
import { BlobStore } from '../../media/blob-store.js';
import { freePort } from '../helpers/ports.js';
import { type StandInTurns, standInTurns } from '../stream/stand-in-turns.js';
import { recordingLog } from '../telegram/helpers.js';

const TOKEN = 'webchat-test-token-0123456789';

describe('web chat page in Chromium', () => {
  let app: FastifyInstance;
  let base: string;
  let sink: DeltaSink;
  let turns: StandInTurns;
  let browser: Browser;
  let blobs: BlobStore;
  let mediaDir: string;
  let releaseSlow: () => void = () => undefined;
  const slowGate = new Promise<void>((resolve) => {
    releaseSlow = resolve;
  });

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const hub = createDeltaHub();
    mediaDir = mkdtempSync(join(tmpdir(), 'switchyard-test-webchat-media-'));
    blobs = new BlobStore({ dir: mediaDir, maxBytes: { image: 64 * 1024 } });
    const connector = createWebchatConnector({
      ingest: (msg) => turns.ingest(msg),
      hub,
      token: TOKEN,
      log: recordingLog().log,
      attachments: blobs,
    });
    sink = createDeltaSink({ url: `ws://127.0.0.1:${port}${DELTA_RELAY_PATH}`, token: TOKEN });
    turns = standInTurns({
      sink,
      senders: [connector.sender],
      stepMs: 300,
      answer: async (msg) => {
        if (msg.text === 'slow question') {
          await slowGate;
          return { deltas: [], final: 'Sorry for the wait: 7.' };
        }
        if (msg.text === 'look it up') {
          return { tools: ['web_fetch'], deltas: ['Found ', 'it'], final: 'Found it: 42.' };
        }
        return { deltas: ['The ', 'answer ', 'is ', 'coming'], final: 'The answer is 42.' };
      },
    });
    app = Fastify({ logger: false });
    await app.register(websocket);
    await app.register(deltaRelayPlugin, { hub, token: TOKEN });
    await app.register(connector.plugin);
    await app.listen({ host: '127.0.0.1', port });
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    releaseSlow();
    await browser?.close();
    await turns?.idle();
    await sink?.close();
    await app?.close();
    turns?.close();
    if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
  });

  it('shows the answer streaming in as it is written, then the final answer in its place', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/chat`);
    await page.locator('body[data-connection="open"]').waitFor();
    // Record every text the answer bubble shows, as the user would see it change.
    // (A string: the test is type-checked without the DOM library.)
    await page.evaluate(`
      window.seen = [];
      new MutationObserver(() => {
        const el = document.querySelector('.msg.assistant');
        const text = el && el.getAttribute('data-state') + ':' + el.textContent;
        if (el && window.seen.at(-1) !== text) window.seen.push(text);
      }).observe(document.getElementById('messages'), {
        subtree: true, childList: true, characterData: true, attributes: true,
      });
    `);

    await page.locator('#input').fill('What is the answer?');
    await page.locator('#input').press('Enter');

    const answer = page.locator('.msg.assistant');
    await expect.poll(() => answer.getAttribute('data-state'), { timeout: 10_000 }).toBe('final');
    expect(await answer.textContent()).toBe('The answer is 42.');
    expect(await page.locator('.msg.assistant').count()).toBe(1);
    expect(await page.locator('.msg.user').textContent()).toBe('What is the answer?');
    expect(await page.locator('.msg.user').getAttribute('data-state')).toBe('sent');

    const seen = (await page.evaluate('window.seen')) as string[];
    const streaming = seen.filter((s) => s.startsWith('streaming:')).map((s) => s.slice('streaming:'.length));
    // Growing text, each a prefix of the next, before the final replaced it.
    expect(streaming.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < streaming.length; i++) expect(streaming[i]!.startsWith(streaming[i - 1]!)).toBe(true);
    expect(streaming.at(-1)).toBe('The answer is coming');
    expect(seen.at(-1)).toBe('final:The answer is 42.');

    const chatId = await page.evaluate("localStorage.getItem('switchyard.webchat.chatId')");
    const msg = turns.turns.find((m) => m.text === 'What is the answer?');
    expect(msg).toMatchObject({
      channel: 'webchat',
      accountId: 'default',
      chat: { id: chatId, kind: 'direct' },
      sender: { id: chatId },
      wasMentioned: true,
    });
    expect(msg!.platformId).toBe(`webchat:${chatId}:${msg!.messageId}`);
    await context.close();
  });

  it('says which tool the assistant is using while it works, and clears it with the answer', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/chat`);
    await page.locator('body[data-connection="open"]').waitFor();
    await page.evaluate(`
      window.activity = [];
      const el = document.getElementById('activity');
      new MutationObserver(() => {
        const shown = el.hidden ? '(hidden)' : el.textContent;
        if (window.activity.at(-1) !== shown) window.activity.push(shown);
      }).observe(el, { subtree: true, childList: true, characterData: true, attributes: true });
    `);
    await page.locator('#input').fill('look it up');
    await page.locator('#input').press('Enter');
    const answer = page.locator('.msg.assistant');
    await expect.poll(() => answer.getAttribute('data-state'), { timeout: 10_000 }).toBe('final');
    expect(await answer.textContent()).toBe('Found it: 42.');
    expect(await page.evaluate('window.activity')).toEqual(['Using web_fetch…', '(hidden)']);
    expect(await page.locator('#activity').isHidden()).toBe(true);
    await context.close();
  });

  it('gives a browser that was away the answer it missed, once', async () => {
    const context = await browser.newContext();
    const first = await context.newPage();
    await first.goto(`${base}/chat`);
    await first.locator('body[data-connection="open"]').waitFor();
    await first.locator('#input').fill('slow question');
    await first.locator('#send').click();
    await first.locator('.msg.user[data-state="sent"]').waitFor();
    await first.close(); // the user closes the tab; the turn goes on

    releaseSlow();
    await turns.idle(); // the final answer was delivered while no page was open

    const second = await context.newPage();
    await second.goto(`${base}/chat`);
    const answer = second.locator('.msg.assistant[data-state="final"]');
    await answer.waitFor({ timeout: 10_000 });
    expect(await answer.textContent()).toBe('Sorry for the wait: 7.');
    expect(await second.locator('.msg.user').textContent()).toBe('slow question');

    await second.reload();
    await second.locator('body[data-connection="open"]').waitFor();
    await new Promise((r) => setTimeout(r, 300)); // let the replayed finals arrive
    expect(await second.locator('.msg.assistant').allTextContents()).toEqual(['Sorry for the wait: 7.']);
    expect(turns.turns.filter((m) => m.text === 'slow question')).toHaveLength(1);
    await context.close();
  });

  it('uploads an attached image, shows it in the chat and hands it on by its address', async () => {
    // A real 2×2 PNG.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
      'base64',
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/chat`);
    await page.locator('body[data-connection="open"]').waitFor();
    await page.locator('#file').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: png });
    await page.locator('#files .chip').waitFor();
    await page.locator('#input').fill('what is this?');
    await page.locator('#input').press('Enter');
    await page.locator('.msg.user[data-state="sent"]').waitFor({ timeout: 10_000 });

    const sha256 = createHash('sha256').update(png).digest('hex');
    const msg = turns.turns.find((m) => m.text === 'what is this?');
    expect(msg?.attachments).toEqual([
      {
        id: `upload-${sha256.slice(0, 16)}`,
        kind: 'image',
        mime: 'image/png',
        size: png.length,
        name: 'dot.png',
        sha256,
      },
    ]);
    expect(await blobs.read(sha256)).toEqual(png);
    // The user sees their picture in the message, served back by the gateway.
    // (A string: a function would be rewritten by the test's compiler before reaching the browser.)
    const width = () =>
      page.evaluate(
        `(() => { const img = document.querySelector('.msg.user img.file[data-sha256="${sha256}"]'); return img && img.complete ? img.naturalWidth : 0; })()`,
      );
    await expect.poll(width, { timeout: 5_000 }).toBe(2);
    expect(await page.locator('#files .chip').count()).toBe(0);
    await context.close();
  });

  it('says so when a file is over the limit, and sends nothing', async () => {
    const before = turns.turns.length;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/chat`);
    await page.locator('body[data-connection="open"]').waitFor();
    await page
      .locator('#file')
      .setInputFiles({ name: 'huge.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(100 * 1024, 1) });
    await page.locator('#input').fill('too big?');
    await page.locator('#input').press('Enter');
    const error = page.locator('.msg.error');
    await error.waitFor({ timeout: 5_000 });
    expect(await error.textContent()).toBe(
      'huge.jpg: too large: 100 KB (the limit for image files is 64 KB; media.maxMB in switchyard.yaml)',
    );
    expect(await page.locator('.msg.user').count()).toBe(0);
    expect(turns.turns.length).toBe(before);
    await context.close();
  });
});

function chromiumPath(): string {
  const path = findChromium();
  if (!path) throw new Error(HOW_TO_GET_CHROMIUM);
  return path;
}

/// <reference lib="dom" />
// One conversation end to end, nothing stood in but the model: a real gateway (web chat, OpenAI
// API, delta relay, channel send workers), a real worker running session → pipeline → agent
// turn on the real dev server, and pi-ai's faux model streaming its answer.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findChromium, HOW_TO_GET_CHROMIUM } from '../../config/chromium.js';
import { openaiSessionKey, SEPARATE_SESSIONS, testConfig, uniqueTaskQueue } from '../helpers/config.js';
import { type ConversationStack, startConversationStack } from '../helpers/conversation-stack.js';
import { BIN } from '../helpers/processes.js';

const run = promisify(execFile);

const TOKEN = 'e2e-token-0123456789abcdef';
const ANSWER_TAIL = 'and that is all I have to say about it, in several streamed pieces.';

describe('a conversation through the real gateway, worker and Temporal', () => {
  const address = inject('temporalAddress');
  let stack: ConversationStack;
  let base: string;
  let home: string;

  beforeAll(async () => {
    const config = testConfig(address, { SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('e2e') }, SEPARATE_SESSIONS);
    home = config.home;
    stack = await startConversationStack(config, TOKEN, (prompt) => `You said "${prompt}", ${ANSWER_TAIL}`);
    base = stack.base;
  });
  afterAll(async () => stack?.close());

  const completions = (body: Record<string, unknown>) =>
    fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'main', ...body }),
    });

  it('answers an OpenAI-style request with the agent reply delivered by the workflow', async () => {
    const res = await completions({ user: 'alice', messages: [{ role: 'user', content: 'hello there' }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { role: string; content: string } }> };
    expect(body.choices[0]!.message).toEqual({
      role: 'assistant',
      content: `You said "hello there", ${ANSWER_TAIL}`,
    });
  });

  it('switchyard sessions show lists the turn with its tokens, calls and cost', async () => {
    const key = openaiSessionKey('alice');
    const show = async () =>
      JSON.parse(
        (
          await run(process.execPath, [BIN, 'sessions', 'show', key, '--json'], {
            env: { ...process.env, SWITCHYARD_HOME: home, TEMPORAL_ADDRESS: address },
          })
        ).stdout,
      ) as {
        transcript: Array<{ role: string }>;
        turns: Array<{
          status: string;
          usage: { modelCalls: number; toolCalls: number; totalTokens: number } | null;
        }>;
      };
    await expect.poll(async () => (await show()).turns[0]?.status, { timeout: 15_000 }).toBe('completed');
    const shown = await show();
    expect(shown.transcript.map((e) => e.role)).toEqual(['user', 'assistant']);
    expect(shown.turns[0]!.usage).toMatchObject({ modelCalls: 1, toolCalls: 0 });
    expect(shown.turns[0]!.usage!.totalTokens).toBeGreaterThan(0);
  });

  it('streams the answer as it forms, and the streamed text is the final answer', async () => {
    const res = await completions({
      user: 'bob',
      stream: true,
      messages: [{ role: 'user', content: 'stream it' }],
    });
    expect(res.status).toBe(200);
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6));
    expect(events.at(-1)).toBe('[DONE]');
    const pieces = events
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { choices: Array<{ delta: { content?: string } }> })
      .map((c) => c.choices[0]?.delta.content ?? '')
      .filter(Boolean);
    expect(pieces.join('')).toBe(`You said "stream it", ${ANSWER_TAIL}`);
    expect(pieces.length).toBeGreaterThan(1);
  });

  it('switchyard send puts one message through the web chat and prints the reply', async () => {
    const { stdout } = await run(
      process.execPath,
      [BIN, 'send', 'hello from the terminal', '--to', 'terminal'],
      {
        env: {
          ...process.env,
          SWITCHYARD_HOME: home,
          SWITCHYARD_GATEWAY_PORT: new URL(base).port,
          SWITCHYARD_GATEWAY_TOKEN: TOKEN,
          TEMPORAL_ADDRESS: address,
        },
      },
    );
    expect(stdout.trim()).toBe(`You said "hello from the terminal", ${ANSWER_TAIL}`);
  });

  describe('in the web chat page (Debian Chromium)', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: chromiumPath(),
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--no-first-run',
        ],
      });
    });
    afterAll(async () => browser?.close());

    it('shows the question, the streamed answer and then the final answer', async () => {
      const page = await browser.newPage();
      await page.goto(`${base}/chat`);
      const seen: string[] = [];
      await page.exposeFunction('recordBubble', (text: string) => seen.push(text));
      await page.evaluate(() => {
        const observer = new MutationObserver(() => {
          const bubbles = document.querySelectorAll('.msg.assistant');
          const last = bubbles[bubbles.length - 1];
          if (last?.textContent)
            (window as unknown as { recordBubble(t: string): void }).recordBubble(last.textContent);
        });
        observer.observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      await page.getByRole('textbox').fill('what about the page?');
      await page.keyboard.press('Enter');
      const final = `You said "what about the page?", ${ANSWER_TAIL}`;
      const answered = page.locator('.msg.assistant[data-state="final"]');
      await expect.poll(() => answered.allTextContents(), { timeout: 30_000 }).toEqual([final]);
      // The answer grew in place before the final replaced it.
      expect(seen.filter((t) => t !== final && final.startsWith(t)).length).toBeGreaterThan(0);
      expect(await page.textContent('body')).toContain('what about the page?');
    });
  });
});

function chromiumPath(): string {
  const path = findChromium();
  if (!path) throw new Error(HOW_TO_GET_CHROMIUM);
  return path;
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../config/home.js';
import { compile, type Harness, startHarness } from './harness.js';

const message = (over: Record<string, unknown> = {}) => ({
  id: 'm-1',
  channel: 'telegram',
  accountId: 'default',
  chat: { id: 'chat-9', kind: 'direct' },
  sender: { id: 'u-1', name: 'Ada' },
  text: 'what is on today?',
  attachments: [{ id: 'a-1', kind: 'image', mimeType: 'image/png', url: 'blob:a-1', name: 'plan.png' }],
  mentions: [],
  mentionsMe: false,
  timestamp: '2026-01-01T00:00:00.000Z',
  ...over,
});

describe('the shipped default pipeline with the placeholder step types', () => {
  const calls: Array<{ activity: string; step: string; args: unknown }> = [];
  const p = compile(readFileSync(join(projectRoot(), 'pipelines', 'default.yaml'), 'utf8'));
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(inject('temporalAddress'), 'default', {
      pipelineSteps: { onCall: (e) => calls.push({ activity: e.activity, step: e.call.step, args: e.args }) },
    });
  });
  afterAll(async () => h?.close());

  it('enriches media and recalls memory, runs the agent, and sends its reply to the chat', async () => {
    calls.length = 0;
    const out = await h.run(p, {}, message());
    expect(out.reply).toBe('[placeholder agent main: no model is wired yet; prompt was "what is on today?"]');
    expect(
      calls
        .map((c) => c.activity)
        .slice(0, 2)
        .sort(),
    ).toEqual(['mediaEnrich', 'memoryRecall']);
    expect(calls.map((c) => c.activity).slice(2)).toEqual(['agentTurn', 'replySend']);
    expect(calls.find((c) => c.activity === 'agentTurn')?.args).toMatchObject({
      agent: 'main',
      thinking: 'low',
      context: { media: '[placeholder media: image plan.png was not analysed]', memories: [] },
    });
    expect(calls.find((c) => c.activity === 'replySend')).toMatchObject({
      step: expect.any(String),
      args: { channel: 'telegram', chat: 'chat-9', reply_to: 'm-1', text: out.reply },
    });
  });

  it('routes a /command to the commands agent and skips media when there is none', async () => {
    calls.length = 0;
    const out = await h.run(p, {}, message({ text: '/status', attachments: [] }));
    expect(out.reply).toMatch(/^\[placeholder agent commands: /);
    expect(calls.map((c) => c.activity)).not.toContain('mediaEnrich');
  });

  it('returns an empty reply for a group message that does not mention it, calling nothing', async () => {
    calls.length = 0;
    const out = await h.run(p, {}, message({ chat: { id: 'g', kind: 'group' } }));
    expect(out).toEqual({ reply: '' });
    expect(calls).toEqual([]);
  });
});

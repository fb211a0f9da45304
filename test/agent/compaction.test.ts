import {
  completeSimple,
  type FauxProviderRegistration,
  fauxAssistantMessage,
  type Message,
  registerFauxProvider,
} from '@mariozechner/pi-ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assistantText,
  type ConversationState,
  compactIfNeeded,
  contextBudget,
  contextTokens,
  fitWithinBudget,
  messageTokens,
  planCompaction,
} from '../../workflows/agent/compaction.js';

describe('compaction keeps a long conversation inside the context budget', () => {
  let faux: FauxProviderRegistration;
  beforeAll(() => {
    faux = registerFauxProvider({ provider: 'faux', models: [{ id: 'small', contextWindow: 16_000 }] });
  });
  afterAll(() => faux.unregister());

  it('holds 200 turns with the faux provider under window − reserve, folding old turns into the summary', async () => {
    const model = faux.getModel();
    const budget = contextBudget(model.contextWindow, 4000);
    const systemPrompt = `You are a helpful assistant.\n${'Guidance. '.repeat(100)}`;
    let state: ConversationState = { systemPrompt, transcript: [] };
    let compactions = 0;
    let peak = 0;
    // The summariser folds "remembered turns" forward, so we can check nothing was silently dropped.
    const summarise = (request: { messages: Message[] }, maxTokens: number) => {
      faux.setResponses([
        (context) => {
          const text = JSON.stringify(context.messages);
          const turns = [...text.matchAll(/turn (\d+)/g)].map((m) => Number(m[1]));
          return fauxAssistantMessage(
            `Remembered turns up to ${Math.max(...turns)}. ${'detail '.repeat(50)}`,
          );
        },
      ]);
      return completeSimple(model, { systemPrompt: 'summarise', messages: request.messages }, { maxTokens });
    };

    for (let turn = 1; turn <= 200; turn++) {
      const prompt: Message = {
        role: 'user',
        content: `turn ${turn}: ${'question words '.repeat(20 + (turn % 7) * 15)}`,
        timestamp: turn,
      };
      const result = await compactIfNeeded(state, [prompt], budget, summarise);
      if (result.compacted) compactions++;
      state = {
        systemPrompt,
        transcript: result.transcript,
        ...(result.summary ? { summary: result.summary } : {}),
      };
      // What the model would be sent for this turn fits the budget.
      const sent = contextTokens(state, [prompt]);
      peak = Math.max(peak, sent);
      expect(sent, `turn ${turn}`).toBeLessThanOrEqual(budget);
      // The turn itself: the faux model answers at varying length.
      faux.setResponses([
        fauxAssistantMessage(`answer ${turn}: ${'reply words '.repeat(10 + (turn % 5) * 40)}`),
      ]);
      const answer = await completeSimple(model, { systemPrompt, messages: [...state.transcript, prompt] });
      expect(assistantText(answer)).toMatch(new RegExp(`^answer ${turn}:`));
      state = { ...state, transcript: [...state.transcript, prompt, answer] };
    }

    expect(compactions).toBeGreaterThan(10);
    expect(peak).toBeGreaterThan(budget / 2);
    // Old turns were folded into the summary, recent ones kept verbatim, starting at a user turn.
    const oldestKept = Number(/^turn (\d+)/.exec(String(state.transcript[0]?.content))?.[1]);
    expect(state.transcript[0]?.role).toBe('user');
    expect(state.summary).toContain(`Remembered turns up to ${oldestKept - 1}.`);
  });

  it('never cuts between a tool call and its result', () => {
    const call: Message = fauxAssistantMessage(
      [{ type: 'toolCall', id: 't1', name: 'lookup', arguments: { q: 'x'.repeat(2000) } }],
      { stopReason: 'toolUse' },
    );
    const result: Message = {
      role: 'toolResult',
      toolCallId: 't1',
      toolName: 'lookup',
      content: [{ type: 'text', text: 'y'.repeat(2000) }],
      isError: false,
      timestamp: 0,
    };
    const transcript: Message[] = [
      { role: 'user', content: 'first', timestamp: 0 },
      call,
      result,
      fauxAssistantMessage('done'),
      { role: 'user', content: 'second', timestamp: 0 },
      fauxAssistantMessage('ok'),
    ];
    const plan = planCompaction({ systemPrompt: '', transcript }, [], 800);
    expect(plan?.kept.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(plan?.older).toHaveLength(4);
  });

  it('leaves a conversation that fits untouched, without a model call', async () => {
    const state: ConversationState = {
      systemPrompt: 'hi',
      summary: 'old',
      transcript: [{ role: 'user', content: 'hello', timestamp: 0 }],
    };
    const result = await compactIfNeeded(state, [], 10_000, () => {
      throw new Error('must not summarise');
    });
    expect(result).toEqual({ transcript: state.transcript, summary: 'old', compacted: false });
  });

  describe('within one turn (fitWithinBudget, before each model call)', () => {
    const result = (n: number, chars: number): Message => ({
      role: 'toolResult',
      toolCallId: `c${n}`,
      toolName: 'read',
      content: [{ type: 'text', text: `r${n} ${'y'.repeat(chars)}` }],
      isError: false,
      timestamp: n,
    });
    const call = (n: number) =>
      fauxAssistantMessage([{ type: 'toolCall', id: `c${n}`, name: 'read', arguments: {} }], {
        stopReason: 'toolUse',
      });
    const prompt: Message = { role: 'user', content: 'read things', timestamp: 0 };
    const tokens = (ms: Message[]) => ms.reduce((n, m) => n + messageTokens(m), 0);

    it('sends the messages unchanged when they fit', () => {
      const messages = [prompt, call(1), result(1, 100)];
      expect(fitWithinBudget(messages, 100, 10_000)).toBe(messages);
    });

    it('leaves out the results of older calls first, oldest first, and keeps the newest whole if that is enough', () => {
      const messages = [prompt, call(1), result(1, 8000), call(2), result(2, 8000), call(3), result(3, 2000)];
      // Leaving out result 1 alone is not enough for 1,000 tokens; leaving out 1 and 2 is.
      const out = fitWithinBudget(messages, 100, 1000);
      expect(tokens(out) + 100).toBeLessThanOrEqual(1000);
      const text = (m: Message) =>
        m.role === 'toolResult' && m.content[0]?.type === 'text' ? m.content[0].text : '';
      expect(text(out[2]!)).toMatch(/^\[The result of read \(8003 characters\) was read earlier/);
      expect(text(out[4]!)).toMatch(/^\[The result of read/);
      expect(out[6]).toBe(messages[6]);
      // With more room, only the oldest is left out.
      const roomier = fitWithinBudget(messages, 100, 3000);
      expect(text(roomier[2]!)).toMatch(/^\[The result of read/);
      expect(roomier[4]).toBe(messages[4]);
      // Only what is sent changes: the turn's own messages are untouched.
      expect(text(messages[2]!)).toMatch(/^r1 y/);
    });

    it('cuts the newest results when leaving out older ones is not enough', () => {
      const messages = [prompt, call(1), result(1, 20_000), result(2, 20_000)];
      const out = fitWithinBudget(messages, 100, 4000);
      expect(tokens(out) + 100).toBeLessThanOrEqual(4100);
      for (const m of out.slice(2)) {
        expect(m.role === 'toolResult' && m.content[0]?.type === 'text' && m.content[0].text).toMatch(
          /more characters left out to fit the model's context window\]$/,
        );
      }
    });
  });
});

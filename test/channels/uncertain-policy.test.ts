// onUncertain on a platform that can neither deduplicate nor look its posts up (Telegram): the
// gateway dies at a random chunk, before or after the platform stored it (its call never returns,
// as a SIGKILL leaves it); the next gateway run retries the activity on the same outbox. Per policy:
// - skip (default): never twice; a chunk is missing only when the dead call never reached the
//   platform, and it is reported `uncertain` (and listed by the outbox as uncertain);
// - resend: never missing; a chunk is twice only when the dead call had reached the platform;
// - notice: as resend, the chunk sent again after the notice line.
import { MockActivityEnvironment } from '@temporalio/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChannelSender,
  chunkText,
  createChannelSendActivities,
  type SendToChannelInput,
  type SendToChannelResult,
  UNCERTAIN_NOTICE,
  type UncertainPolicy,
} from '../../activities/channel-send.js';
import { openDb } from '../../gateway/store/db.js';
import { Outbox } from '../../gateway/store/outbox.js';

type When = 'before-platform' | 'after-platform';
const LIMIT = 60;
const KEY = 'turn:t:reply';

function telegramLike(policy: UncertainPolicy) {
  const posted: string[] = [];
  let death: { key: string; when: When } | undefined;
  let died!: () => void;
  const hung = new Promise<'died'>((resolve) => {
    died = () => resolve('died');
  });
  const hang = () => {
    died();
    return new Promise<never>(() => {});
  };
  const sender: ChannelSender = {
    channel: 'telegram',
    accountId: 'default',
    textLimit: LIMIT,
    onUncertain: policy,
    async send(_chat, text, opts) {
      if (death && death.key === opts?.idempotencyKey && death.when === 'before-platform') return hang();
      posted.push(text);
      if (death && death.key === opts?.idempotencyKey && death.when === 'after-platform') return hang();
      return { messageId: String(posted.length) };
    },
  };
  return {
    sender,
    posted,
    hung,
    dieAt(key: string | undefined, when: When) {
      death = key === undefined ? undefined : { key, when };
    },
  };
}

const TEXT = (chunks: number) =>
  Array.from(
    { length: chunks },
    (_, i) => `Chunk ${i} of the answer, long enough to need its own message.`,
  ).join(' ');

async function trial(policy: UncertainPolicy, chunks: number, death: { chunk: number; when: When }) {
  const p = telegramLike(policy);
  const db = openDb(':memory:');
  const input: SendToChannelInput = {
    channel: 'telegram',
    accountId: 'default',
    chatId: 'c',
    text: TEXT(chunks),
    idempotencyKey: KEY,
  };
  const expected = chunkText(input.text, LIMIT);
  p.dieAt(`${KEY}:${death.chunk}`, death.when);
  const first = await Promise.race([
    new MockActivityEnvironment({ attempt: 1 }).run(
      createChannelSendActivities({ outbox: new Outbox(db, { runId: 'run-1' }), senders: [p.sender] })
        .sendToChannel,
      input,
    ) as Promise<SendToChannelResult>,
    p.hung,
  ]);
  p.dieAt(undefined, 'before-platform');
  const second = (await new MockActivityEnvironment({ attempt: 2 }).run(
    createChannelSendActivities({ outbox: new Outbox(db, { runId: 'run-2' }), senders: [p.sender] })
      .sendToChannel,
    input,
  )) as SendToChannelResult;
  const listed = new Outbox(db, { runId: 'cli' }).uncertain();
  db.close();
  return { first, second, posted: p.posted, expected, listed };
}

const cases = fc.integer({ min: 1, max: 4 }).chain((chunks) =>
  fc.record({
    chunks: fc.constant(chunks),
    death: fc.record({
      chunk: fc.integer({ min: 0, max: chunks - 1 }),
      when: fc.constantFrom<When>('before-platform', 'after-platform'),
    }),
  }),
);
const RUNS = 60;

describe('onUncertain: a gateway killed between the outbox claim and the platform answer', () => {
  it(`skip: never twice; what may be missing is reported uncertain and listed (${RUNS} trials)`, async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ chunks, death }) => {
        const t = await trial('skip', chunks, death);
        expect(t.first).toBe('died');
        expect(new Set(t.posted).size).toBe(t.posted.length);
        const missing = t.expected.filter((c) => !t.posted.includes(c));
        expect(missing).toEqual(death.when === 'before-platform' ? [t.expected[death.chunk]] : []);
        expect(t.second.uncertain).toEqual([death.chunk]);
        expect(t.second.onUncertain).toBe('skip');
        expect(t.listed.map((r) => [r.key, r.state])).toEqual([[`${KEY}:${death.chunk}`, 'uncertain']]);
      }),
      { numRuns: RUNS },
    );
  });

  it(`resend: never missing; twice only when the dead call had reached the platform (${RUNS} trials)`, async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ chunks, death }) => {
        const t = await trial('resend', chunks, death);
        for (const c of t.expected) expect(t.posted).toContain(c);
        expect(t.posted.length).toBe(t.expected.length + (death.when === 'after-platform' ? 1 : 0));
        expect(t.second.uncertain).toEqual([]);
        expect(t.second.resent).toEqual([death.chunk]);
        expect(t.second.messageIds).toHaveLength(t.expected.length);
        expect(t.listed).toHaveLength(1);
        expect(t.listed[0]).toMatchObject({ state: 'sent', recovered: expect.stringMatching(/^resend: /) });
      }),
      { numRuns: RUNS },
    );
  });

  it(`notice: never missing; the chunk sent again follows "${UNCERTAIN_NOTICE}" (${RUNS} trials)`, async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ chunks, death }) => {
        const t = await trial('notice', chunks, death);
        const chunk = t.expected[death.chunk]!;
        const noticed = `${UNCERTAIN_NOTICE}\n\n${chunk}`;
        const again = noticed.length <= LIMIT ? [noticed] : [UNCERTAIN_NOTICE, chunk];
        expect(t.posted.slice(-again.length - (t.expected.length - death.chunk - 1))).toEqual([
          ...again,
          ...t.expected.slice(death.chunk + 1),
        ]);
        for (const c of t.expected) expect(t.posted.some((p) => p.endsWith(c))).toBe(true);
        expect(t.second.resent).toEqual([death.chunk]);
        expect(t.listed[0]).toMatchObject({ state: 'sent', recovered: expect.stringMatching(/^notice: /) });
      }),
      { numRuns: RUNS },
    );
  });
});

// The send activity with platforms that settle a chunk of unknown outcome case by case
// (ChannelSender.recover), under gateway deaths at random moments. A "gateway run" is one
// activities instance over one outbox run id; a death is a platform call that never returns
// (its run is abandoned mid-call, as a SIGKILL leaves it), before or after the platform stored
// the message; the next run retries the activity on the same database.
// - Slack-like (no idempotent post, finds its own post by key): never twice; a chunk is
//   missing only when the dead call never reached the platform, and then it is reported uncertain.
// - Discord-like (drops a repeated nonce for a while): exactly once while the retry comes
//   within the window; later, never twice and reported uncertain.
// - WhatsApp-like (dedupesById: a message id the sender chose is kept once per chat): exactly once.
import { MockActivityEnvironment } from '@temporalio/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChannelSender,
  chunkText,
  createChannelSendActivities,
  type SendRecovery,
  type SendToChannelInput,
  type SendToChannelResult,
} from '../../activities/channel-send.js';
import { recoverDiscordChunk } from '../../channels/discord/send.js';
import { openDb } from '../../gateway/store/db.js';
import { Outbox } from '../../gateway/store/outbox.js';

type Death = { chunk: number; when: 'before-platform' | 'after-platform' } | undefined;

interface Posted {
  key: string;
  text: string;
}

/** A chat platform keeping what was posted; `dies` makes one call of the current run hang forever. */
function platform(kind: 'slack' | 'discord' | 'whatsapp', clock: { now: number }, windowMs: number) {
  const posted: Posted[] = [];
  const firstNonceUse = new Map<string, number>();
  let death: { key: string; when: 'before-platform' | 'after-platform' } | undefined;
  let died!: () => void;
  const hung = new Promise<'died'>((resolve) => {
    died = () => resolve('died');
  });
  const hang = () => {
    died();
    return new Promise<never>(() => {});
  };
  const sender: ChannelSender = {
    channel: kind,
    accountId: 'default',
    textLimit: 20,
    ...(kind === 'whatsapp' ? { dedupesById: true } : {}),
    async send(_chat, text, opts) {
      const key = opts?.idempotencyKey ?? '';
      if (death?.key === key && death.when === 'before-platform') return hang();
      let id = `${posted.length}`;
      const seen = firstNonceUse.get(key);
      const deduped =
        (kind === 'discord' && seen !== undefined && clock.now - seen <= windowMs) ||
        (kind === 'whatsapp' && seen !== undefined);
      if (deduped) id = String(posted.findIndex((p) => p.key === key));
      else {
        posted.push({ key, text });
        if (seen === undefined) firstNonceUse.set(key, clock.now);
      }
      if (death?.key === key && death.when === 'after-platform') return hang();
      return { messageId: id };
    },
    recover:
      kind === 'whatsapp'
        ? undefined
        : async (chunk): Promise<SendRecovery> => {
            if (kind === 'discord') return recoverDiscordChunk(chunk, clock.now);
            const found = posted.findIndex((p) => p.key === chunk.key);
            return found >= 0
              ? { kind: 'sent', messageId: String(found) }
              : { kind: 'unknown', reason: 'not found' };
          },
  };
  return {
    sender,
    posted,
    /** Settles when a call of this platform hung: its gateway run is dead. */
    hung,
    dieAt(key: string | undefined, when: 'before-platform' | 'after-platform') {
      death = key === undefined ? undefined : { key, when };
    },
  };
}

const TEXT = (chunks: number) =>
  Array.from({ length: chunks }, (_, i) => `chunk${i}word words`)
    .join(' ')
    .trim();

/** One gateway run of the activity; 'died' when it hung in a platform call (abandoned, as a SIGKILL leaves it). */
async function runOnce(
  activities: ReturnType<typeof createChannelSendActivities>,
  input: SendToChannelInput,
  attempt: number,
  hung: Promise<'died'>,
): Promise<SendToChannelResult | 'died'> {
  const run = new MockActivityEnvironment({ attempt }).run(
    activities.sendToChannel,
    input,
  ) as Promise<SendToChannelResult>;
  return Promise.race([run, hung]);
}

async function trial(
  kind: 'slack' | 'discord' | 'whatsapp',
  chunks: number,
  death: Death,
  retryAfterMs: number,
) {
  const clock = { now: 1_000_000 };
  const windowMs = 120_000;
  const p = platform(kind, clock, windowMs);
  const db = openDb(':memory:');
  const input: SendToChannelInput = {
    channel: kind,
    accountId: 'default',
    chatId: 'chat',
    text: TEXT(chunks),
    idempotencyKey: 'turn:t:reply',
  };
  const expected = chunkText(input.text, 20);
  const outboxOf = (runId: string) => new Outbox(db, { runId, now: () => clock.now });
  if (death) p.dieAt(`turn:t:reply:${death.chunk}`, death.when);
  const first = await runOnce(
    createChannelSendActivities({ outbox: outboxOf('run-1'), senders: [p.sender] }),
    input,
    1,
    p.hung,
  );
  p.dieAt(undefined, 'before-platform');
  clock.now += retryAfterMs;
  // Only the first run dies: the retry's calls all answer.
  const second = await runOnce(
    createChannelSendActivities({ outbox: outboxOf('run-2'), senders: [p.sender] }),
    input,
    2,
    new Promise<never>(() => {}),
  );
  db.close();
  return { first, second, posted: p.posted, expected };
}

describe('sendToChannel with recover, the gateway dying at random moments', () => {
  const deathArb = (chunks: number) =>
    fc.option(
      fc.record({
        chunk: fc.integer({ min: 0, max: chunks - 1 }),
        when: fc.constantFrom('before-platform' as const, 'after-platform' as const),
      }),
      { nil: undefined },
    );
  const scenario = fc
    .integer({ min: 1, max: 4 })
    .chain((chunks) =>
      fc.tuple(fc.constant(chunks), deathArb(chunks), fc.integer({ min: 1_000, max: 300_000 })),
    );

  it('Slack-like: never posts a chunk twice; a chunk is missing only if it never reached Slack, and then it is reported', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([chunks, death, retryAfterMs]) => {
        const { first, second, posted, expected } = await trial('slack', chunks, death, retryAfterMs);
        const keys = posted.map((x) => x.key);
        expect(new Set(keys).size).toBe(keys.length);
        expect(second).not.toBe('died');
        const result = second as SendToChannelResult;
        expect(first === 'died').toBe(death !== undefined);
        if (!death) {
          expect(posted.map((x) => x.text)).toEqual(expected);
          return;
        }
        const lost = death.when === 'before-platform' ? [death.chunk] : [];
        expect(result.uncertain).toEqual(lost);
        expect(posted.map((x) => x.text)).toEqual(expected.filter((_, i) => !lost.includes(i)));
      }),
      { numRuns: 150 },
    );
  });

  it('Discord-like: exactly once when the retry comes within the nonce window; never twice after it', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([chunks, death, retryAfterMs]) => {
        const { second, posted, expected } = await trial('discord', chunks, death, retryAfterMs);
        const keys = posted.map((x) => x.key);
        expect(new Set(keys).size).toBe(keys.length);
        const result = second as SendToChannelResult;
        expect(second).not.toBe('died');
        if (!death || retryAfterMs <= 120_000) {
          expect(result.uncertain).toEqual([]);
          expect(posted.map((x) => x.text)).toEqual(expected);
          return;
        }
        // Too late for the platform to drop a repeat: the chunk is not sent again, and said so.
        expect(result.uncertain).toEqual([death.chunk]);
        const lost = death.when === 'before-platform' ? [death.chunk] : [];
        expect(posted.map((x) => x.text)).toEqual(expected.filter((_, i) => !lost.includes(i)));
      }),
      { numRuns: 150 },
    );
  });

  it('WhatsApp-like: exactly once, however late the retry comes', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([chunks, death, retryAfterMs]) => {
        const { first, second, posted, expected } = await trial('whatsapp', chunks, death, retryAfterMs);
        expect(first === 'died').toBe(death !== undefined);
        expect(second).not.toBe('died');
        expect((second as SendToChannelResult).uncertain).toEqual([]);
        expect(posted.map((x) => x.text)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });
});
